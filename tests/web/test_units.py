"""GET /api/buildings/{id}/units and /api/households/{id} by role, on the tiny street (tests/tiny.py)."""

from __future__ import annotations

import pytest

from tests.tiny import GA1


@pytest.fixture
def client(roles_app):
    return roles_app().test_client()


def get(client, url, token=None):
    return client.get(url, headers={"Authorization": f"Bearer {token}"} if token else {})


@pytest.mark.parametrize("token", ["staff-a1", "boss"])
def test_staff_of_the_grid_and_admin_see_each_household_in_its_cell(client, token):
    doc = get(client, "/api/buildings/B1/units", token).json
    assert doc["personal"] is True and doc["grid_code"] == GA1
    assert (doc["floors"], doc["units"]) == (6, 2)
    # 6 floors x 2 units x 1 room each; B1's three households live in unit 1 on floors 1-3
    assert len(doc["cells"]) == 12
    taken = {(c["unit"], c["floor"]): c["household"]["household_id"] for c in doc["cells"] if not c["vacant"]}
    assert taken == {(1, 1): "H1", (1, 2): "H2", (1, 3): "H3"}
    h1 = next(c["household"] for c in doc["cells"] if c["household"] and c["household"]["household_id"] == "H1")
    assert h1["elderly_alone"] is True and h1["name"] == "住户H1" and h1["room"] == "101"
    assert doc["counts"] == {"households": 3, "persons": 6, "elderly_alone": 1, "floating": 0, "key_group": 0}


@pytest.mark.parametrize("token", [None, "plan", "staff-b1"])
def test_others_get_counts_only_with_one_or_two_suppressed(client, token):
    r = get(client, "/api/buildings/B1/units", token)
    assert r.status_code == 200
    doc = r.json
    assert doc["personal"] is False and doc["cells"] is None
    assert doc["counts"] == {"households": 3, "persons": 6, "elderly_alone": None, "floating": 0, "key_group": 0}
    text = r.get_data(as_text=True)
    assert "住户" not in text and "H1" not in text and "1380000" not in text
    # B2 (grid A1) has two households: the count itself is hidden
    assert get(client, "/api/buildings/B2/units", token).json["counts"]["households"] is None


def test_unknown_building_is_404_in_the_error_shape(client):
    r = get(client, "/api/buildings/NOPE/units", "boss")
    assert r.status_code == 404 and r.json["code"] and "NOPE" in r.json["message"]


def test_household_record_only_for_its_grid(client):
    doc = get(client, "/api/households/H1", "staff-a1").json
    assert doc["household_id"] == "H1" and doc["phone"] == "13800000001"
    assert doc["open_incidents"] == [] and doc["care_calls"] == []
    assert get(client, "/api/households/H1", "staff-b1").status_code == 403
    assert get(client, "/api/households/H1", "plan").status_code == 403
    assert get(client, "/api/households/H1").status_code == 401


def test_household_record_lists_its_open_incidents_and_care_calls(client):
    for _ in range(3):
        r = client.post(
            "/api/care/calls", json={"household_id": "H1", "answered": False}, headers={"Authorization": "Bearer boss"}
        )
        assert r.status_code == 201
    doc = get(client, "/api/households/H1", "staff-a1").json
    assert len(doc["care_calls"]) == 3 and not doc["care_calls"][0]["answered"]
    [visit] = doc["open_incidents"]
    assert visit["category"] == "care_visit" and visit["stage"] == "reported" and visit["next_due"]


def test_grid_workers_are_named_to_staff_only(client):
    assert get(client, "/api/grids/workers", "staff-b1").json[GA1] == "李网格"
    assert get(client, "/api/grids/workers").status_code == 401
    assert get(client, "/api/grids/workers", "plan").status_code == 403
