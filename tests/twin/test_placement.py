"""One placement of a point (twin.placement), checked on hand-made boxes whose answers are read off the drawing.

y 1 +------+------+------+------+
    | G0   | G1   | G2          |      grids G0, G1 in community A (x 0-2); G2 in community B (x 2-4)
    | (A)  | (A)  | (B)         |      communities A = x 0-2, B = x 2-4; nothing beyond x = 4
y 0 +------+------+------+------+
    0      1      2             4
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from tests.tiny import GA1, GA2, GB1, A, B
from twin.placement import containing, grid_of_points, holding, nearest_within

GRIDS = gpd.GeoDataFrame(
    {"grid_code": ["G2", "G0", "G1"], "community_id": ["B", "A", "A"]},  # B's grid first: lowest position
    geometry=[shapely.box(2, 0, 4, 1), shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
)


def pts(*xy):
    return shapely.points(np.array(xy, dtype=float))


def test_a_point_inside_one_grid_gets_that_grid():
    assert grid_of_points(pts((0.5, 0.5), (1.5, 0.5), (3, 0.5)), ["A", "A", "B"], GRIDS).tolist() == ["G0", "G1", "G2"]


def test_a_point_on_no_grid_gets_none():
    assert grid_of_points(pts((5, 0.5), (1, 2)), ["A", "A"], GRIDS).tolist() == [None, None]
    assert containing(pts((5, 0.5)), GRIDS, "grid_code").tolist() == [None]


def test_between_two_grids_of_different_communities_the_points_own_community_wins():
    edge = pts((2, 0.5), (2, 0.5))
    # G2 (B) has the lowest position, yet a point of community A on the edge goes to A's grid G1
    assert grid_of_points(edge, ["A", "B"], GRIDS).tolist() == ["G1", "G2"]
    # without a community, the lowest position wins
    assert containing(edge, GRIDS, "grid_code").tolist() == ["G2", "G2"]


def test_between_two_grids_of_the_same_community_the_lowest_position_wins():
    assert grid_of_points(pts((1, 0.5)), ["A"], GRIDS).tolist() == ["G0"]
    assert holding(shapely.STRtree(GRIDS.geometry.values), pts((1, 0.5), (9, 9))).tolist() == [1, -1]


def test_missing_points_are_placed_nowhere():
    points = np.array([None, shapely.Point(0.5, 0.5)], dtype=object)
    assert containing(points, GRIDS, "grid_code").tolist() == [None, "G0"]


def test_nearest_within_counts_metres_on_the_ground():
    # lon/lat near Beijing: one degree of latitude is ~111 km, so 0.0001° is ~11 m
    area = gpd.GeoDataFrame(geometry=[shapely.box(116.0, 40.0, 116.0001, 40.0001)], crs=4326)
    near = pts((116.00005, 40.00005), (116.00005, 40.0002), (116.00005, 40.001))  # inside, ~11 m, ~100 m away
    assert nearest_within(near, area, 20.0).tolist() == [0, 0, -1]


def test_the_twin_places_a_point_of_the_tiny_street(tiny_twin):
    place = tiny_twin.incidents.placer
    inside = place.place_one(114.8830, 40.8012)  # in building B3 of compound C2, grid A2
    assert inside == {"grid_code": GA2, "community_id": A, "compound_id": "C2", "building_id": "B3"}
    # on the edge between A's grid A2 and B's grid B1 (lon 114.884): community A (first), so A's grid
    edge = place.place_one(114.884, 40.8028)
    assert (edge["community_id"], edge["grid_code"], edge["building_id"]) == (A, GA2, None)
    outside = place.place_one(114.890, 40.8028)  # east of the street: nothing
    assert outside == {"grid_code": None, "community_id": None, "compound_id": None, "building_id": None}
    many = place.place([114.8810, 114.8860], [40.8012, 40.8028])
    assert many["grid_code"].tolist() == [GA1, GB1]
    assert many["community_id"].tolist() == [A, B]


def test_one_point_at_a_time_agrees_with_the_vectorised_pass(tiny_twin):
    """place_one (scalar queries) and place_all (arrays) on seeded points over the tiny street and beyond, half of
    them on the lattice of its edges (grid, community and compound borders, corners), where the tie rules decide."""
    place = tiny_twin.incidents.placer
    rng = np.random.default_rng(11)
    lons = np.concatenate([rng.uniform(114.879, 114.889, 150), 114.879 + rng.integers(0, 11, 150) * 0.001])
    lats = np.concatenate([rng.uniform(40.7995, 40.8035, 150), 40.7995 + rng.integers(0, 9, 150) * 0.0005])
    many = place.place_all(lons, lats)
    assert [place.place_one(x, y) for x, y in zip(lons.tolist(), lats.tolist())] == many
    assert {m["grid_code"] for m in many} == {GA1, GA2, GB1, None}  # every case met
    assert place.place(lons, lats).to_dict("records") == many
