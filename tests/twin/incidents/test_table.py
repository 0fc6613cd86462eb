"""The incident table's id → position lookup answers as a dict of the ids would, whatever order the ids came in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.incidents.figures import FigureIndex
from twin.incidents.store import COLUMNS
from twin.incidents.table import LiveTable


def table_of(ids: list[str]) -> LiveTable:
    frame = pd.DataFrame({c: [None] * len(ids) for c in COLUMNS})
    frame["incident_id"] = ids
    frame["stage"] = "reported"
    frame["lon"], frame["lat"] = 114.88, 40.80
    return LiveTable(frame, FigureIndex(frame), texts=None)


def test_ids_loaded_in_any_order_are_found_at_their_positions():
    for ids in (["GD3", "GD1", "GD20", "GD2", "GD10"], ["GD1", "GD2", "GD3"], ["b"], []):
        t = table_of(ids)
        want = {i: p for p, i in enumerate(ids)}
        assert {i: t.pos[i] for i in ids} == want and all(i in t.pos for i in ids)
        for unknown in ("GD0", "GD4", "GD", "", "zz", 3, None):
            assert unknown not in t.pos and t.pos.get(unknown, -9) == -9
        asked = [*ids[::-1], "GD99", 7]
        assert t.pos.many(asked).tolist() == [want.get(i, -1) for i in asked]


def test_an_appended_id_is_found_and_positions_of_many_ids_come_back_in_their_order():
    t = table_of(["GD5", "GD4"])
    i = t.append({"incident_id": "GD1", "lon": 114.9, "lat": 40.8})
    assert i == 2 and t.pos["GD1"] == 2 and "GD1" in t.pos and len(t.pos) == 3
    assert t.pos.many(["GD1", "GD4", "nope", "GD5"]).tolist() == [2, 1, -1, 0]
    assert np.array_equal(t.pos.many([]), np.empty(0, dtype=np.int64))
