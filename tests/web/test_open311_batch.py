"""Batch intake, POST /open311/v2/requests/batch.json, on the tiny street: staff and admin only; every item checked
before anything is written; one bad item stores nothing and the 400 names each bad one; answered after the commit with
the ids in order; placement, duplicates and other processes' read-back as for single requests."""

from __future__ import annotations

import json

import pytest

from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends
from tests.tiny import GA1, GB1
from web import create_app

BATCH = "/open311/v2/requests/batch.json"
SINGLE = "/open311/v2/requests.json"
HOTLINE, ADMIN, PLANNER, LIMITED = "hotline-token", "admin-token", "planner-token", "limited-token"
TOKENS = json.dumps(
    [
        {"role": "staff", "token": HOTLINE, "name": "12345热线"},
        {"role": "admin", "token": ADMIN},
        {"role": "planner", "token": PLANNER},
        {"role": "staff", "token": LIMITED, "grids": [GB1]},
    ]
)
IN_A1 = {"lat": "40.8011", "long": "114.8808"}  # grid A1, compound C1, next to building B1 (tests/tiny.py)
IN_B1 = {"lat": 40.8015, "long": 114.886}  # grid B1, numbers as JSON numbers
GOOD = {
    **IN_A1,
    "service_code": "garbage",
    "description": "3号楼道堆满杂物",
    "first_name": "小明",
    "phone": "13800001111",
}


@pytest.fixture
def app(app_config):
    return create_app({**app_config, "TOKENS": TOKENS, "INTAKE_BATCH_MAX": 5})


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def send(client, items, token=HOTLINE, **kw):
    return client.post(BATCH, json=items, headers=auth(token) if token else {}, **kw)


def stored(app):
    return app.extensions["twin"].incidents.store.count()


def test_a_batch_is_stored_in_order_and_read_back_like_single_requests(client, app):
    items = [
        dict(GOOD, description="第一条 hotline-0", source="hotline_12345"),
        {**IN_B1, "service_code": "fire_hazard", "description": "第二条 hotline-1"},
        dict(GOOD, service_code="parking", description="第三条 hotline-2", email="a@b.cn"),
    ]
    r = send(client, items)
    assert r.status_code == 201, r.get_json()
    acks = r.get_json()
    assert [set(a) for a in acks] == [{"service_request_id", "service_notice", "account_id", "possible_duplicates"}] * 3
    ids = [a["service_request_id"] for a in acks]
    assert len(set(ids)) == 3 and ids == sorted(ids)  # stored in the array's order
    assert "东风一网格" in acks[0]["service_notice"] and "西园一网格" in acks[1]["service_notice"]
    assert stored(app) == 3
    for rid, item in zip(ids, items):
        [got] = client.get(f"/open311/v2/requests/{rid}.json", headers=auth(ADMIN)).get_json()
        ext = got["extended_attributes"]
        assert got["description"] == item["description"] and got["service_code"] == item["service_code"]
        assert ext["stage"] == "reported" and ext["source"] == item.get("source", "app")
        assert ext["contact_name"] == item.get("first_name") and ext["contact_email"] == item.get("email")
        history = client.get(f"/api/incidents/{rid}/history", headers=auth(ADMIN)).get_json()
        assert [(e["action"], e["actor"]) for e in history] == [("report", "12345热线")]
    # placed exactly as a single request at the same point is
    [single] = client.post(SINGLE, data=GOOD).get_json()
    one = client.get(f"/open311/v2/requests/{single['service_request_id']}.json").get_json()[0]
    first = client.get(f"/open311/v2/requests/{ids[0]}.json").get_json()[0]
    keys = ("grid_code", "community_id", "compound_id", "building_id", "worker")
    assert [first["extended_attributes"][k] for k in keys] == [one["extended_attributes"][k] for k in keys]
    assert first["extended_attributes"]["grid_code"] == GA1 and first["extended_attributes"]["building_id"] == "B1"
    second = client.get(f"/open311/v2/requests/{ids[1]}.json").get_json()[0]["extended_attributes"]
    assert second["grid_code"] == GB1 and second["priority"] == 7  # fire hazards keep their category's priority


def test_anonymous_and_planner_batches_are_refused_and_store_nothing(client, app):
    for token, status, code in ((None, 401, "unauthorized"), (PLANNER, 403, "forbidden")):
        r = send(client, [GOOD], token)
        assert r.status_code == status and r.mimetype == "application/json"
        body = r.get_json()
        assert body["code"] == code and body["status"] == status and body["message"]
    r = client.post(BATCH, json=[GOOD], headers={"Authorization": "Bearer nobody"})
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    assert stored(app) == 0
    assert send(client, [GOOD], ADMIN).status_code == 201  # admins may, like staff (grid-limited ones too)
    assert send(client, [GOOD], LIMITED).status_code == 201 and stored(app) == 2


