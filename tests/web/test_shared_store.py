"""Several processes, one truth: two app instances on one store see each other's writes; ETags follow them.

SYNC_SECONDS=0 makes each instance look for other writers on every read (deployments look every few seconds).
"""

from __future__ import annotations

import json

import pytest

from tests.postgres import BACKENDS  # noqa: F401 - on SQLite (one file) and on PostgreSQL (one database)
from web import create_app

ADMIN = "admin-token"
REPORT = {"lat": "40.8011", "long": "114.8808", "service_code": "garbage", "description": "楼道堆物"}


@pytest.fixture
def pair(app_config):
    """Two apps on the same store, as two `twin serve` processes would be."""
    cfg = {**app_config, "SYNC_SECONDS": 0, "TOKENS": json.dumps([{"role": "admin", "token": ADMIN}])}
    return create_app(cfg).test_client(), create_app(cfg).test_client()


def items(client, **headers):
    return client.get("/collections/incidents/items", headers={"Authorization": f"Bearer {ADMIN}", **headers})


def test_a_write_through_one_is_seen_by_the_other(pair):
    one, two = pair
    before = items(two)
    tag = before.headers["ETag"]
    assert before.json["numberMatched"] == 0
    r = one.post("/open311/v2/requests.json", data=REPORT)
    assert r.status_code == 201
    rid = r.get_json()[0]["service_request_id"]
    after = items(two, **{"If-None-Match": tag})
    assert after.status_code == 200 and after.headers["ETag"] != tag  # the other's ETag moved with the data
    assert [f["id"] for f in after.json["features"]] == [rid]
    [got] = two.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert got["extended_attributes"]["stage"] == "reported"
    tag2 = after.headers["ETag"]
    assert items(two, **{"If-None-Match": tag2}).status_code == 304  # nothing new: still cached


def test_an_action_through_the_other_comes_back(pair):
    one, two = pair
    rid = one.post("/open311/v2/requests.json", data=REPORT).get_json()[0]["service_request_id"]
    tag = items(one).headers["ETag"]
    r = two.post(
        f"/api/incidents/{rid}/actions", headers={"Authorization": f"Bearer {ADMIN}"}, data={"action": "accept"}
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    [got] = one.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert got["extended_attributes"]["stage"] == "accepted"
    assert items(one).headers["ETag"] != tag
    feats = items(one).json["features"]
    assert len(feats) == 1 and feats[0]["properties"]["stage"] == "accepted"  # updated in place, not appended


def test_a_duplicate_closed_through_one_is_closed_in_the_other(pair):
    one, two = pair
    auth = {"Authorization": f"Bearer {ADMIN}"}
    first, second = (one.post("/open311/v2/requests.json", data=REPORT).get_json()[0] for _ in range(2))
    fid, sid = first["service_request_id"], second["service_request_id"]
    assert two.get(f"/api/work/{sid}", headers=auth).get_json()["actions"] != []
    r = one.post(f"/api/work/{sid}/duplicate", json={"of": fid}, headers=auth)
    assert r.status_code == 200, r.get_json()
    got = two.get(f"/api/work/{sid}", headers=auth).get_json()
    assert got["stage"] == "closed" and got["duplicate_of"] == fid and got["actions"] == []
    assert two.get(f"/api/work/{fid}", headers=auth).get_json()["duplicates"] == [sid]
    again = two.post(f"/api/work/{sid}/duplicate", json={"of": fid}, headers=auth)
    assert again.status_code == 409  # the other process knows it is closed already


def test_a_sign_in_through_one_holds_in_the_other(pair):
    from tests.web.signin import sign_in

    one, two = pair
    one.application.extensions["accounts"].add("clerk", "staff", "clerk-pass-1")
    assert two.application.extensions["accounts"].get("clerk").role == "staff"  # one table of accounts
    assert sign_in(one, "clerk", "clerk-pass-1").status_code == 303
    two.set_cookie("twin_session", one.get_cookie("twin_session").value)
    page = two.get("/dashboard").get_data(as_text=True)
    assert 'data-name="clerk"' in page  # the other process accepts the session (one cookie key)
    one.application.extensions["accounts"].set_disabled("clerk")
    assert 'data-name="clerk"' not in two.get("/dashboard").get_data(as_text=True)
