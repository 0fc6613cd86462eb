"""Repeat hotspots: the same kind of problem reported again and again at the same place within a period.

Rule: two incidents of the same category are at the same place when they share a building, or when they lie
within `radius_m` metres of each other. Seeds are taken in order of how many same-place incidents they have
(most first; ties by earlier report, then id); each still unassigned seed with at least `min_count` unassigned
same-place incidents (itself included) becomes a hotspot holding them. So a hotspot spans at most two radii or
one building, and no incident belongs to two hotspots.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from twin.errors import InvalidInput

log = logging.getLogger(__name__)

RADIUS_M = 50.0
MIN_COUNT = 3


def check_params(radius_m, min_count) -> tuple[float, int]:
    """(radius_m, min_count) as numbers in range: 0 ≤ radius ≤ 1000 m, 2 ≤ min_count ≤ 1000."""
    try:
        radius = float(radius_m)
        count = int(min_count)
    except (TypeError, ValueError):
        raise InvalidInput("hotspot radius_m must be a number of metres and min_count a whole number",
                           parameter="radius_m") from None
    if not 0 <= radius <= 1000:
        raise InvalidInput(f"radius_m must be between 0 and 1000 metres, not {radius:g}", parameter="radius_m")
    if not 2 <= count <= 1000:
        raise InvalidInput(f"min_count must be between 2 and 1000, not {count}", parameter="min_count")
    return radius, count


def hotspots(frame: pd.DataFrame, crs, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT) -> list[dict]:
    """The repeat hotspots among the incidents of `frame` (see the module rule), largest first."""
    radius_m, min_count = check_params(radius_m, min_count)
    out = []
    if not len(frame):
        return out
    for category, group in frame.groupby("category", sort=True):
        if len(group) < min_count:
            continue
        group = group.sort_values(["reported_at", "incident_id"], kind="stable")
        for members in _clusters(group, crs, radius_m, min_count):
            out.append(_describe(category, group.iloc[members]))
    out.sort(key=lambda h: (-h["count"], h["category"], h["first_reported"]))
    return out


def _clusters(group: pd.DataFrame, crs, radius_m: float, min_count: int) -> list[np.ndarray]:
    x, y = crs.xy(group["lon"].to_numpy(dtype=float), group["lat"].to_numpy(dtype=float))
    near = cKDTree(np.column_stack([x, y])).query_ball_point(np.column_stack([x, y]), r=radius_m)
    buildings = group["building_id"].to_numpy(dtype=object)
    same_building: dict = {}
    for i, b in enumerate(buildings):
        if b is not None and not pd.isna(b):
            same_building.setdefault(b, []).append(i)
    neighbours = []
    for i, b in enumerate(buildings):
        extra = same_building.get(b, []) if b is not None and not pd.isna(b) else []
        neighbours.append(np.unique(np.asarray(list(near[i]) + extra, dtype=np.int64)))
    sizes = np.array([len(n) for n in neighbours])
    order = np.lexsort((np.arange(len(group)), -sizes))  # group is already in report order
    taken = np.zeros(len(group), dtype=bool)
    clusters = []
    for seed in order:
        if taken[seed] or sizes[seed] < min_count:
            continue
        members = neighbours[seed][~taken[neighbours[seed]]]
        if len(members) >= min_count:
            taken[members] = True
            clusters.append(members)
    return clusters


def _describe(category: str, rows: pd.DataFrame) -> dict:
    return {
        "category": category,
        "count": int(len(rows)),
        "building_id": _mode(rows["building_id"]),
        "compound_id": _mode(rows["compound_id"]),
        "grid_code": _mode(rows["grid_code"]),
        "community_id": _mode(rows["community_id"]),
        "lon": round(float(rows["lon"].mean()), 6),
        "lat": round(float(rows["lat"].mean()), 6),
        "first_reported": rows["reported_at"].min(),
        "last_reported": rows["reported_at"].max(),
        "incident_ids": [str(v) for v in rows["incident_id"]],
    }


def _mode(values: pd.Series):
    """The most frequent non-null value (the first seen among ties), or None."""
    vc = values.dropna().value_counts(sort=False)
    if not len(vc):
        return None
    return str(vc.index[int(np.argmax(vc.to_numpy()))])
