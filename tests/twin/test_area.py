"""Area queries on the tiny street, checked against numbers worked out by hand (tests/tiny.py), and on the demo
street against a brute-force geopandas computation."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from tests.tiny import GA1, GA2, B, box
from twin import area as ar
from twin import area_input as ai
from twin.access import PUBLIC, Principal
from twin.errors import InvalidInput, NotFound

ADMIN = Principal("admin")
PLANNER = Principal("planner")


def footprint_m2(x0, y0):
    """Geodesic area of a tiny-street building (0.0003° square) — independent of the twin's projection."""
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.box(x0, y0, x0 + 0.0003, y0 + 0.0003))[0])


def run(twin, geom, rule="centroid", **kw):
    return ar.query(twin, ai.from_geojson(twin, geom), rule=rule, **kw)


# --- whole buildings -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule", ar.RULES)
def test_grid_a1_holds_b1_b2_under_both_rules(tiny_twin, rule):
    ans = ar.query(tiny_twin, ai.from_id(tiny_twin, "grid", GA1), rule=rule)
    s = ans.summary
    # B1: 3 households (sizes 1, 3, 2; one elderly alone), B2: 2 households (sizes 4, 2)
    assert s["buildings"]["count"] == 2
    assert s["people"] == {"households": 5, "population": 12, "elderly_alone": 1, "floating": 0, "key_group": 0}
    fp = footprint_m2(114.8807, 40.8010) * 6 + footprint_m2(114.8811, 40.8018) * 5
    assert s["buildings"]["floor_area_m2"] == pytest.approx(fp, rel=1e-3)
    assert s["property_states"] == {"unmanaged": {"buildings": 2, "households": 5}}
    assert s["build_decades"] == {"1980s": {"buildings": 2, "households": 5}}
    assert [(c["compound_id"], c["whole"]) for c in ans.compounds] == [("C1", True)]
    # grid A1 is 0.002° x 0.003°
    geod = abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.box(114.880, 40.800, 114.882, 40.803))[0])
    assert s["area"]["area_m2"] == pytest.approx(geod, rel=1e-3)
    assert s["area"]["in_street_m2"] == pytest.approx(geod, rel=1e-3)


def test_community_b_and_compound_c3(tiny_twin):
    s = ar.query(tiny_twin, ai.from_id(tiny_twin, "community", B)).summary
    assert s["buildings"]["count"] == 2  # B4, B5
    assert s["people"]["households"] == 3 and s["people"]["population"] == 6 and s["people"]["elderly_alone"] == 1
    assert s["property_states"] == {"fallback": {"buildings": 2, "households": 3}}
    assert s["build_decades"] == {"1970s": {"buildings": 2, "households": 3}}
    c3 = ar.query(tiny_twin, ai.from_id(tiny_twin, "compound", "C3"))
    assert c3.summary["buildings"]["count"] == 2
    assert c3.compounds[0]["compound_id"] == "C3" and c3.compounds[0]["whole"]


def test_unknown_id_is_not_found(tiny_twin):
    with pytest.raises(NotFound):
        ai.from_id(tiny_twin, "grid", "999")
    with pytest.raises(InvalidInput):
        ai.from_id(tiny_twin, "street", "x")


# --- a building cut by the edge -------------------------------------------------------------------------------
# B1 spans lon 114.8807-114.8810; its representative point is its centre, lon 114.88085.
def test_cut_at_40_percent_of_b1(tiny_twin):
    geom = box(114.8800, 40.8000, 114.88082, 40.8030)  # covers 0.00012 of B1's 0.0003° width
    c = run(tiny_twin, geom, "centroid").summary
    assert c["buildings"]["count"] == 0  # centre outside
    assert c["people"]["households"] == 0
    a = run(tiny_twin, geom, "area").summary
    assert a["buildings"]["count"] == pytest.approx(0.4, abs=1e-3)
    assert a["people"]["households"] == pytest.approx(1.2, abs=1e-3)  # 0.4 x 3
    assert a["people"]["population"] == pytest.approx(2.4, abs=1e-3)  # 0.4 x 6
    assert a["people"]["elderly_alone"] == pytest.approx(0.4, abs=1e-3)
    assert a["buildings"]["floor_area_m2"] == pytest.approx(0.4 * 6 * footprint_m2(114.8807, 40.8010), rel=2e-3)


