"""Open311 GeoReport v2 intake and staff actions over HTTP, on the tiny street; bad input stores nothing."""

import json
import re
from pathlib import Path

import pytest

from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends
from tests.tiny import GA1, GB1
from web import create_app

STAFF, ADMIN, LIMITED = "staff-token", "admin-token", "limited-token"
TOKENS = json.dumps(
    [
        {"role": "staff", "token": STAFF, "name": "李网格"},
        {"role": "admin", "token": ADMIN},
        {"role": "staff", "token": LIMITED, "grids": [GB1], "name": "赵网格"},
    ]
)
GOOD = {
    "lat": "40.8011",
    "long": "114.8808",
    "service_code": "garbage",
    "description": "3号楼道堆满杂物",
    "first_name": "小明",
    "last_name": "王",
    "phone": "13800001111",
    "email": "wang@example.cn",
}


@pytest.fixture
def app(app_config):
    return create_app({**app_config, "TOKENS": TOKENS})


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def post(client, data=None, **kw):
    return client.post("/open311/v2/requests.json", data=GOOD if data is None else data, **kw)


def test_services_in_chinese_and_english(client):
    zh = client.get("/open311/v2/services.json").get_json()
    g = next(s for s in zh if s["service_code"] == "garbage")
    assert g["service_name"] == "垃圾杂物堆放" and g["metadata"] is False and g["type"] == "realtime"
    assert g["group"] == "环境卫生" and "无垃圾杂物" in g["description"]
    assert "care_visit" not in {s["service_code"] for s in zh}
    en = client.get("/open311/v2/services.json?lang=en").get_json()
    assert next(s for s in en if s["service_code"] == "garbage")["service_name"] == "Garbage and clutter"
    assert client.get("/open311/v2/services/garbage.json").get_json() == {"service_code": "garbage", "attributes": []}


def test_post_then_read_back(client, app):
    r = post(client)
    assert r.status_code == 201
    [ack] = r.get_json()
    rid = ack["service_request_id"]
    assert "东风一网格" in ack["service_notice"]
    [got] = client.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert got["status"] == "open" and got["service_code"] == "garbage" and got["lat"] == 40.8011
    assert got["status_notes"] == "已上报" and got["agency_responsible"] == "东风一网格"
    ext = got["extended_attributes"]
    assert ext["stage"] == "reported" and ext["grid_code"] == GA1 and ext["compound_id"] == "C1"
    assert ext["worker"] == "李网格" and ext["building_id"] == "B1"
    assert got["expected_datetime"].endswith("+08:00")  # the accept limit, in the office's time zone
    # public callers never see contact fields; staff of the grid do
    assert "contact_phone" not in ext and "王" not in json.dumps(got, ensure_ascii=False).replace("王网格", "")
    [staff] = client.get(f"/open311/v2/requests/{rid}.json", headers=auth(STAFF)).get_json()
    assert staff["extended_attributes"]["contact_phone"] == "13800001111"
    assert staff["extended_attributes"]["contact_name"] == "小明 王"
    [other] = client.get(f"/open311/v2/requests/{rid}.json", headers=auth(LIMITED)).get_json()
    assert "contact_phone" not in other["extended_attributes"]
    lst = client.get("/open311/v2/requests.json").get_json()
    assert [x["service_request_id"] for x in lst] == [rid]
    assert "contact_phone" not in lst[0]["extended_attributes"]


def test_json_body_is_accepted(client, app):
    r = client.post("/open311/v2/requests.json", json=GOOD)
    assert r.status_code == 201
    [ack] = r.get_json()
    stored_row = app.extensions["twin"].incidents.get(ack["service_request_id"])
    assert stored_row["category"] == GOOD["service_code"] and stored_row["grid_code"] == GA1
    assert stored_row["description"] == GOOD["description"] and stored(app) == 1


