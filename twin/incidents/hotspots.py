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
from scipy import sparse
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
        raise InvalidInput(
            "hotspot radius_m must be a number of metres and min_count a whole number", parameter="radius_m"
        ) from None
    if not 0 <= radius <= 1000:
        raise InvalidInput(f"radius_m must be between 0 and 1000 metres, not {radius:g}", parameter="radius_m")
    if not 2 <= count <= 1000:
        raise InvalidInput(f"min_count must be between 2 and 1000, not {count}", parameter="min_count")
    return radius, count


def hotspots(frame: pd.DataFrame, crs, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT) -> list[dict]:
    """The repeat hotspots among the incidents of `frame` (see the module rule), largest first."""
    radius_m, min_count = check_params(radius_m, min_count)
    if not len(frame):
        return []
    frame = frame.sort_values(["category", "reported_at", "incident_id"], kind="stable").reset_index(drop=True)
    label = np.full(len(frame), -1, dtype=np.int64)
    found = 0
    cats = frame["category"].to_numpy(dtype=object)
    xy = np.column_stack(crs.xy(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)))
    building, _ = pd.factorize(frame["building_id"], use_na_sentinel=True)
    cuts = np.flatnonzero(cats[1:] != cats[:-1]) + 1
    for rows in np.split(np.arange(len(frame)), cuts):
        if len(rows) < min_count:
            continue
        for members in _clusters(xy[rows], building[rows], radius_m, min_count):
            label[rows[members]] = found
            found += 1
    if not found:
        return []
    return _describe(frame[label >= 0].assign(hotspot=label[label >= 0]))


def _clusters(xy: np.ndarray, building: np.ndarray, radius_m: float, min_count: int) -> list[np.ndarray]:
    n = len(xy)
    same = _same_place(xy, building, radius_m)
    sizes = np.diff(same.indptr)  # same-place incidents of each, itself included
    order = np.lexsort((np.arange(n), -sizes))  # rows are in report order
    taken = np.zeros(n, dtype=bool)
    clusters = []
    for seed in order:
        if sizes[seed] < min_count:
            break
        if taken[seed]:
            continue
        near = same.indices[same.indptr[seed] : same.indptr[seed + 1]]
        members = np.sort(near[~taken[near]])
        if len(members) >= min_count:
            taken[members] = True
            clusters.append(members)
    return clusters


def _same_place(xy: np.ndarray, codes: np.ndarray, radius_m: float) -> sparse.csr_matrix:
    """Symmetric 0/1 matrix: i and j lie within `radius_m` or share a building code (≥ 0); diagonal set."""
    n = len(xy)
    pairs = [cKDTree(xy).query_pairs(radius_m, output_type="ndarray").reshape(-1, 2)]
    by_code = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[by_code])) + 1
    for members in np.split(by_code, bounds):
        if len(members) > 1 and codes[members[0]] >= 0:
            i, j = np.triu_indices(len(members), k=1)
            pairs.append(np.column_stack([members[i], members[j]]))
    p = np.concatenate(pairs)
    rows = np.concatenate([p[:, 0], p[:, 1], np.arange(n)])
    cols = np.concatenate([p[:, 1], p[:, 0], np.arange(n)])
    m = sparse.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    return m


def _describe(members: pd.DataFrame) -> list[dict]:
    g = members.groupby("hotspot", sort=True)
    first = g.first()
    out = pd.DataFrame(
        {
            "category": first["category"],
            "count": g.size(),
            "lon": g["lon"].mean().round(6),
            "lat": g["lat"].mean().round(6),
            "first_reported": g["reported_at"].min(),
            "last_reported": g["reported_at"].max(),
            "incident_ids": g["incident_id"].agg(lambda v: [str(x) for x in v]),
        }
    )
    for column in PLACE_COLUMNS:
        out[column] = _mode(members, column).reindex(out.index)
    out = out.sort_values(["count", "category", "first_reported"], ascending=[False, True, True], kind="stable")
    cols = [
        "category",
        "count",
        "building_id",
        "compound_id",
        "grid_code",
        "community_id",
        "lon",
        "lat",
        "first_reported",
        "last_reported",
        "incident_ids",
    ]
    return [
        {c: (None if c in PLACE_COLUMNS and pd.isna(r[c]) else r[c]) for c in cols}
        | {"count": int(r["count"]), "lon": float(r["lon"]), "lat": float(r["lat"])}
        for r in out[cols].to_dict("records")
    ]


PLACE_COLUMNS = ("building_id", "compound_id", "grid_code", "community_id")


def _mode(members: pd.DataFrame, column: str) -> pd.Series:
    """Per hotspot, the most frequent non-null value of `column` (ties: the smallest), as text."""
    n = members.dropna(subset=[column]).groupby(["hotspot", column]).size().rename("n").reset_index()
    n = n.sort_values(["hotspot", "n", column], ascending=[True, False, True], kind="stable")
    top = n.drop_duplicates("hotspot").set_index("hotspot")[column]
    return top.astype(str)