def test_cut_at_60_percent_of_b1(tiny_twin):
    geom = box(114.8800, 40.8000, 114.88088, 40.8030)
    c = run(tiny_twin, geom, "centroid")
    assert c.summary["buildings"]["count"] == 1  # centre inside: B1 counts wholly
    assert c.summary["people"]["households"] == 3 and c.summary["people"]["population"] == 6
    a = run(tiny_twin, geom, "area")
    assert a.summary["buildings"]["count"] == pytest.approx(0.6, abs=1e-3)
    assert a.summary["people"]["households"] == pytest.approx(1.8, abs=1e-3)
    # C1 spans lon 114.8805-114.8815: 0.00038 of its 0.001° width is inside
    assert a.compounds[0]["compound_id"] == "C1"
    assert a.compounds[0]["share"] == pytest.approx(0.38, abs=1e-3) and not a.compounds[0]["whole"]
    # public and planner callers: 1 or 2 suppressed, fractions between 0 and 3 as well; staff see all
    pub = ar.figures(tiny_twin, c, PUBLIC)
    assert pub["people"]["households"] == 3 and pub["people"]["elderly_alone"] is None
    assert "households" not in pub
    pa = ar.figures(tiny_twin, a, PLANNER)
    assert pa["people"]["households"] is None and pa["people"]["population"] in (3, 6)  # 3.6 rounded to base 3
    assert ar.figures(tiny_twin, a, ADMIN)["people"]["households"] == pytest.approx(1.8, abs=1e-3)


def test_staff_see_households_only_in_their_grids(tiny_twin):
    geom = box(114.880, 40.800, 114.884, 40.803)  # community A: grids A1 (B1, B2) and A2 (B3)
    ans = run(tiny_twin, geom)
    staff = ar.figures(tiny_twin, ans, Principal("staff", frozenset({GA2})))
    assert sorted(h["household_id"] for h in staff["households"]) == ["H6", "H7", "H8", "H9"]
    assert staff["people"]["households"] == 9  # aggregates are not suppressed for staff
    assert len(ar.figures(tiny_twin, ans, ADMIN)["households"]) == 9
    assert "households" not in ar.figures(tiny_twin, ans, PLANNER)


# --- discs ------------------------------------------------------------------------------------------------------
def test_point_and_radius_around_b3(tiny_twin):
    area = ai.from_point(tiny_twin, 114.88295, 40.80115, 30)
    s = ar.query(tiny_twin, area).summary
    assert s["buildings"]["count"] == 1
    assert s["people"]["households"] == 4 and s["people"]["floating"] == 2
    assert s["area"]["area_m2"] == pytest.approx(math.pi * 30**2, rel=1e-3)


@pytest.mark.parametrize("radius", [-5, 0, 1e9, float("nan"), "abc", True])
def test_bad_radius(tiny_twin, radius):
    with pytest.raises(InvalidInput):
        ai.from_point(tiny_twin, 114.8829, 40.8011, radius)


# --- bad input ------------------------------------------------------------------------------------------------
def test_outside_the_street_is_zeros(tiny_twin):
    s = run(tiny_twin, box(115.5, 41.5, 115.6, 41.6)).summary
    assert s["buildings"]["count"] == 0 and s["people"]["households"] == 0 and s["compounds"]["count"] == 0
    assert s["area"]["in_street_m2"] == 0 and s["area"]["area_m2"] > 0
    assert s["incidents"]["total"] == 0


def test_swapped_lat_lon_is_refused(tiny_twin):
    swapped = {
        "type": "Polygon",
        "coordinates": [[[p[1], p[0]] for p in box(114.880, 40.800, 114.884, 40.803)["coordinates"][0]]],
    }
    with pytest.raises(InvalidInput, match="lat, lon"):
        ai.from_geojson(tiny_twin, swapped)
    with pytest.raises(InvalidInput, match="lat, lon"):
        ai.from_point(tiny_twin, 40.8011, 114.8829, 50)