def test_list_filters_and_paging(client):
    ids = [
        post(client, dict(GOOD, service_code=c)).get_json()[0]["service_request_id"]
        for c in ("garbage", "parking", "garbage", "lighting")
    ]
    q = lambda s: [x["service_request_id"] for x in client.get("/open311/v2/requests.json" + s).get_json()]  # noqa
    assert set(q("?service_code=garbage")) == {ids[0], ids[2]}
    assert set(q("?service_code=garbage,lighting")) == {ids[0], ids[2], ids[3]}
    assert q("?page_size=3") == ids[::-1][:3] and q("?page_size=3&page=2") == [ids[0]]
    assert q(f"?service_request_id={ids[1]},{ids[3]}") == [ids[3], ids[1]]
    assert len(q("?status=open")) == 4 and q("?status=closed") == []
    assert q("?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    r = client.get("/open311/v2/requests.json?status=pending")
    assert r.status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests/GD0.json").status_code == 404


def test_staff_actions_and_closed_status(client):
    rid = post(client).get_json()[0]["service_request_id"]
    act = lambda token, **f: client.post(f"/api/incidents/{rid}/actions", data=f, headers=auth(token))  # noqa
    assert client.post(f"/api/incidents/{rid}/actions", data={"action": "accept"}).status_code == 401
    assert act(LIMITED, action="accept").status_code == 403  # grid A1 is not among the limited staff's grids
    r = act(STAFF, action="resolve")
    assert r.status_code == 409 and r.get_json()["code"] == "conflict"
    for a in ("accept", "arrive", "resolve"):
        assert act(STAFF, action=a).status_code == 200
    r = act(STAFF, action="close", rating="5", note="回访满意")
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    assert r.get_json()["extended_attributes"]["rating"] == 5
    assert act(STAFF, action="close").status_code == 409
    assert act(STAFF, action="fly").status_code == 400
    h = client.get(f"/api/incidents/{rid}/history", headers=auth(ADMIN)).get_json()
    assert [e["action"] for e in h] == ["report", "accept", "arrive", "resolve", "close"]
    assert h[-1]["actor"] == "李网格" and h[-1]["note"] == "回访满意"
    assert client.get(f"/api/incidents/{rid}/history").status_code == 401
    [got] = client.get("/open311/v2/requests.json?status=closed").get_json()
    assert got["service_request_id"] == rid


BAD = [
    ("missing lat", {k: v for k, v in GOOD.items() if k != "lat"}, "lat"),
    ("missing long", {k: v for k, v in GOOD.items() if k != "long"}, "long"),
    ("non-numeric lat", dict(GOOD, lat="north"), "lat"),
    ("non-numeric long", dict(GOOD, long="1e400"), "long"),
    ("outside the street", dict(GOOD, lat="39.9", long="116.4"), "lat"),
    ("unknown service_code", dict(GOOD, service_code="unicorn"), "service_code"),
    ("internal service_code", dict(GOOD, service_code="care_visit"), "service_code"),
    ("description too long", dict(GOOD, description="长" * 4001), "description"),
    ("javascript media_url", dict(GOOD, media_url="javascript:alert(1)"), "media_url"),
    ("bad email", dict(GOOD, email="not-an-address"), "contact_email"),
    ("control character", dict(GOOD, description="漏水\x0b严重"), "description"),
]


@pytest.mark.parametrize("case,data,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_400_and_stores_nothing(client, app, case, data, field):
    r = post(client, data)
    assert r.status_code == 400
    err = r.get_json()
    assert err["status"] == 400 and err["code"] == "invalid_input" and err["message"]
    assert err["details"]["field"] == field
    assert app.extensions["twin"].incidents.store.count() == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "lat=40.8011&long=114.8808&service_code=garbage", "content_type": "text/plain"},
        {"data": b"\x00\x01", "content_type": "application/octet-stream"},
        {"data": "{not json", "content_type": "application/json"},
        {"data": "[1, 2]", "content_type": "application/json"},
    ],
)
def test_body_that_is_not_form_or_json(client, app, kwargs):
    r = client.post("/open311/v2/requests.json", **kwargs)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_input"
    assert app.extensions["twin"].incidents.store.count() == 0


def stored(app):
    return app.extensions["twin"].incidents.store.count()


@pytest.mark.parametrize(
    "case,data,field",
    [
        ("lat true", dict(GOOD, lat=True), "lat"),
        ("lat null", dict(GOOD, lat=None), "lat"),
        ("long NaN", dict(GOOD, long="NaN"), "long"),
        ("description a number", dict(GOOD, description=12345), "description"),
        ("description a list", dict(GOOD, description=["a", "b"]), "description"),
        ("service_code an object", dict(GOOD, service_code={"x": 1}), "service_code"),
    ],
)
def test_bad_json_fields_are_400_and_store_nothing(client, app, case, data, field):
    r = client.post("/open311/v2/requests.json", json=data)
    assert r.status_code == 400 and r.mimetype == "application/json"
    assert r.get_json()["details"]["field"] == field
    assert stored(app) == 0


def test_description_limit_is_4000_characters(client, app):
    assert post(client, dict(GOOD, description="长" * 4001)).status_code == 400
    assert stored(app) == 0
    r = post(client, dict(GOOD, description="长" * 4000))
    assert r.status_code == 201 and stored(app) == 1
    [got] = client.get(f"/open311/v2/requests/{r.get_json()[0]['service_request_id']}.json").get_json()
    assert got["description"] == "长" * 4000


