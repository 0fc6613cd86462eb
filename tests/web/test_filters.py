"""OGC API – Features Part 3 basics on the tiny street: queryables, property filters and CQL2-text filters."""

from __future__ import annotations

import json

import pytest

from tests.tiny import GA1, GA2, GB1
from tests.web.test_features import TOKENS, ContractIncidents, _incident, assert_incidents, bearer, ids
from web import create_app


@pytest.fixture
def incidents(tiny_twin):
    """Four incidents: E1 fire hazard reported, E2 fire hazard closed, E3 garbage reported, E4 garbage accepted."""
    rows = [
        _incident("E1", 114.8808, 40.8011, "2026-03-01T08:00:00Z", GA1, category="fire_hazard", priority=3),
        _incident("E2", 114.8829, 40.8011, "2026-03-02T09:30:00Z", GA2, stage="closed", category="fire_hazard"),
        _incident("E3", 114.8866, 40.8011, "2026-03-03T12:00:00Z", GB1, priority=2, description=None),
        _incident("E4", 114.8867, 40.8012, "2026-03-04T12:00:00Z", GB1, stage="accepted", priority=5),
    ]
    tiny_twin.incidents = ContractIncidents(rows)
    return create_app({"TESTING": True, "TWIN": tiny_twin, "TOKENS": json.dumps(TOKENS)}).test_client()


def test_queryables_are_the_filterable_fields_as_json_schema(client, incidents):
    r = client.get("/collections/buildings/queryables")
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    doc = r.json
    assert doc["type"] == "object" and doc["$id"].endswith("/collections/buildings/queryables")
    assert doc["properties"]["floors"]["type"] == "integer" and doc["properties"]["compound_id"]["type"] == "string"
    assert "geometry" not in doc["properties"] and "height_m" not in doc["properties"]  # a float: not filterable
    links = client.get("/collections/buildings").json["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)
    inc = incidents.get("/collections/incidents/queryables").json["properties"]
    assert "fire_hazard" in inc["category"]["enum"] and inc["priority"]["type"] == "integer"
    assert not {"contact_name", "contact_phone", "contact_email", "household_id"} & set(inc)


def test_queryables_never_show_personal_fields_and_follow_collection_access(api_admin, client):
    assert client.get("/collections/households/queryables").status_code == 403
    grid = client.get("/collections/grids/queryables").json["properties"]
    assert "worker_phone" not in grid
    hh = api_admin.get("/collections/households/queryables", headers=bearer("admin-secret")).json["properties"]
    assert "size" in hh and "name" not in hh and "phone" not in hh


@pytest.fixture
def api_admin(tiny_dir, tmp_path):
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s"), "TOKENS": json.dumps(TOKENS)}
    )
    return app.test_client()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("category=fire_hazard&stage=reported", ["E1"]),
        ("category=garbage", ["E3", "E4"]),
        ("filter=category='fire_hazard' AND stage='reported'", ["E1"]),
        ("filter=category = 'garbage' OR stage = 'closed'", ["E2", "E3", "E4"]),
        ("filter=NOT (category = 'garbage')", ["E1", "E2"]),
        ("filter=priority >= 2 AND priority < 5", ["E1", "E3"]),
        ("filter=priority <> 1", ["E1", "E3", "E4"]),
        ("filter=priority BETWEEN 2 AND 5", ["E1", "E3", "E4"]),
        ("filter=stage IN ('accepted', 'closed')", ["E2", "E4"]),
        ("filter=description IS NULL", ["E3"]),
        ("filter=description IS NOT NULL AND category='garbage'", ["E4"]),
        ("filter=stage = 'reported'&filter-lang=cql2-text&category=garbage", ["E3"]),
        (f"filter=grid_code='{GB1}'&bbox=114.8866,40.80,114.88665,40.81", ["E3"]),
    ],
)
def test_filters_select_by_property(incidents, query, expected):
    assert_incidents(incidents, query, expected)


def test_a_filter_keeps_to_what_the_caller_may_see(client):
    assert ids(client.get("/collections/buildings/items?filter=floors = 6 AND compound_id <> 'C1'").json) == [
        "B4",
        "B5",
    ]


@pytest.mark.parametrize(
    "query, word",
    [
        ("filter=category == 'x'", "not valid CQL2 text"),
        ("filter=category = ", "not valid CQL2 text"),
        ("filter=colour = 'red'", "not queryable"),
        ("filter=contact_phone = '13712345678'", "not queryable"),
        ("filter=priority = 'high'", "whole number"),
        ("filter=category = 'castle'", "one of"),
        ("filter=category = 'garbage'&filter-lang=cql2-json", "filter-lang"),
        ("filter=S_INTERSECTS(geometry, POINT(1 2))", "not supported"),
        ("filter=3 = priority", "property name"),
        ("filter=" + "(" * 3000 + "priority = 1" + ")" * 3000, "longer than"),
    ],
)
def test_bad_filters_are_400_with_a_hint(incidents, query, word):
    r = incidents.get(f"/collections/incidents/items?{query}")
    assert r.status_code == 400 and r.json["code"] == "invalid_input" and word in r.json["message"], r.json
