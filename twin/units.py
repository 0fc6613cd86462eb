"""A building's floors × units, each cell a household as the caller may see it (每楼每户); no web code here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .access import Principal, suppress
from .errors import Forbidden, NotFound
from .incidents.timeliness import DONE_STAGES

FLAGS = ("elderly_alone", "floating", "key_group")  # boolean household fields counted per building
RECORD_FIELDS = ("household_id", "unit", "floor", "room", "size", "elderly_alone", "floating", "key_group")
PERSONAL_FIELDS = ("name", "phone")
CARE_CALLS_SHOWN = 30  # the most recent care calls listed with a household


def household_rows(twin, building_id) -> pd.DataFrame:
    """The households of one building (an index of building → rows is built once per households layer)."""
    if "households" not in twin.layers:
        return pd.DataFrame(columns=["household_id", "unit", "floor", "room"])
    layer = twin.layer("households")
    groups = layer.derived.get("by_building")
    if groups is None:
        groups = layer.derived["by_building"] = _group_positions(layer.frame)
    return layer.frame.iloc[groups.get(building_id, np.zeros(0, dtype=int))]


def _group_positions(frame: pd.DataFrame) -> dict:
    codes, uniques = pd.factorize(frame["building_id"])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {b: order[bounds[i] : bounds[i + 1]] for i, b in enumerate(uniques)}


def building_units(twin, building_id, p: Principal) -> dict:
    """Floors × units of a building; cells with the household record only for callers who may see its grid."""
    b = twin.layer("buildings").get(building_id)
    grid = b.get("grid_code")
    rows = household_rows(twin, building_id)
    sees = p.may_see_grid(grid)
    units = max(int(b["units"]), int(rows["unit"].max()) if len(rows) else 1)
    floors = max(int(b["floors"]), int(rows["floor"].max()) if len(rows) else 1)
    counts = {"households": len(rows), "persons": int(pd.to_numeric(rows.get("size"), errors="coerce").sum())}
    for flag in FLAGS:
        counts[flag] = int(rows[flag].fillna(False).astype(bool).sum()) if flag in rows else 0
    out = {
        "building_id": building_id,
        "name": b.get("name") or building_id,
        "compound_id": b.get("compound_id"),
        "community_id": b.get("community_id"),
        "grid_code": grid,
        "floors": floors,
        "units": units,
        "personal": sees,
    }
    if not sees:
        out["counts"] = {k: suppress(v) for k, v in counts.items()}
        out["cells"] = None
        return out
    out["counts"] = counts
    out["rooms_per_floor"], out["cells"] = _cells(rows, units, floors)
    return out


def _cells(rows: pd.DataFrame, units: int, floors: int) -> tuple[list[int], list[dict]]:
    """Every room slot of each unit (its widest floor sets the count): a household's record, or vacant."""
    slot = _slot_of(rows)
    per_unit = [
        int(slot[rows["unit"].to_numpy() == u].max()) + 1 if (rows["unit"] == u).any() else 1
        for u in range(1, units + 1)
    ]
    taken = {(int(u), int(f), int(s)): r for u, f, s, r in zip(rows["unit"], rows["floor"], slot, _records(rows))}
    cells = []
    for f in sorted(set(range(1, floors + 1)) | set(rows["floor"].astype(int))):
        for u in range(1, units + 1):
            for s in range(per_unit[u - 1]):
                rec = taken.get((u, f, s))
                cells.append({"unit": u, "floor": f, "slot": s, "vacant": rec is None, "household": rec})
    return per_unit, cells


def _slot_of(rows: pd.DataFrame) -> np.ndarray:
    """Position of each household on its unit's floor (by room number), 0-based."""
    if not len(rows):
        return np.zeros(0, dtype=int)
    key = pd.DataFrame({"u": rows["unit"].to_numpy(), "f": rows["floor"].to_numpy(), "r": rows["room"].astype(str)})
    key["n"] = pd.to_numeric(key["r"], errors="coerce")
    return key.sort_values(["u", "f", "n", "r"]).groupby(["u", "f"]).cumcount().reindex(key.index).to_numpy()


def _records(rows: pd.DataFrame) -> list[dict]:
    cols = [c for c in RECORD_FIELDS + PERSONAL_FIELDS if c in rows.columns]
    return [_plain(r) for r in rows[cols].to_dict("records")]


def _plain(rec: dict) -> dict:
    return {k: (None if _missing(v) else v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def household_record(twin, household_id, p: Principal) -> dict:
    """One household for staff of its grid (or admin): its record, building, open incidents and recent care calls."""
    if "households" not in twin.layers:
        raise NotFound(f"household {household_id!r} does not exist", id=str(household_id))
    row = twin.layer("households").get(household_id)
    if not p.may_see_grid(row.get("grid_code")):
        raise Forbidden("that household is outside your grids")  # no id: nothing to learn by trying ids
    rec = _plain({k: row.get(k) for k in RECORD_FIELDS + PERSONAL_FIELDS + ("building_id", "grid_code") if k in row})
    service = twin.incidents
    if service is None:
        return {**rec, "open_incidents": [], "care_calls": []}
    frame = service.select(household_id=household_id)
    frame = frame[~frame["stage"].isin(DONE_STAGES)]
    due = service.timeliness(frame) if len(frame) else None
    incidents = [
        {
            "incident_id": r["incident_id"],
            "category": r["category"],
            "stage": r["stage"],
            "reported_at": r["reported_at"],
            "next_due": due.at[i, "next_due"] if due is not None else None,
            "overdue": bool(due.at[i, "overdue"]) if due is not None else False,
        }
        for i, r in frame.iterrows()
    ]
    store = getattr(service, "store", None)
    calls = store.care_checks(household_id=household_id) if hasattr(store, "care_checks") else []
    return {**rec, "open_incidents": incidents, "care_calls": calls[-CARE_CALLS_SHOWN:][::-1]}
