"""The work queue API on the tiny street: grid scope, filters, urgency order, detail, actions, duplicates, alerts."""

from __future__ import annotations

import json
import time

import pytest

from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends
from tests.tiny import GA1, GB1
from tests.web.signin import signed_in

A1 = {"lat": "40.8011", "long": "114.8808"}  # beside B1, grid A1
B1 = {"lat": "40.8011", "long": "114.8851"}  # beside B4, grid B1


@pytest.fixture
def app(app_with):
    # parking is overdue at once
    return app_with(SENSOR_KEYS="sensor-key", DEADLINES=json.dumps({"parking": {"accept": 0.001}}))


def report(app, where, code="garbage", **extra):
    r = app.test_client().post("/open311/v2/requests.json", data={**where, "service_code": code, **extra})
    assert r.status_code == 201, r.json
    return r.json[0]


def ids(resp):
    assert resp.status_code == 200, resp.json
    return [i["id"] for i in resp.json["items"]]


def test_staff_of_one_grid_see_and_act_only_there(app):
    a = report(app, A1)["service_request_id"]
    b = report(app, B1)["service_request_id"]
    mine = signed_in(app, "a1", "staff", grids=[GA1])
    assert ids(mine.get("/api/work")) == [a]
    assert ids(mine.get(f"/api/work?grid={GB1}")) == []
    assert mine.get(f"/api/work/{b}").status_code == 403
    r = mine.post(f"/api/incidents/{b}/actions", json={"action": "accept"}, headers=mine.csrf)
    assert r.status_code == 403 and app.extensions["twin"].incidents.get(b)["stage"] == "reported"
    head = signed_in(app, "head", "admin")
    assert sorted(ids(head.get("/api/work"))) == sorted([a, b])
    assert signed_in(app, "plan", "planner").get("/api/work").status_code == 403
    assert app.test_client().get("/api/work").status_code == 401


def test_filters_paging_and_urgency_order(app):
    late = report(app, B1, "parking")["service_request_id"]
    time.sleep(0.01)
    g1 = report(app, A1, description="楼道堆物")["service_request_id"]
    g2 = report(app, B1, "water_leak")["service_request_id"]
    c = signed_in(app, "head", "admin")
    order = ids(c.get("/api/work"))
    assert order[0] == late  # overdue first
    assert set(order) == {late, g1, g2}
    assert c.get("/api/work").json["overdue"] == 1
    assert ids(c.get("/api/work?overdue=true")) == [late]
    assert set(ids(c.get("/api/work?overdue=false"))) == {g1, g2}
    assert ids(c.get("/api/work?category=water_leak")) == [g2]
    assert ids(c.get("/api/work?q=堆物")) == [g1]
    assert ids(c.get(f"/api/work?q={g2[-5:]}")) == [g2]
    assert ids(c.get("/api/work?source=sensor")) == []
    assert ids(c.get("/api/work?stage=closed")) == []
    today = c.get("/api/work").json["at"][:10]
    assert len(ids(c.get(f"/api/work?from={today}&to={today}"))) == 3
    assert ids(c.get("/api/work?to=2001-01-01")) == []
    page2 = c.get("/api/work?page_size=2&page=2&sort=oldest").json
    assert page2["total"] == 3 and [i["id"] for i in page2["items"]] == [g2]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("colour=red", "colour"),
        ("stage=lost", "stage"),
        ("overdue=maybe", "overdue"),
        ("from=2026-13-40", "from"),
        ("page=0", "page"),
        ("sort=random", "sort"),
        ("category=<script>", "category"),
    ],
)
def test_unknown_or_bad_filters_are_400_json(app, query, parameter):
    r = signed_in(app, "head", "admin").get(f"/api/work?{query}")
    assert r.status_code == 400 and r.json["code"] == "invalid_input"
    assert r.json["details"]["parameter"] == parameter


