"""POST/GET /api/care/calls: morning calls to elderly people living alone; the third miss of a day opens a visit."""

import json

import pandas as pd
import pytest

from tests.tiny import GA1, GB1
from tests.twin.incidents.conftest import Clock
from web import create_app

TOKENS = [
    {"role": "staff", "token": "staff-t", "name": "张社工"},
    {"role": "staff", "token": "a1-t", "grids": [GA1]},
    {"role": "planner", "token": "plan-t"},
    {"role": "admin", "token": "admin-t"},
]
STAFF, A1 = {"Authorization": "Bearer staff-t"}, {"Authorization": "Bearer a1-t"}
T = pd.Timestamp("2026-03-02 00:00", tz="UTC")  # 08:00 in the office


@pytest.fixture
def env(tiny_dir):
    from layers import REGISTRY
    from twin.core import Twin
    from twin.incidents import attach_incidents

    clock = Clock(T)
    twin = Twin.open(tiny_dir, REGISTRY, live=False)
    attach_incidents(twin, twin.store, clock=clock)
    app = create_app({"TESTING": True, "TWIN": twin, "TOKENS": json.dumps(TOKENS)})
    yield app.test_client(), clock, twin.incidents
    twin.incidents.close()


def call(client, headers=STAFF, **fields):
    return client.post("/api/care/calls", json=fields, headers=headers)


def test_third_unanswered_call_opens_one_visit(env):
    client, clock, svc = env
    first = call(client, household_id="H1", answered=False)
    assert first.status_code == 201
    c = first.get_json()["call"]
    assert c["missed_today"] == 1 and c["day"] == "2026-03-02" and c["at"] == "2026-03-02T08:00:00+08:00"
    assert c["grid_code"] == GA1 and c["building_id"] == "B1" and c["actor"] == "张社工"
    assert first.get_json()["visit"] is None
    clock.advance(minutes=10)
    assert call(client, household_id="H1", answered=True).get_json()["call"]["missed_today"] == 1
    clock.advance(minutes=10)
    assert call(client, household_id="H1", answered=False).get_json()["visit"] is None
    clock.advance(minutes=10)
    third = call(client, household_id="H1", answered=False, note="无人应答").get_json()
    assert third["call"]["missed_today"] == 3 and third["call"]["note"] == "无人应答"
    v = third["visit"]
    assert v["category"] == "care_visit" and v["household_id"] == "H1" and v["grid_code"] == GA1
    assert v["stage"] == "reported" and v["reported_at"] == "2026-03-02T08:30:00+08:00"
    assert third["worker"]["worker"] == "李网格"
    assert svc.get(v["incident_id"])["category"] == "care_visit"
    clock.advance(minutes=10)
    assert call(client, household_id="H1", answered=False).get_json()["visit"] is None  # one visit a day
    assert (svc.frame()["category"] == "care_visit").sum() == 1


def test_the_count_restarts_at_local_midnight(env):
    client, clock, svc = env
    clock.t = pd.Timestamp("2026-03-02 15:50", tz="UTC")  # 23:50 local
    call(client, household_id="H10", answered=False)
    call(client, household_id="H10", answered=False)
    clock.t = pd.Timestamp("2026-03-02 16:10", tz="UTC")  # 00:10 local on 3 March
    r = call(client, household_id="H10", answered=False).get_json()
    assert r["call"]["day"] == "2026-03-03" and r["call"]["missed_today"] == 1 and r["visit"] is None
    assert len(svc) == 0


