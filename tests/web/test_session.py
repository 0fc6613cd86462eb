"""Sign-in for people on the tiny street: /login, the session cookie, CSRF, lock-out; bearer tokens unchanged."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends
from tests.tiny import GA1, GB1
from tests.web.signin import BROWSER, login_token, sign_in, signed_in

REPORT = {"lat": "40.8011", "long": "114.8808", "service_code": "garbage", "description": "楼道堆物"}  # grid A1


@pytest.fixture
def app(app_with):
    return app_with(TOKENS=json.dumps([{"role": "staff", "token": "machine-token"}]))


def new_incident(app) -> str:
    r = app.test_client().post("/open311/v2/requests.json", data=REPORT)
    assert r.status_code == 201
    return r.json[0]["service_request_id"]


def stage_of(app, rid) -> str:
    return app.extensions["twin"].incidents.get(rid)["stage"]


def message(resp) -> str:
    return re.search(r'id="login-message"[^>]*>([^<]+)<', resp.get_data(as_text=True)).group(1)


def test_sign_in_shows_who_and_acts_with_the_csrf_token(app):
    rid = new_incident(app)
    c = signed_in(app, "clerk", "staff", grids=[GA1])
    page = c.get("/dashboard").get_data(as_text=True)
    assert 'data-name="clerk"' in page and 'data-role="staff"' in page
    config = json.loads(re.search(r'id="twin-config" type="application/json">(.*?)</script>', page).group(1))
    assert config["user"] == {"name": "clerk", "role": "staff", "grids": [GA1]}
    cookie = c.get_cookie("twin_session")
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.expires is not None
    r = c.post(f"/api/incidents/{rid}/actions", json={"action": "accept"}, headers=c.csrf)
    assert r.status_code == 200, r.json
    assert stage_of(app, rid) == "accepted"
    history = app.extensions["twin"].incidents.history(rid)
    assert history[-1]["actor"] == "clerk"


def test_public_page_has_a_sign_in_link_and_no_session(app):
    c = app.test_client()
    page = c.get("/dashboard").get_data(as_text=True)
    assert 'id="twin-login"' in page and "csrf-token" not in page
    assert c.get_cookie("twin_session") is None


def test_wrong_password_says_so_and_the_tenth_wrong_try_is_locked_out(app):
    app.extensions["accounts"].add("clerk", "staff", "right-pass-1")
    c = app.test_client()
    for i in range(1, 10):
        r = sign_in(c, "clerk", f"wrong-{i}")
        assert r.status_code == 401
        assert message(r) == f"用户名或密码错误（还可尝试 {10 - i} 次）"
    r = sign_in(c, "clerk", "wrong-10")
    assert r.status_code == 429 and "已锁定" in message(r)
    r = sign_in(c, "clerk", "right-pass-1")  # locked: even the right password is refused now
    assert r.status_code == 429 and c.get_cookie("twin_session") is not None
    assert c.get("/api/alerts").status_code == 401  # still nobody


def test_one_address_trying_many_names_is_locked_out(app):
    c = app.test_client()
    for i in range(9):
        assert sign_in(c, f"nobody{i}", "whatever-1").status_code == 401
    assert sign_in(c, "nobody9", "whatever-1").status_code == 429


def test_english_message_and_a_disabled_account(app):
    app.extensions["accounts"].add("gone", "staff", "right-pass-1")
    app.extensions["accounts"].set_disabled("gone")
    c = app.test_client()
    r = c.post(
        "/login?lang=en",
        data={"name": "gone", "password": "right-pass-1", "csrf_token": login_token(c)},
        headers=BROWSER,
    )
    assert r.status_code == 403 and message(r) == "This account is disabled; ask an administrator"
    data = {"name": "gone", "password": "x-wrong-1", "csrf_token": login_token(c)}
    r = c.post("/login?lang=en", data=data, headers=BROWSER)
    assert message(r) == "Wrong name or password (9 tries left)"


def test_login_without_its_csrf_token_is_refused(app):
    app.extensions["accounts"].add("clerk", "staff", "right-pass-1")
    c = app.test_client()
    c.get("/login")
    r = c.post("/login", data={"name": "clerk", "password": "right-pass-1"}, headers=BROWSER)
    assert r.status_code == 400 and "页面已过期" in message(r)
    r = c.post("/login", data={"name": "clerk", "password": "right-pass-1"})  # not a browser: the JSON error
    assert r.status_code == 400 and r.json["details"]["reason"] == "csrf" and c.get_cookie("twin_session")


def test_api_clients_get_json_errors_from_login(app):
    app.extensions["accounts"].add("clerk", "staff", "right-pass-1")
    c = app.test_client()
    for i in range(9):
        r = c.post("/login", data={"name": "clerk", "password": "bad-pass-x", "csrf_token": login_token(c)})
        assert r.status_code == 401 and r.json["details"]["tries_left"] == 9 - i
    r = c.post("/login", data={"name": "clerk", "password": "bad-pass-x", "csrf_token": login_token(c)})
    assert r.status_code == 403 and r.json["details"]["reason"] == "locked"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no token
        {"X-CSRF-Token": "forged"},
        {"Origin": "https://evil.example"},  # with the right token, but from another site (set below)
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cookie_state_changes_without_token_or_from_another_site_are_refused(app, headers):
    rid = new_incident(app)
    c = signed_in(app, "clerk", "staff")
    if "Origin" in headers or "Sec-Fetch-Site" in headers:
        headers = {**headers, **c.csrf}
    r = c.post(f"/api/incidents/{rid}/actions", json={"action": "accept"}, headers=headers)
    assert r.status_code == 403 and r.json["code"] == "forbidden"
    assert r.json["details"]["reason"] in ("csrf", "cross_site")
    assert stage_of(app, rid) == "reported"
    r = c.post("/logout", data={})  # signing out is a state change too
    assert r.status_code == 403 and c.get("/api/alerts").status_code == 200


def test_forged_and_expired_sessions_are_nobody(app):
    rid = new_incident(app)
    c = signed_in(app, "clerk", "staff")
    good = c.get_cookie("twin_session").value
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    c.set_cookie("twin_session", forged)
    r = c.post(f"/api/incidents/{rid}/actions", json={"action": "accept"}, headers=c.csrf)
    assert r.status_code == 401 and r.json["code"] == "unauthorized"
    # a correctly signed cookie whose sign-in ended (what the server issued SESSION_HOURS ago)
    serializer = app.session_interface.get_signing_serializer(app)
    payload = serializer.loads(good)
    payload["exp"] = time.time() - 1
    c.set_cookie("twin_session", serializer.dumps(payload))
    r = c.post(f"/api/incidents/{rid}/actions", json={"action": "accept"}, headers=c.csrf)
    assert r.status_code == 401
    assert stage_of(app, rid) == "reported"
    page = c.get("/work")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")


def test_disabling_an_account_or_a_new_password_ends_its_sessions(app):
    c = signed_in(app, "clerk", "staff")
    assert c.get("/api/alerts").status_code == 200
    app.extensions["accounts"].set_password("clerk", "another-pass-2")
    assert c.get("/api/alerts").status_code == 401


def test_logout_ends_the_session(app):
    c = signed_in(app, "clerk", "staff")
    r = c.post("/logout", headers=c.csrf)
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert c.get("/api/alerts").status_code == 401


def test_next_is_only_ever_a_local_path(app):
    app.extensions["accounts"].add("head", "admin", "right-pass-1")
    c = app.test_client()
    for nxt, where in (("//evil.example/x", "/work"), ("https://evil.example", "/work"), ("/planner", "/planner")):
        r = c.post(
            "/login", data={"name": "head", "password": "right-pass-1", "next": nxt, "csrf_token": login_token(c)}
        )
        assert r.status_code == 303 and r.headers["Location"] == where


def test_bearer_tokens_work_as_before_and_need_no_csrf(app):
    rid = new_incident(app)
    r = app.test_client().post(
        f"/api/incidents/{rid}/actions", json={"action": "accept"}, headers={"Authorization": "Bearer machine-token"}
    )
    assert r.status_code == 200 and stage_of(app, rid) == "accepted"


def test_staff_see_care_incidents_of_their_grid_on_the_wall(app):
    twin = app.extensions["twin"]
    twin.incidents.create({"category": "sos", "household_id": "H1", "source": "sensor"}, actor="t")  # B1, grid A1
    public = app.test_client().get("/api/dashboard/incidents.bin").data
    mine = signed_in(app, "a1", "staff", grids=[GA1]).get("/api/dashboard/incidents.bin").data
    other = signed_in(app, "b1", "staff", grids=[GB1]).get("/api/dashboard/incidents.bin").data

    def count(blob):
        return json.loads(blob[8 : 8 + int.from_bytes(blob[4:8], "little")])["count"]

    assert count(mine) == count(public) + 1 and count(other) == count(public)


def test_a_restart_or_another_process_keeps_sessions_with_the_generated_key(app, app_with, tmp_path, backend):
    c = signed_in(app, "clerk", "staff")
    assert len(app.secret_key) == 64
    if backend == "embedded":  # kept in the state directory; on PostgreSQL in the office's meta row
        key = tmp_path / "state" / "secret_key"
        assert key.read_text() == app.secret_key and key.stat().st_mode & 0o077 == 0
    else:
        assert not (tmp_path / "state" / "secret_key").exists()
    again = app_with()  # the same store, as after a restart or in a second process
    c2 = again.test_client()
    c2.set_cookie("twin_session", c.get_cookie("twin_session").value)
    assert c2.get("/api/alerts").status_code == 200
    other = app_with(SECRET_KEY="configured-elsewhere")
    c3 = other.test_client()
    c3.set_cookie("twin_session", c.get_cookie("twin_session").value)
    assert c3.get("/api/alerts").status_code == 401
