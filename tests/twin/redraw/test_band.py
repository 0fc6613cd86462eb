"""One band everywhere (issue 19, items 4-5) on the hand-made street (tests/twin/redraw/fixture.py): held grids
(locked, or one building alone above the band) are measured on their own and the others around the ideal of what
remains, in the search and the metrics alike; the plan says so, and says when the band cannot hold."""

from __future__ import annotations

import numpy as np
import pytest

from twin.errors import InvalidInput
from twin.redraw import RedrawParams, redraw
from twin.redraw.band import oversized

from .fixture import A, B, street


def test_oversized_units_are_found_against_the_ideal_of_what_remains():
    # 4 grids, loads 200 + 120: ideal 80 → 200 is far above; the rest 120 over 3 grids = 40, nothing else above
    load = np.array([200.0, 20, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10])
    assert oversized(load, np.zeros(12, bool), 4, 0.1).tolist() == [True] + [False] * 11
    # a fixed (locked) unit is never counted, and one grid is always left for the others
    assert not oversized(load, np.array([True] + [False] * 11), 3, 0.1).any()
    assert not oversized(np.array([50.0, 1, 1]), np.zeros(3, bool), 1, 0.1).any()


def test_a_building_far_above_the_band_gets_its_own_grid_and_the_rest_is_balanced():
    # A: b0 alone 200 households, the other 11 buildings 120 (b1 = 20): 4 grids → b0, then 3 × 40 exactly
    plan = redraw(street([200, 20] + [10] * 10 + [10, 10, 10]), RedrawParams(grids=5, band=0.05, seed=1, workers=1))
    a = plan.grids[plan.grids["community_id"] == A]
    held = a[a["held"]]
    assert held["households"].tolist() == [200] and held["buildings"].tolist() == [1]
    free = a[~a["held"]]
    assert sorted(free["households"]) == [40, 40, 40]
    assert np.allclose(free["ideal"], 40) and free["in_band"].all()
    assert float(held["ideal"].iloc[0]) == pytest.approx(320 / 4)  # the held grid: the community's ideal
    kinds = {n["kind"] for n in plan.notes if n["community_id"] == A}
    assert kinds == {"held"}
    note = next(n for n in plan.notes if n["kind"] == "held")
    assert "40.0" in note["en"] and "80.0" in note["en"] and note["community"] == f"A ({A})"


def test_locked_grids_use_the_same_band_in_search_and_metrics():
    # lock A001 (b0, b4, b8: 30 households); the other 90 households in 2 grids → ideal of what remains 45
    twin = street()
    plan = redraw(twin, RedrawParams(locked=(A + "001",), band=0.05, seed=1, workers=1))
    a = plan.grids[plan.grids["community_id"] == A].set_index("grid_code")
    assert bool(a.loc[A + "001", "held"]) and a.loc[A + "001", "households"] == 30
    free = a[~a["held"]]
    assert np.allclose(free["ideal"], 45.0)
    # 45 households from buildings of 10 cannot be within ±5% (42.75..47.25): the plan says the band cannot hold
    assert not free["in_band"].all()
    assert {n["kind"] for n in plan.notes if n["community_id"] == A} == {"held", "band_not_held"}
    assert np.allclose(np.abs(free["deviation"]), 5 / 45)  # 40 and 50 around 45, the same figures as the search's


def test_every_grid_locked_and_one_more_grid_asked_for_gives_a_sensible_plan():
    twin = street()
    locked = (A + "001", A + "002", A + "003")
    plan = redraw(twin, RedrawParams(grids=5, locked=locked, seed=1, workers=1))
    a = plan.grids[plan.grids["community_id"] == A]
    assert sorted(a["grid_code"]) == sorted(locked) and a["held"].all()
    assert (plan.grids["community_id"] == B).sum() == 2  # the extra grid went where there was room
    assert any(n["kind"] == "all_locked" for n in plan.notes)


def test_every_grid_locked_in_the_only_community_asked_for_is_a_clear_error():
    twin = street()
    locked = (A + "001", A + "002", A + "003")
    with pytest.raises(InvalidInput, match="locked"):
        redraw(twin, RedrawParams(grids=4, locked=locked, communities=(A,), seed=1, workers=1))