def test_form_encoded_calls(env):
    client, _, _ = env
    r = client.post("/api/care/calls", data={"household_id": "H1", "answered": "false"}, headers=STAFF)
    assert r.status_code == 201 and r.get_json()["call"]["answered"] is False
    r = client.post("/api/care/calls", data={"household_id": "H1", "answered": "1"}, headers=STAFF)
    assert r.get_json()["call"]["answered"] is True


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"answered": False}, "household_id"),
        ({"household_id": "", "answered": False}, "household_id"),
        ({"household_id": 1, "answered": False}, "household_id"),
        ({"household_id": "H99", "answered": False}, "household_id"),
        ({"household_id": "H2", "answered": False}, "household_id"),  # not registered as elderly living alone
        ({"household_id": "H1"}, "answered"),
        ({"household_id": "H1", "answered": "maybe"}, "answered"),
        ({"household_id": "H1", "answered": 0.5}, "answered"),
        ({"household_id": "H1", "answered": False, "note": "x" * 2001}, "note"),
        ({"household_id": "H1", "answered": False, "phone": "13800000000"}, "phone"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(env, fields, field):
    client, _, svc = env
    r = call(client, **fields)
    assert r.status_code == 400
    assert r.get_json()["code"] == "invalid_input" and r.get_json()["details"]["field"] == field
    assert svc.store.care_checks() == [] and len(svc) == 0


def test_a_body_that_is_not_json_or_a_form_is_400(env):
    client, _, svc = env
    r = client.post("/api/care/calls", data="H1,false", content_type="text/plain", headers=STAFF)
    assert r.status_code == 400 and svc.store.care_checks() == []
    r = client.post("/api/care/calls", data="[1]", content_type="application/json", headers=STAFF)
    assert r.status_code == 400 and svc.store.care_checks() == []


def test_roles_and_grid_limits(env):
    client, _, svc = env
    assert call(client, headers={}, household_id="H1", answered=False).status_code == 401
    assert (
        call(client, headers={"Authorization": "Bearer plan-t"}, household_id="H1", answered=False).status_code == 403
    )
    r = call(client, headers=A1, household_id="H10", answered=False)  # H10 lives in grid B1
    assert r.status_code == 403 and svc.store.care_checks() == []
    assert call(client, headers=A1, household_id="H1", answered=False).status_code == 201
    assert client.get("/api/care/calls").status_code == 401
    assert client.get("/api/care/calls", headers={"Authorization": "Bearer plan-t"}).status_code == 403


def test_list_calls_of_a_day(env):
    client, clock, _ = env
    call(client, household_id="H1", answered=False)
    call(client, household_id="H10", answered=True)
    clock.advance(days=1)
    call(client, household_id="H10", answered=False)
    day1 = client.get("/api/care/calls?date=2026-03-02", headers=STAFF).get_json()
    assert day1["date"] == "2026-03-02" and day1["summary"] == {
        "calls": 2,
        "unanswered": 1,
        "households": 2,
        "visits": 0,
    }
    assert [(c["household_id"], c["answered"], c["grid_code"]) for c in day1["calls"]] == [
        ("H1", False, GA1),
        ("H10", True, GB1),
    ]
    assert day1["calls"][0]["at"] == "2026-03-02T08:00:00+08:00"
    today = client.get("/api/care/calls", headers=STAFF).get_json()  # no date: today at the service's clock
    assert today["date"] == "2026-03-03" and [c["household_id"] for c in today["calls"]] == ["H10"]
    only_a1 = client.get("/api/care/calls?date=2026-03-02", headers=A1).get_json()
    assert [c["household_id"] for c in only_a1["calls"]] == ["H1"]
    one = client.get(
        "/api/care/calls?date=2026-03-02&household_id=H10", headers={"Authorization": "Bearer admin-t"}
    ).get_json()
    assert [c["household_id"] for c in one["calls"]] == ["H10"]
    r = client.get("/api/care/calls?date=02/03/2026", headers=STAFF)
    assert r.status_code == 400 and r.get_json()["details"]["parameter"] == "date"


def test_visits_show_in_the_day_list(env):
    client, clock, _ = env
    for _ in range(3):
        last = call(client, household_id="H1", answered=False).get_json()
        clock.advance(minutes=10)
    day = client.get("/api/care/calls?date=2026-03-02", headers=STAFF).get_json()
    assert day["summary"] == {"calls": 3, "unanswered": 3, "households": 1, "visits": 1}
    assert {c["visit_incident_id"] for c in day["calls"]} == {last["visit"]["incident_id"]}
