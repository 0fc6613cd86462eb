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