def test_text_with_markup_characters_is_stored_and_returned_as_plain_text(client, app):
    text = "水温<5度 & 管道 \"冻裂\" 'a>b' 1<2"  # angle brackets and quotes that are not markup
    r = post(client, dict(GOOD, description=text))
    assert r.status_code == 201
    rid = r.get_json()[0]["service_request_id"]
    got = client.get(f"/open311/v2/requests/{rid}.json")
    assert got.mimetype == "application/json"  # a JSON string, never an HTML page
    assert got.get_json()[0]["description"] == text
    assert "&lt;" not in got.get_data(as_text=True)  # stored as typed, not entity-encoded
    assert app.extensions["twin"].incidents.get(rid)["description"] == text


def test_errors_that_echo_input_are_json_not_html(client, app):
    r = post(client, dict(GOOD, service_code="<script>alert(1)</script>"))
    assert r.status_code == 400 and r.mimetype == "application/json"
    assert r.get_json()["details"]["field"] == "service_code" and stored(app) == 0


ILLEGAL = [  # (actions done first, illegal action, stage it is refused in)
    ((), "arrive", "reported"),
    ((), "resolve", "reported"),
    ((), "close", "reported"),
    ((), "reopen", "reported"),
    (("accept",), "accept", "accepted"),
    (("accept",), "close", "accepted"),
    (("accept", "arrive", "resolve", "close"), "escalate", "closed"),
    (("accept", "arrive", "resolve", "close"), "resolve", "closed"),
    (("escalate", "escalate"), "escalate", "reported"),  # already with the departments
]


@pytest.mark.parametrize(
    "done,action,stage", ILLEGAL, ids=[f"{a}-when-{s}-after-{'+'.join(d) or 'report'}" for d, a, s in ILLEGAL]
)
def test_illegal_transition_is_409_and_changes_nothing(client, app, done, action, stage):
    rid = post(client).get_json()[0]["service_request_id"]
    for a in done:
        assert client.post(f"/api/incidents/{rid}/actions", data={"action": a}, headers=auth(STAFF)).status_code == 200
    before = client.get(f"/open311/v2/requests/{rid}.json", headers=auth(STAFF)).get_json()
    n_events = len(app.extensions["twin"].incidents.history(rid))
    r = client.post(f"/api/incidents/{rid}/actions", data={"action": action, "note": "试试"}, headers=auth(STAFF))
    assert r.status_code == 409
    err = r.get_json()
    assert err["code"] == "conflict" and err["status"] == 409 and action in err["message"]
    assert err["details"]["id"] == rid
    assert client.get(f"/open311/v2/requests/{rid}.json", headers=auth(STAFF)).get_json() == before
    assert before[0]["extended_attributes"]["stage"] == stage
    assert len(app.extensions["twin"].incidents.history(rid)) == n_events


# Writing HTML from data is how a stored description would be rendered as markup: pages set textContent. The DOM's
# HTML sinks are refused outright (clearing with innerHTML = "" is harmless); deck.gl {html} tooltips are built
# with template strings, so an incident's free text interpolated into one must go through an esc() helper.
DOM_SINKS = re.compile(
    r"\.(?:inner|outer)HTML\s*[+]?=(?!\s*(?:\"\"|''|``)\s*;)|insertAdjacentHTML|document\.write"
    r"|\|\s*safe\b"
)
FREE_TEXT = re.compile(
    r"\$\{(?!\s*(?:Twin\.)?esc\()[^}]*\b(?:description|status_notes|service_notice|contact_\w+|note)\b"
)


def test_pages_never_write_incident_text_as_html():
    web = Path(__file__).resolve().parents[2] / "web"
    files = [p for p in (web / "static").rglob("*") if p.suffix in (".js", ".html")]
    files += list((web / "templates").rglob("*.html"))
    assert files, "no page sources found"
    hits = [
        f"{p.relative_to(web)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if DOM_SINKS.search(line) or FREE_TEXT.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize(
    "line,bad",
    [
        ("el.innerHTML = item.description;", True),
        ('el.innerHTML = "";', False),
        ("{{ row.description | safe }}", True),
        ("html: `<b>${p.description}</b>`", True),
        ("html: `<b>${esc(p.description)}</b>`", False),
        ("el.textContent = p.description;", False),
        ("node.insertAdjacentHTML('beforeend', s)", True),
    ],
)
def test_the_page_scan_recognises_html_sinks(line, bad):
    assert bool(DOM_SINKS.search(line) or FREE_TEXT.search(line)) is bad


@pytest.mark.parametrize("kind", ["form", "json"])
def test_an_oversized_body_is_413_and_stores_nothing(client, app, kind):
    big = dict(GOOD, media_url="https://example.cn/" + "a" * 300_000)
    r = post(client, big) if kind == "form" else client.post("/open311/v2/requests.json", json=big)
    assert r.status_code == 413 and r.mimetype == "application/json" and r.get_json()["status"] == 413
    assert stored(app) == 0
