"""GET /api/search on the tiny street (tests/tiny.py): names, pinyin initials, codes, rooms by role, incidents."""

from __future__ import annotations

import pytest

from tests.tiny import GA1, GB1


@pytest.fixture
def client(roles_app):
    return roles_app().test_client()


def search(client, q, token=None):
    r = client.get("/api/search", query_string={"q": q}, headers={"Authorization": f"Bearer {token}"} if token else {})
    assert r.status_code == 200, r.json
    return r.json["results"]


@pytest.mark.parametrize("q", ["纺织厂", "fzc", "FZCSS", "宿舍", "C1"])
def test_a_compound_by_name_initials_tail_or_id(client, q):
    first = search(client, q)[0]
    assert (first["kind"], first["id"], first["label"]) == ("compound", "C1", "纺织厂宿舍")
    assert first["sub"] == "东风社区" and first["bbox"] == [114.8805, 40.8005, 114.8815, 40.8025]


def test_grid_by_code_and_community_by_initials(client):
    assert search(client, GA1)[0] == {**search(client, GA1)[0], "kind": "grid", "id": GA1, "label": "东风一网格"}
    assert [r["id"] for r in search(client, "dfsq")] == ["130702001001"]
    assert [r["id"] for r in search(client, "xyyw")] == [GB1]


def test_buildings_by_compound_and_number(client):
    hits = search(client, "纺织厂宿舍B2")
    assert hits[0]["kind"] == "building" and hits[0]["id"] == "B2" and hits[0]["building_id"] == "B2"


def test_household_rooms_only_for_staff_of_their_grid(client):
    [room] = [r for r in search(client, "b1-1-101", "staff-a1") if r["kind"] == "household"]
    assert room["id"] == "H1" and room["building_id"] == "B1" and room["label"] == "B1-1-101"
    for token in (None, "plan", "staff-b1"):
        assert not [r for r in search(client, "b1-1-101", token) if r["kind"] == "household"]
    assert [r["id"] for r in search(client, "b4-1-101", "staff-b1") if r["kind"] == "household"] == ["H10"]


def test_incidents_by_number_including_new_ones(client):
    r = client.post("/open311/v2/requests.json", data={"service_code": "garbage", "lat": 40.8015, "long": 114.8809})
    iid = r.json[0]["service_request_id"]
    [hit] = search(client, iid)
    assert hit["kind"] == "incident" and hit["id"] == iid and hit["bbox"][0] == pytest.approx(114.8809)


def test_care_incidents_are_found_only_by_staff_of_their_grid(client):
    for _ in range(3):
        client.post(
            "/api/care/calls",
            json={"household_id": "H1", "answered": False},
            headers={"Authorization": "Bearer staff-a1"},
        )
    visit = client.get("/api/households/H1", headers={"Authorization": "Bearer staff-a1"}).json["open_incidents"][0]
    assert [h["id"] for h in search(client, visit["incident_id"], "staff-a1")] == [visit["incident_id"]]
    assert search(client, visit["incident_id"], "staff-b1") == []
    assert search(client, visit["incident_id"]) == []


@pytest.mark.parametrize(
    "query", [{}, {"q": " "}, {"q": "x" * 201}, {"q": "a", "limit": "0"}, {"q": "a", "limit": "x"}]
)
def test_bad_queries_are_400(client, query):
    r = client.get("/api/search", query_string=query)
    assert r.status_code == 400 and r.json["code"] and r.json["message"]
