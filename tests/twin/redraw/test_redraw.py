"""Hard rules of a redraw on the hand-made street (tests/twin/redraw/fixture.py): whole buildings, one community per
grid, contiguity, exact cover, the band, codes, determinism, locked grids, compounds, roads, bad parameters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

from twin.errors import InvalidInput
from twin.redraw import RedrawParams, redraw

from .fixture import A, B, street


@pytest.fixture(scope="module")
def twin():
    return street()


@pytest.fixture(scope="module")
def plan(twin):
    return redraw(twin, RedrawParams(grids=5, start="fresh", seed=3, workers=1))


def metric(twin, geoms):
    return twin.crs.to_metric(np.asarray(geoms, dtype=object))


def test_every_building_in_exactly_one_grid_of_its_own_community(twin, plan):
    a = plan.assignment
    assert sorted(a["building_id"]) == sorted(twin.frame("buildings")["building_id"])
    assert a["building_id"].is_unique
    grid_comm = dict(zip(plan.grids["grid_code"], plan.grids["community_id"]))
    assert all(grid_comm[g] == c for g, c in zip(a["grid_code"], a["community_id"]))
    assert all(code.startswith(c) for code, c in zip(plan.grids["grid_code"], plan.grids["community_id"]))


def test_grid_polygons_hold_their_whole_buildings(twin, plan):
    b = twin.frame("buildings").set_index("building_id")
    polys = dict(zip(plan.grids["grid_code"], metric(twin, plan.grids.geometry.values)))
    for bid, code in zip(plan.assignment["building_id"], plan.assignment["grid_code"]):
        foot = metric(twin, [b.geometry[bid]])[0]
        assert polys[code].buffer(0.01).contains(foot), bid


def test_grids_are_contiguous_single_polygons(plan):
    assert plan.after["contiguous"]
    assert all(g.geom_type == "Polygon" for g in plan.grids.geometry)


@pytest.mark.parametrize("community", [A, B])
def test_grids_cover_their_community_exactly(twin, plan, community):
    comm = twin.frame("communities").set_index("community_id").geometry[community]
    comm_m = metric(twin, [comm])[0]
    polys = metric(twin, plan.grids[plan.grids["community_id"] == community].geometry.values)
    union = shapely.union_all(polys)
    assert union.symmetric_difference(comm_m).area < 1e-6 * comm_m.area
    for p, q in itertools.combinations(polys, 2):
        assert p.intersection(q).area < 1e-6


@pytest.mark.parametrize("keep", [0.0, 0.5, 1.0])
def test_band_is_respected_when_feasible(twin, keep):
    # 12 buildings of 10 households in 4 grids: 30 each is possible; the band holds however strongly we keep
    plan = redraw(twin, RedrawParams(grids=5, band=0.05, seed=1, workers=1, keep=keep))
    a = plan.grids[plan.grids["community_id"] == A]
    assert len(a) == 4
    assert a["households"].tolist() == [30, 30, 30, 30]
    assert plan.after["max_deviation_pct"] <= 5.0
    assert plan.before["max_deviation_pct"] > 5.0  # today's strips are 30/60/30 of an ideal 40 with three grids


# uneven buildings (164 households, 4 grids: ideal 41, band ±5% = 39..43 households) where a strong keep used to
# stop one grid outside the band: no single move, chain or swap from the kept plan reaches the band
UNEVEN = [12, 16, 14, 8, 12, 14, 20, 20, 16, 14, 6, 12, 10, 10, 10]


@pytest.mark.parametrize("keep", [0.9, 1.0])
def test_band_wins_over_keep_on_uneven_buildings(keep):
    plan = redraw(street(UNEVEN), RedrawParams(grids=5, band=0.05, seed=1, workers=1, keep=keep))
    a = plan.grids[plan.grids["community_id"] == A]
    assert len(a) == 4 and a["households"].sum() == 164
    assert all(39 <= h <= 43 for h in a["households"]), a["households"].tolist()
    assert plan.after["in_band_share"] == 1.0 and plan.after["max_deviation_pct"] <= 5.0
    assert sorted(plan.assignment["building_id"]) == sorted(f"b{i}" for i in range(12)) + ["c0", "c1", "c2"]
    assert plan.grids["contiguous"].all()


def test_a_building_above_the_band_is_reported_not_hidden():
    # b0 alone holds 60 of A's 170 households: with 4 grids (ideal 42.5) its grid is at least 41% over
    plan = redraw(street([60] + [10] * 11 + [10, 10, 10]), RedrawParams(grids=5, band=0.05, seed=1, workers=1))
    a = plan.grids[plan.grids["community_id"] == A]
    assert a["households"].max() >= 60 and not a["in_band"].all()
    assert plan.after["in_band_share"] < 1.0 and plan.after["max_deviation_pct"] >= 100 * (60 / 42.5 - 1) - 1e-6


def test_target_load_sets_the_grid_count(twin):
    plan = redraw(twin, RedrawParams(target=40, seed=1, workers=1))
    assert (plan.grids["community_id"] == A).sum() == 3
    assert (plan.grids["community_id"] == B).sum() == 1


def test_codes_are_15_digits_numbered_west_to_east_north_to_south(twin):
    plan = redraw(twin, RedrawParams(grids=5, start="fresh", keep=0.0, seed=2, workers=1))
    g = plan.grids[plan.grids["community_id"] == A].copy()
    assert all(len(c) == 15 and c.isdigit() for c in plan.grids["grid_code"])
    assert plan.grids["grid_code"].is_unique
    fresh = g[~g["kept_code"]].sort_values("grid_code")
    c = shapely.centroid(metric(twin, fresh.geometry.values))
    xy = shapely.get_coordinates(c)
    rows = np.floor((xy[:, 1].max() - xy[:, 1]) / np.sqrt(90 * 120 / 4)).astype(int)
    order = list(zip(rows, xy[:, 0]))
    assert order == sorted(order)


def test_unchanged_grids_keep_their_codes(twin):
    plan = redraw(twin, RedrawParams(seed=1, workers=1))  # community B: one grid, nothing to change
    b = plan.grids[plan.grids["community_id"] == B]
    assert b["grid_code"].tolist() == [B + "001"] and bool(b["kept_code"].iloc[0])


def test_same_seed_same_plan(twin):
    p1 = redraw(twin, RedrawParams(grids=5, seed=7, workers=1))
    p2 = redraw(twin, RedrawParams(grids=5, seed=7, workers=1))
    assert p1.assignment.equals(p2.assignment)
    assert [g.wkb for g in p1.grids.geometry] == [g.wkb for g in p2.grids.geometry]


def test_locked_grid_is_unchanged(twin):
    plan = redraw(twin, RedrawParams(grids=5, locked=(A + "002",), seed=1, workers=1))
    a = plan.assignment.set_index("building_id")
    for bid in ("b1", "b2", "b5", "b6", "b9", "b10"):
        assert a.loc[bid, "grid_code"] == A + "002"
    assert (a["grid_code"] == A + "002").sum() == 6


def test_compounds_are_never_split(twin):
    plan = redraw(twin, RedrawParams(grids=3, unit="compound", seed=1, workers=1))
    a = plan.assignment.merge(twin.frame("buildings")[["building_id", "compound_id"]], on="building_id")
    a = a[a["compound_id"].notna()]
    assert (a.groupby("compound_id")["grid_code"].nunique() == 1).all()


def test_roads_are_barriers(twin):
    road = shapely.LineString([(114.88 + 60 / 84_300, 40.79), (114.88 + 60 / 84_300, 40.81)])
    plan = redraw(twin, RedrawParams(grids=3, start="fresh", seed=1, workers=1), roads=[road])
    a = plan.assignment.set_index("building_id")["grid_code"]
    west, east = {a[f"b{n}"] for n in (0, 1, 4, 5, 8, 9)}, {a[f"b{n}"] for n in (2, 3, 6, 7, 10, 11)}
    assert len(west) == 1 and len(east) == 1 and west != east


def test_moved_households_counted_against_todays_plan(twin):
    plan = redraw(twin, RedrawParams(seed=1, workers=1, keep=1.0))
    assert plan.before["moved_households"] == 0
    assert 0 < plan.after["moved_households"] <= 30  # 30/60/30 → 40/40/40 needs one building of 10 ... at most 3


def test_progress_reaches_one_naming_communities_not_codes(twin):
    seen = []
    redraw(twin, RedrawParams(grids=5, seed=1, workers=1, effort=5), progress=lambda f, m="": seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    named = {m for _, m in seen if m.startswith(("community ", "drawing "))}
    assert named == {"community A", "community B", "drawing A", "drawing B"}  # the street's names (fixture.py)


@pytest.mark.parametrize(
    "bad, words",
    [
        (dict(band=2.0), "band must be between"),
        (dict(grids=3, target=300), "either grids"),
        (dict(grids=0), "grids must be between"),
        (dict(keep=-0.1), "keep must be between"),
        (dict(start="nowhere"), "start must be one of"),
        (dict(weights={"cats": 1}), "unknown load term"),
        (dict(seed="x"), "seed must be a whole number"),
        (dict(effort=10**6), "effort must be between"),
    ],
)
def test_bad_parameters_are_refused_clearly(bad, words):
    with pytest.raises(InvalidInput, match=words):
        RedrawParams(**bad)


def test_unknown_parameter_and_locked_grid_and_too_many_grids(twin):
    with pytest.raises(InvalidInput, match="unknown redraw parameter"):
        RedrawParams.from_dict({"grid": 3})
    with pytest.raises(InvalidInput, match="locked grids do not exist"):
        redraw(twin, RedrawParams(locked=("999999999999999",), workers=1))
    with pytest.raises(InvalidInput, match="too many"):
        redraw(twin, RedrawParams(grids=40, workers=1))


def test_weighted_load_mixes_terms(twin):
    plan = redraw(twin, RedrawParams(grids=5, weights={"households": 1, "population": 1}, seed=1, workers=1))
    assert plan.after["load_total"] == pytest.approx(150.0)  # every term is scaled to the household total


def test_writes_geojson_and_geopackage(twin, plan, tmp_path):
    import json

    import geopandas as gpd

    fc = json.loads(plan.write_geojson(tmp_path / "plan.geojson").read_text(encoding="utf-8"))
    assert len(fc["features"]) == 5
    props = fc["features"][0]["properties"]
    assert {"grid_code", "community_id", "households", "load", "deviation"} <= set(props)
    gpkg = plan.write_gpkg(tmp_path / "plan.gpkg")
    assert len(gpd.read_file(gpkg, layer="grids")) == 5
    assert len(gpd.read_file(gpkg, layer="assignment")) == 15
