"""twin.units: floors × units × rooms worked out by hand, vacant slots, and the role rule on the tiny street."""

from __future__ import annotations

import pandas as pd

from twin.access import Principal
from twin.units import _cells, building_units


def test_rooms_of_a_floor_become_slots_and_missing_ones_are_vacant():
    rows = pd.DataFrame(
        {
            "household_id": ["a", "b", "c", "d"],
            "unit": [1, 1, 1, 2],
            "floor": [1, 1, 2, 1],
            "room": ["102", "101", "201", "101"],
            "size": [1, 2, 3, 4],
        }
    )
    per_unit, cells = _cells(rows, units=2, floors=2)
    assert per_unit == [2, 1]  # unit 1 has two rooms a floor (its widest floor), unit 2 one
    assert len(cells) == 2 * (2 + 1)
    at = {(c["floor"], c["unit"], c["slot"]): c for c in cells}
    assert at[(1, 1, 0)]["household"]["household_id"] == "b"  # 101 before 102
    assert at[(1, 1, 1)]["household"]["household_id"] == "a"
    assert at[(2, 1, 1)]["vacant"] and at[(2, 1, 1)]["household"] is None
    assert at[(2, 2, 0)]["vacant"]


def test_staff_of_another_grid_get_counts_only(tiny_twin):
    other = building_units(tiny_twin, "B3", Principal("staff", frozenset(["130702001001001"])))
    assert other["cells"] is None and other["counts"]["households"] == 4
    assert other["counts"]["floating"] is None  # two floating households: hidden
    own = building_units(tiny_twin, "B3", Principal("staff", frozenset(["130702001001002"])))
    assert own["personal"] and sum(not c["vacant"] for c in own["cells"]) == 4
