"""A grid worker's scope follows their grid through any chain of adoptions and rollbacks (twin/plans.py), on the tiny
street with the hand-made plans of tests/tiny.py: the worker of the west box (B1, B2: households H1-H5), limited to
the grid as loaded ...001, reaches ...002 under plan 1 and ...003 under plan 2, never the east box (B3: H6-H9)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from tests.tiny import GA1, GA2, GA3, GB1, PLAN_1, PLAN_2, recoded_grids, write_tiny
from twin import plans

DAY1, DAY2, DAY3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)
WEST, EAST = ["H1", "H2", "H3", "H4", "H5"], ["H6", "H7", "H8", "H9"]


@pytest.fixture
def street(tmp_path):
    from layers import REGISTRY
    from twin.core import Twin

    twin = Twin.open(write_tiny(tmp_path / "tiny"), REGISTRY, live=False)
    store = plans.PlanStore(tmp_path / "state" / "twin.sqlite")
    yield twin, store
    store.close()


def adopt(twin, store, plan, day) -> int:
    """Publish a hand-made plan effective `day` (adopted on that day) and install what is in force then."""
    meta = store.publish(recoded_grids(plan), day, "t", "test", {}, day, plans.layer_rows(twin))
    plans.sync(twin, store, day)
    return meta["id"]


def reach(twin, grids) -> tuple[list, list]:
    """(the scope of a worker limited to `grids` as loaded, the households in it), sorted."""
    scope = plans.scope_in_force(frozenset(grids), twin)
    hh = twin.frame("households")
    return sorted(scope), sorted(hh.loc[hh["grid_code"].isin(scope), "household_id"], key=lambda h: int(h[1:]))


def test_one_adoption_reaches_the_matched_grid_and_not_the_code_reused_next_door(street):
    twin, store = street
    adopt(twin, store, PLAN_1, DAY1)
    # the west box is ...002 now; its old code ...001 is the east box's, so it is not kept in the scope
    assert reach(twin, [GA1]) == ([GA2], WEST)
    assert reach(twin, [GA2]) == ([GA1], EAST)
    assert reach(twin, [GB1]) == ([GB1], ["H10", "H11", "H12"])


def test_two_adoptions_follow_the_grid_through_both(street):
    twin, store = street
    p1 = adopt(twin, store, PLAN_1, DAY1)
    p2 = adopt(twin, store, PLAN_2, DAY2)
    assert store.chain(p2) == [p1, p2] and store.get(p2)["parent"] == p1
    assert store.get(p1)["parent"] == store.baseline()
    # west: ...001 → ...002 → ...003; ...002 is a past code no grid bears now (incidents reported in it)
    assert reach(twin, [GA1]) == ([GA2, GA3], WEST)
    # east: ...002 → ...001 → ...001 (kept)
    assert reach(twin, [GA2]) == ([GA1, GA2], EAST)


@pytest.mark.parametrize(
    "rolled_back, in_force, scope",
    [
        ((2,), 1, [GA2]),  # plan 1 in force again: the scope of one adoption
        (
            (1,),
            2,
            [GA2, GA3],
        ),  # plan 2 stays; its previous codes are plan 1's, followed through it although rolled back
        ((2, 1), None, [GA1]),  # the grids as loaded: the scope as given
    ],
)
def test_rolling_back_after_two_adoptions(street, rolled_back, in_force, scope):
    twin, store = street
    ids = {1: adopt(twin, store, PLAN_1, DAY1), 2: adopt(twin, store, PLAN_2, DAY2)}
    for n in rolled_back:
        store.rollback(ids[n], "t")
    plans.sync(twin, store, DAY3)
    assert store.in_force(DAY3) == ids.get(in_force)
    assert reach(twin, [GA1]) == (scope, WEST)


def test_a_plan_adopted_over_the_baseline_after_a_rollback_starts_from_it(street):
    # plan 1 rolled back, then plan 2's codes read as if adopted over the grids as loaded: its ...003 comes from ...002
    twin, store = street
    p1 = adopt(twin, store, PLAN_1, DAY1)
    store.rollback(p1, "t")
    plans.sync(twin, store, DAY2)
    p2 = adopt(twin, store, PLAN_2, DAY2)
    assert store.chain(p2) == [p2]
    assert reach(twin, [GA2]) == ([GA2, GA3], WEST)  # ...002 (the east box as loaded) became the west box ...003
    assert reach(twin, [GA1]) == ([GA1], EAST)  # ...001 kept its code (matched to itself): the east box now


def test_a_grid_matched_to_none_reaches_no_grid_in_force(street):
    twin, store = street
    adopt(twin, store, {GA1: (GA1, GA1), GA2: (GA3, None), GB1: (GB1, GB1)}, DAY1)
    assert reach(twin, [GA2]) == ([GA2], [])
    assert plans.scope_in_force(None, twin) is None


def test_scopes_from_codes_alone():
    # the baseline A, B, C; plan 1 over it: A→X, B→A, C dropped, new Y; plan 2 over plan 1: X→B, A→A, Y→C
    lines = plans.scopes(
        [{"A": None, "B": None, "C": None}, {"X": "A", "A": "B", "Y": None}, {"B": "X", "A": "A", "C": "Y"}]
    )
    assert lines == {"A": frozenset({"B", "X"}), "B": frozenset({"A"}), "C": frozenset()}


def test_a_store_of_before_without_parents_reads_as_adopted_over_the_baseline(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(plans.SCHEMA.replace(",\n    parent INTEGER", ""))
    empty = '{"type": "FeatureCollection", "features": []}'
    for status in (plans.BASELINE, plans.PUBLISHED):
        db.execute(
            "INSERT INTO grid_plans (status, effective_date, created_at, created_by, source, summary, grids) "
            "VALUES (?, '2026-03-02', 'now', 't', 's', '{}', ?)",
            (status, empty),
        )
    db.commit()
    db.close()
    store = plans.PlanStore(path)
    assert store.get(2)["parent"] is None and store.chain(2) == [2] and store.successions(2) == [{}, {}]
    store.close()
