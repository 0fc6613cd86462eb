"""Care incidents (SOS alarms, visits to elderly living alone) point at a household: records only for its staff."""

import json

import numpy as np
import pytest

from tests.tiny import GA1, GB1
from twin.access import PUBLIC, Principal, may_see_incidents
from web import create_app

STAFF_A, STAFF_B, PLANNER, ADMIN = "staff-a", "staff-b", "planner-t", "admin-t"
TOKENS = json.dumps(
    [
        {"role": "staff", "token": STAFF_A, "grids": [GA1]},
        {"role": "staff", "token": STAFF_B, "grids": [GB1]},
        {"role": "planner", "token": PLANNER},
        {"role": "admin", "token": ADMIN},
    ]
)


def test_rule_by_role_and_grid():
    cats, grids = ["sos", "care_visit", "garbage"], [GA1, GB1, GB1]
    assert may_see_incidents(PUBLIC, cats, grids).tolist() == [False, False, True]
    assert may_see_incidents(Principal("planner"), cats, grids).tolist() == [False, False, True]
    assert may_see_incidents(Principal("staff", frozenset({GA1})), cats, grids).tolist() == [True, False, True]
    assert may_see_incidents(Principal("staff"), cats, grids).tolist() == [True, True, True]
    assert may_see_incidents(Principal("admin"), cats, grids).tolist() == [True, True, True]
    assert may_see_incidents(PUBLIC, np.array([], dtype=object), []).tolist() == []


@pytest.fixture
def filed(tiny_dir, tmp_path):
    """The app with one SOS in grid A1 (household H1, building B1) and one garbage report in grid B1."""
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state"), "TOKENS": TOKENS}
    )
    service = app.extensions["twin"].incidents
    sos = service.create({"category": "sos", "source": "sensor", "household_id": "H1"}, actor="wristband")
    garbage = service.create({"category": "garbage", "lon": 114.8850, "lat": 40.8011}, actor="resident")
    assert sos["grid_code"] == GA1 and garbage["grid_code"] == GB1
    return app.test_client(), sos["incident_id"], garbage["incident_id"]


def ids_in_items(client, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = client.get("/collections/incidents/items?limit=10000", headers=headers).get_json()
    assert body["numberMatched"] == len(body["features"])
    return {f["id"] for f in body["features"]}


def ids_in_open311(client, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return {r["service_request_id"] for r in client.get("/open311/v2/requests.json", headers=headers).get_json()}


@pytest.mark.parametrize(
    "token, sees_sos", [(None, False), (PLANNER, False), (STAFF_B, False), (STAFF_A, True), (ADMIN, True)]
)
def test_lists_show_care_incidents_only_to_their_grids_staff(filed, token, sees_sos):
    client, sos, garbage = filed
    for ids in (ids_in_items(client, token), ids_in_open311(client, token)):
        assert garbage in ids
        assert (sos in ids) is sees_sos


def test_one_care_incident_is_refused_with_the_error_body(filed):
    client, sos, _ = filed
    for path in (f"/collections/incidents/items/{sos}", f"/open311/v2/requests/{sos}.json"):
        r = client.get(path)
        assert r.status_code == 403
        assert r.get_json()["code"] == "forbidden" and "care" in r.get_json()["message"]
        assert client.get(path, headers={"Authorization": f"Bearer {STAFF_A}"}).status_code == 200
