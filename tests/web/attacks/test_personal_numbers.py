"""Issue 14 items 1, 2, 4: no number a public or planner caller gets divides or subtracts back to a suppressed
count of people: risk points (risk.bin, /api/area, the tooltip), two overlapping areas, reports' care categories."""

from __future__ import annotations

import csv
import itertools

import pytest

from tests.tiny import BUILDINGS, box
from tests.web.attacks.conftest import ADMIN, PLANNER, SENSOR_KEY, STAFF_A1, make_app
from web.transport import unpack

COMMUNITY_A = box(114.880, 40.800, 114.884, 40.803)  # B1 (one elderly person living alone), B2, B3


def footprint(bid: str) -> list:
    """The polygon coordinates of a tiny building."""
    return next(b["geometry"]["coordinates"] for b in BUILDINGS if b["building_id"] == bid)


def multipolygon(*bids) -> dict:
    return {"type": "MultiPolygon", "coordinates": [footprint(b) for b in bids]}


@pytest.fixture
def app(tiny_dir, tmp_path):
    """The tiny street without the area rate limit: these tests ask many areas in a row."""
    return make_app(tiny_dir, tmp_path / "state", AREA_RATE_PER_MINUTE=0)


@pytest.fixture
def no_elderly_app(tmp_path):
    """The tiny street with nobody registered as elderly living alone."""
    from tests.tiny import write_tiny

    d = write_tiny(tmp_path / "no-elderly")
    rows = list(csv.DictReader(open(d / "households.csv", encoding="utf-8")))
    for r in rows:
        r["elderly_alone"] = "False"
    with open(d / "households.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return make_app(d, tmp_path / "s2")


def risk_arrays(client, headers=None) -> dict:
    _, arrays = unpack(client.get("/api/dashboard/risk.bin", headers=headers or {}).data)
    return {k: v.tolist() for k, v in arrays.items()}


def area_risk(client, headers=None) -> dict:
    return client.post("/api/area", json=COMMUNITY_A, headers=headers or {}).get_json()["risk"]


# --- item 1: risk points -------------------------------------------------------------------------------------
def test_public_and_planner_risk_cannot_tell_one_elderly_person_from_none(client, no_elderly_app):
    """B1 and B4 each hold one elderly person living alone (4 points each at the default weights): what the public
    and planners get is exactly what they would get if nobody lived alone there."""
    blank = no_elderly_app.test_client()
    for headers in ({}, PLANNER, STAFF_A1):  # grid-limited staff do not see every grid's households either
        assert risk_arrays(client, headers) == risk_arrays(blank, headers)
        assert area_risk(client, headers) == area_risk(blank, headers)
    assert risk_arrays(client, ADMIN) != risk_arrays(blank, ADMIN)  # admins get the exact model
    assert area_risk(client, ADMIN) != area_risk(blank, ADMIN)


# --- item 2: differencing two areas --------------------------------------------------------------------------
PEOPLE = ("households", "population", "elderly_alone", "floating")


def people(client, geom, headers=None) -> dict:
    r = client.post("/api/area", json=geom, headers=headers or {})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["people"]


@pytest.mark.parametrize("who", [{}, PLANNER], ids=["public", "planner"])
def test_two_overlapping_areas_do_not_subtract_to_a_hidden_count(client, who):
    """For every pair of buildings A, B: if A alone is suppressed, (A+B) minus B never gives A's true count."""
    ids = [b["building_id"] for b in BUILDINGS]
    tried = revealed = 0
    for a, b in itertools.permutations(ids, 2):
        alone, both, other = people(client, multipolygon(a)), people(client, multipolygon(a, b)), None
        truth = people(client, multipolygon(a), ADMIN)
        for k in PEOPLE:
            if alone[k] is not None:
                continue
            other = other or people(client, multipolygon(b), who)
            if both[k] is None or other[k] is None:
                continue
            tried += 1
            revealed += both[k] - other[k] == truth[k]
    assert tried > 5 and revealed == 0
    # the case: B4 (1 person) alone is hidden, B4+B5 and B5 no longer subtract to 1
    assert people(client, multipolygon("B4"))["population"] is None
    assert people(client, multipolygon("B4", "B5"), ADMIN)["population"] == 6
    assert people(client, multipolygon("B5"), ADMIN)["population"] == 5
    d = (
        people(client, multipolygon("B4", "B5"), who)["population"]
        - people(client, multipolygon("B5"), who)["population"]
    )
    assert d != 1


def test_asking_again_or_drawing_the_same_households_differently_gives_the_same_number(client):
    """The rounding is drawn from the households counted: repeating a query cannot average it away."""
    first = people(client, multipolygon("B3"))
    assert all(people(client, multipolygon("B3")) == first for _ in range(5))
    x0, y0 = footprint("B3")[0][0]
    wider = {
        "type": "Polygon",
        "coordinates": [
            [
                [x0 - 1e-4, y0 - 1e-4],
                [x0 + 4e-4, y0 - 1e-4],
                [x0 + 4e-4, y0 + 4e-4],
                [x0 - 1e-4, y0 + 4e-4],
                [x0 - 1e-4, y0 - 1e-4],
            ]
        ],
    }
    assert people(client, wider) == first
    assert all(v is None or v % 3 == 0 for v in first.values())


def test_grid_limited_staff_get_exact_people_only_where_they_may_see_every_household(client):
    """Staff limited to grid A1 (B1, B2: 5 households, 8 people) get exact figures there; an area reaching into
    other grids gets the public rule, so B4 (one household of one person, grid B1) stays hidden from them."""
    mine = people(client, multipolygon("B1", "B2"), STAFF_A1)
    assert mine == people(client, multipolygon("B1", "B2"), ADMIN)
    assert mine["households"] == 5 and mine["elderly_alone"] == 1
    assert people(client, multipolygon("B4"), STAFF_A1)["population"] is None
    assert people(client, multipolygon("B4"), ADMIN)["population"] == 1
    wider = people(client, multipolygon("B1", "B2", "B3"), STAFF_A1)
    assert wider == people(client, multipolygon("B1", "B2", "B3"), PLANNER)
    assert all(v is None or v % 3 == 0 for v in wider.values())


# --- item 4: reports -----------------------------------------------------------------------------------------
def report(client, headers, f="json"):
    r = client.get(f"/api/reports/weekly?f={f}", headers=headers)
    assert r.status_code == 200
    return r.get_json() if f == "json" else r.get_data(as_text=True)


def test_reports_follow_the_small_count_rule_for_care_categories(client):
    before = report(client, PLANNER)
    r = client.post(
        "/api/sensors/events",
        json={"type": "sos", "device_id": "WB-1", "lon": 114.8851, "lat": 40.8011},
        headers={"X-API-Key": SENSOR_KEY},
    )
    assert r.status_code == 201
    after = report(client, PLANNER)
    assert after["by_category"]["sos"] is None  # one SOS: suppressed, as in an area
    for k in ("by_grid", "by_community", "by_compound", "total", "open", "by_stage", "by_source", "hotspots"):
        assert after[k] == before[k], k  # nothing else moves: no per-grid 1 points at the household
    admin = report(client, ADMIN)
    assert admin["by_category"]["sos"] == 1 and sum(admin["by_grid"].values()) == 1