def test_detail_actions_follow_the_lifecycle_and_history_grows(app):
    rid = report(app, A1, first_name="明", last_name="王", phone="13800001111")["service_request_id"]
    c = signed_in(app, "a1", "staff", grids=[GA1])
    d = c.get(f"/api/work/{rid}").json
    assert d["actions"] == ["accept", "escalate", "duplicate"]
    assert [lim["limit"] for lim in d["limits"]] == ["accept", "on_site", "resolve"]
    assert 0 < d["limits"][0]["seconds_left"] <= 60 and d["limits"][2]["seconds_left"] > 80000
    assert d["worker"]["worker"] == "李网格" and d["grid_name"] == "东风一网格" and d["contact_phone"] == "13800001111"
    for action, stage in (("accept", "accepted"), ("arrive", "on_site"), ("resolve", "resolved")):
        r = c.post(f"/api/incidents/{rid}/actions", json={"action": action, "note": f"{action} note"}, headers=c.csrf)
        assert r.status_code == 200, r.json
        d = c.get(f"/api/work/{rid}").json
        assert d["stage"] == stage
    assert d["actions"] == ["close", "reopen"]
    assert [h["action"] for h in d["history"]] == ["report", "accept", "arrive", "resolve"]
    assert d["history"][-1]["actor"] == "a1" and d["history"][-1]["note"] == "resolve note"
    assert d["limits"][0]["met"] is True and d["limits"][0]["done_at"]
    r = c.post(f"/api/incidents/{rid}/actions", json={"action": "arrive"}, headers=c.csrf)
    assert r.status_code == 409 and "cannot arrive" in r.json["message"]


def test_duplicates_are_named_at_intake_marked_in_the_queue_and_closed_as_such(app):
    first = report(app, A1)["service_request_id"]
    second = report(app, {"lat": "40.8012", "long": "114.8809"})  # ~14 m away, same category
    assert second["possible_duplicates"] == [first]
    assert report(app, A1, "water_leak")["possible_duplicates"] == []  # another category
    assert report(app, B1)["possible_duplicates"] == []  # ~360 m away
    sid = second["service_request_id"]
    c = signed_in(app, "head", "admin")
    items = {i["id"]: i for i in c.get("/api/work").json["items"]}
    assert items[sid]["possible_duplicates"] == [first] and items[first]["possible_duplicates"] == []
    r = c.post(f"/api/work/{sid}/duplicate", json={"of": first, "note": "同一处"}, headers=c.csrf)
    assert r.status_code == 200, r.json
    assert r.json["stage"] == "closed" and r.json["duplicate_of"] == first and r.json["actions"] == []
    orig = c.get(f"/api/work/{first}").json
    assert orig["duplicates"] == [sid] and orig["history"][-1]["action"] == "duplicate_linked"
    c.post(f"/api/incidents/{first}/actions", json={"action": "accept"}, headers=c.csrf)
    seen = app.test_client().get(f"/open311/v2/requests/{sid}.json").json[0]
    assert seen["status"] == "open" and seen["extended_attributes"]["duplicate_of"] == first
    assert seen["extended_attributes"]["original_stage"] == "accepted" and "已受理" in seen["status_notes"]
    r = c.post(f"/api/work/{sid}/duplicate", json={"of": first}, headers=c.csrf)
    assert r.status_code == 409
    r = c.post(f"/api/work/{first}/duplicate", json={"of": first}, headers=c.csrf)
    assert r.status_code == 400


def test_an_sos_from_a_sensor_reaches_the_alerts_of_its_grid_only(app):
    mine = signed_in(app, "a1", "staff", grids=[GA1])
    other = signed_in(app, "b1", "staff", grids=[GB1])
    seq = mine.get("/api/alerts").json["seq"]
    assert mine.get(f"/api/alerts?since={seq}").json["alerts"] == []
    r = app.test_client().post(
        "/api/sensors/events",
        json={"type": "sos", "device_id": "band-7", "household_id": "H1"},
        headers={"X-API-Key": "sensor-key"},
    )
    assert r.status_code == 201
    got = mine.get(f"/api/alerts?since={seq}").json["alerts"]
    assert [(a["kind"], a["grid_code"]) for a in got] == [("sos", GA1)]
    assert other.get(f"/api/alerts?since={seq}").json["alerts"] == []
    assert mine.get("/api/alerts?colour=red").status_code == 400


def test_a_newly_overdue_incident_raises_one_alert(app):
    c = signed_in(app, "head", "admin")
    feed = app.extensions["alert_feed"]
    seq = c.get("/api/alerts").json["seq"]
    rid = report(app, A1, "parking")["service_request_id"]
    time.sleep(feed_interval(feed))
    kinds = [(a["kind"], a["incident_id"]) for a in c.get(f"/api/alerts?since={seq}").json["alerts"]]
    assert ("new", rid) in kinds
    time.sleep(feed_interval(feed))
    kinds = [(a["kind"], a["incident_id"]) for a in c.get(f"/api/alerts?since={seq}").json["alerts"]]
    assert kinds.count(("overdue", rid)) == 1


def feed_interval(feed) -> float:
    from web.alerts import OVERDUE_CHECK_S

    return OVERDUE_CHECK_S + 0.05