BAD_BATCHES = [
    ("an object, not a list", {"requests": [GOOD]}, None),
    ("a list of one string", "not a list", None),
    ("empty", [], None),
    ("too many (INTAKE_BATCH_MAX is 5)", [GOOD] * 6, None),
    ("one bad lat", [GOOD, GOOD, dict(GOOD, lat="north")], [(2, "lat")]),
    ("outside the street", [dict(GOOD, lat="39.9", long="116.4"), GOOD], [(0, "lat")]),
    ("lat true", [dict(GOOD, lat=True)], [(0, "lat")]),
    ("description a number", [GOOD, dict(GOOD, description=12345)], [(1, "description")]),
    ("item a string", [GOOD, "garbage at 3号楼"], [(1, None)]),
    ("item a list", [[GOOD]], [(0, None)]),
    ("internal category", [dict(GOOD, service_code="care_visit")], [(0, "service_code")]),
    ("unknown source", [dict(GOOD, source="sensor")], [(0, "source")]),
    (
        "several bad ones, all named",
        [dict(GOOD, long=None), GOOD, dict(GOOD, email="nobody"), dict(GOOD, description="长" * 4001)],
        [(0, "long"), (2, "contact_email"), (3, "description")],
    ),
]


@pytest.mark.parametrize("case,items,bad", BAD_BATCHES, ids=[b[0] for b in BAD_BATCHES])
def test_a_bad_batch_is_400_naming_each_bad_item_and_stores_nothing(client, app, case, items, bad):
    r = send(client, items)
    assert r.status_code == 400 and r.mimetype == "application/json"
    body = r.get_json()
    assert body["code"] == "invalid_input" and body["status"] == 400 and body["message"]
    if bad is not None:
        errors = body["details"]["errors"]
        assert [(e["index"], e["field"]) for e in errors] == bad and all(e["message"] for e in errors)
        assert (body["details"]["index"], body["details"].get("field")) == bad[0]
        assert f"item {bad[0][0]}:" in body["message"]
    assert stored(app) == 0
    assert client.get(SINGLE, headers=auth(ADMIN)).get_json() == []


def test_bodies_that_are_not_a_json_array(client, app):
    for kw in (
        {"data": "lat=40.8011&long=114.8808&service_code=garbage", "content_type": "application/x-www-form-urlencoded"},
        {"data": "[{not json", "content_type": "application/json"},
        {"data": "[" * 500 + "]" * 500, "content_type": "application/json"},
    ):
        r = client.post(BATCH, headers=auth(HOTLINE), **kw)
        assert r.status_code == 400 and r.get_json()["code"] == "invalid_input", kw
    huge = json.dumps([dict(GOOD, description="长" * 4000)] * 5 + [{"pad": "x" * 200_000}])
    r = client.post(BATCH, headers=auth(HOTLINE), data=huge, content_type="application/json")
    assert r.status_code == 413 and r.get_json()["status"] == 413
    assert stored(app) == 0


def test_duplicates_are_named_as_for_the_same_requests_filed_one_by_one(client):
    """The same sequence filed singly and as one batch names the same possible duplicates (worked out by hand):
    earlier items of the batch count, later ones do not. Each run uses its own categories, so they do not meet."""
    answers = []
    for mode, code, other in (("single", "garbage", "parking"), ("batch", "lighting", "drain")):
        sequence = [
            dict(GOOD, service_code=code),  # filed alone first, then the rest
            dict(GOOD, service_code=code, description="同一处"),
            {**IN_B1, "service_code": code},  # same category, another grid: too far
            dict(GOOD, service_code=other),  # same place, another category
            dict(GOOD, service_code=code, description="又一条"),
        ]
        [first] = client.post(SINGLE, data=sequence[0]).get_json()
        if mode == "single":
            acks = [client.post(SINGLE, data=f).get_json()[0] for f in sequence[1:]]
        else:
            acks = send(client, sequence[1:]).get_json()
        ids = [first["service_request_id"]] + [a["service_request_id"] for a in acks]
        answers.append([[ids.index(d) for d in a["possible_duplicates"]] for a in [first, *acks]])
    assert answers[0] == answers[1] == [[], [0], [], [], [0, 1]]


def test_another_process_reads_a_batch_back(app_config):
    cfg = {**app_config, "SYNC_SECONDS": 0, "TOKENS": TOKENS}
    one, two = create_app(cfg).test_client(), create_app(cfg).test_client()
    acks = send(one, [GOOD, {**IN_B1, "service_code": "lighting"}]).get_json()
    ids = [a["service_request_id"] for a in acks]
    listed = two.get(SINGLE, headers=auth(ADMIN)).get_json()
    assert sorted(x["service_request_id"] for x in listed) == ids
    [got] = two.get(f"/open311/v2/requests/{ids[1]}.json").get_json()
    assert got["service_code"] == "lighting" and got["extended_attributes"]["grid_code"] == GB1
    # the other process names the batch's incidents as possible duplicates of its own new report
    [ack] = two.post(SINGLE, data=GOOD).get_json()
    assert ack["possible_duplicates"] == [ids[0]]