def test_self_intersecting_polygon_is_repaired(tiny_twin):
    # a bow tie over grid A1: (114.880, 40.800) -> (114.882, 40.803) -> (114.882, 40.800) -> (114.880, 40.803)
    bow = {
        "type": "Polygon",
        "coordinates": [
            [[114.880, 40.800], [114.882, 40.803], [114.882, 40.800], [114.880, 40.803], [114.880, 40.800]]
        ],
    }
    area = ai.from_geojson(tiny_twin, {"type": "Feature", "properties": {}, "geometry": bow})
    assert area.repaired and "Self-intersection" in area.repair_reason
    assert area.repair_code == "self_intersection" and area.describe()["repair_code"] == "self_intersection"
    assert area.geom.is_valid and area.geom.area == pytest.approx(0.002 * 0.003 / 2)


@pytest.mark.parametrize(
    "geom, message",
    [
        ({"type": "LineString", "coordinates": [[114.88, 40.80], [114.89, 40.81]]}, "Polygon or MultiPolygon"),
        ({"type": "Point", "coordinates": [114.88, 40.80]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": []}, "no coordinates"),
        ({"type": "Polygon", "coordinates": [[[114.88, 40.80], [114.89, 40.81], [114.88, 40.80]]]}, "at least 4"),
        (
            {"type": "Polygon", "coordinates": [[[114.88, 40.80], [114.89, 40.80], [114.89, 40.81], [114.88, 40.81]]]},
            "not closed",
        ),
        (
            {"type": "Polygon", "coordinates": [[["a", 40.80], [114.89, 40.80], [114.89, 40.81], ["a", 40.80]]]},
            "lon, lat",
        ),
        (
            {"type": "Polygon", "coordinates": [[[114.88, 40.80], [114.89, 40.80], [114.90, 40.80], [114.88, 40.80]]]},
            "no area",
        ),
        ({"type": "Polygon", "coordinates": [[[200, 40.80], [201, 40.80], [201, 40.81], [200, 40.80]]]}, "range"),
    ],
)
def test_malformed_geometries_are_refused(tiny_twin, geom, message):
    with pytest.raises(InvalidInput, match=message):
        ai.from_geojson(tiny_twin, geom)


def test_too_many_vertices(tiny_twin):
    ring = [[114.88 + 0.001 * math.cos(a), 40.80 + 0.001 * math.sin(a)] for a in np.linspace(0, 6.28, 200)]
    ring.append(ring[0])
    with pytest.raises(InvalidInput, match="vertices"):
        ai.from_geojson(tiny_twin, {"type": "Polygon", "coordinates": [ring]}, max_vertices=100)
    # a million vertices is refused before any JSON is parsed or geometry built
    body = b'{"type":"Polygon","coordinates":[[' + b"[114.88,40.8]," * 1_000_000 + b"[114.88,40.8]]]}"
    with pytest.raises(InvalidInput, match="too many vertices"):
        ai.parse_geojson_text(body, max_vertices=100_000)


def test_invalid_json(tiny_twin):
    with pytest.raises(InvalidInput, match="not valid JSON"):
        ai.parse_geojson_text(b'{"type": "Polygon", ')
    with pytest.raises(InvalidInput):
        ai.parse_geojson_text(b"[1, 2]")


def test_unknown_rule(tiny_twin):
    with pytest.raises(InvalidInput, match="rule"):
        run(tiny_twin, box(114.880, 40.800, 114.882, 40.803), rule="majority")


# --- incidents ------------------------------------------------------------------------------------------------
def test_incidents_by_category_stage_and_overdue(tiny_twin):
    svc = tiny_twin.incidents
    made = svc.create({"category": "garbage", "lon": 114.88085, "lat": 40.80115}, actor="test")  # at B1
    svc.create({"category": "parking", "lon": 114.8866, "lat": 40.8011}, actor="test")  # at B5, community B
    reported = pd.Timestamp(made["reported_at"])
    grid = ai.from_id(tiny_twin, "grid", GA1)
    s = ar.query(tiny_twin, grid, now=reported + pd.Timedelta(days=2)).summary["incidents"]
    assert s["total"] == 1 and s["by_category"]["garbage"] == 1 and s["by_category"]["parking"] == 0
    assert s["by_stage"]["reported"] == 1
    assert s["overdue"] == 1 and s["on_time"]["accept"] == 0.0  # never accepted, 1-minute limit long past
    ans = ar.query(tiny_twin, grid, now=reported + pd.Timedelta(days=2))
    rows = ar.figures(tiny_twin, ans, PUBLIC)["overdue_incidents"]
    assert [r["incident_id"] for r in rows] == [made["incident_id"]] and rows[0]["overdue_limit"] == "accept"
    later = ar.query(tiny_twin, grid, start=reported + pd.Timedelta(hours=1)).summary["incidents"]
    assert later["total"] == 0
    with pytest.raises(InvalidInput):
        ar.query(tiny_twin, grid, start="2026-03-02", end="2026-03-01")


def test_risk_summary_counts_levels_of_counted_buildings(tiny_twin):
    from twin import risk

    scores = risk.score(tiny_twin)
    s = ar.query(tiny_twin, ai.from_id(tiny_twin, "community", B)).summary["risk"]
    want = scores.buildings.loc[["B4", "B5"], "level"].value_counts()
    assert s["by_level"] == {lv: int(want.get(lv, 0)) for lv in risk.LEVELS}
    assert [t["building_id"] for t in s["top"]] == list(
        scores.buildings.loc[["B4", "B5"]].sort_values("score", ascending=False, kind="stable").index
    )


# --- the demo street against brute force --------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_twin(tmp_path_factory):
    from layers import open_twin
    from twin.store import default_data_dir

    if not (default_data_dir() / "buildings.geojson").exists():
        pytest.fail("data/demo is missing: run `twin demo` to write the demo street")
    return open_twin(None, state_dir=tmp_path_factory.mktemp("demo-state"))


def random_polygons(twin, n, seed=11):
    """Seeded random convex-ish polygons over the street (some cut through many buildings)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = twin.boundary.bounds
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        r = rng.uniform(0.001, 0.006)
        k = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = r * rng.uniform(0.5, 1.0, k)
        ring = [[float(cx + a * np.cos(t)), float(cy + a * np.sin(t))] for a, t in zip(rad, ang)]
        out.append({"type": "Polygon", "coordinates": [ring + [ring[0]]]})
    return out


def demo_areas(twin):
    """Six random polygons, a grid, a community, a compound and a disc of the demo street (seeded picks)."""
    rng = np.random.default_rng(5)
    areas = [ai.from_geojson(twin, g) for g in random_polygons(twin, 6)]
    for kind, layer, field in (
        ("grid", "grids", "grid_code"),
        ("community", "communities", "community_id"),
        ("compound", "compounds", "compound_id"),
    ):
        ids = twin.frame(layer)[field].to_numpy()
        areas.append(ai.from_id(twin, kind, ids[rng.integers(len(ids))]))
    b = twin.frame("buildings").geometry.values[rng.integers(len(twin.frame("buildings")))].centroid
    areas.append(ai.from_point(twin, b.x, b.y, 350))
    return areas


@pytest.mark.parametrize("rule", ar.RULES)
def test_demo_matches_brute_force(demo_twin, rule):
    from twin.area_check import brute_force, prepare

    frames = prepare(demo_twin)
    for area in demo_areas(demo_twin):
        ans = ar.query(demo_twin, area, rule=rule)
        ref = brute_force(demo_twin, area, rule, frames)
        s = ans.summary
        ids = demo_twin.frame("buildings")["building_id"].to_numpy()[ans.building_pos]
        assert sorted(ids) == ref["building_ids"], area.kind
        assert len(ids) > 0 or area.kind == "polygon"  # the named areas and the disc hold buildings
        assert s["buildings"]["count"] == pytest.approx(ref["buildings"], abs=1e-3)
        assert s["buildings"]["floor_area_m2"] == pytest.approx(ref["floor_area_m2"], rel=1e-6, abs=0.5)
        for k, v in ref["people"].items():
            assert s["people"][k] == pytest.approx(v, abs=1e-3), k
        got_states = {k: v["buildings"] for k, v in s["property_states"].items()}
        assert got_states == pytest.approx(ref["property_states"], abs=1e-3)
        assert {c["compound_id"]: c["share"] for c in ans.compounds} == pytest.approx(ref["compounds"], abs=1e-4)
        json.dumps(ar.figures(demo_twin, ans, ADMIN), default=str)  # the answer is JSON-able
