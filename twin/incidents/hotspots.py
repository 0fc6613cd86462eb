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


def hotspots(
    frame: pd.DataFrame, crs, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT, ns: bool = False
) -> list[dict]:
    """The repeat hotspots among the incidents of `frame` (see the module rule), largest first; first and last
    report times as Timestamps, or as int nanoseconds since the epoch with `ns` (for callers that format many)."""
    radius_m, min_count = check_params(radius_m, min_count)
    if not len(frame):
        return []
    frame = frame.sort_values(["category", "reported_at", "incident_id"], kind="stable").reset_index(drop=True)
    xy = np.column_stack(crs.xy(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)))
    building, _ = pd.factorize(frame["building_id"], use_na_sentinel=True)
    label = labels(frame["category"].to_numpy(dtype=object), xy, building, radius_m, min_count)
    if not (label >= 0).any():
        return []
    return _describe(frame, label, ns)


def labels(groups: np.ndarray, xy: np.ndarray, building: np.ndarray, radius_m: float, min_count: int) -> np.ndarray:
    """The hotspot number of each row (-1 for none); rows sorted by group (the category), report time, then id.

    xy are metric coordinates, building codes ≥ 0 (-1 for none); hotspots never join two groups. Every group is
    clustered in one pass: each group is lifted to its own height, more than a radius above the one before, so no
    two groups are ever near, and the greedy seeds of different groups never compete for an incident.
    """
    n = len(groups)
    label = np.full(n, -1, dtype=np.int64)
    if not n:
        return label
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    sizes = np.diff(np.concatenate([starts, [n]]))
    gid = np.repeat(np.arange(len(starts)), sizes)
    rows = np.flatnonzero(sizes[gid] >= min_count)
    if not len(rows):
        return label
    lifted = np.column_stack([xy[rows], gid[rows] * (2.0 * radius_m + 1.0)])
    b = building[rows].astype(np.int64)
    codes = np.where(b >= 0, b * len(starts) + gid[rows], -1)
    clusters = _clusters(lifted, codes, radius_m, min_count)
    first_group = np.array([gid[rows[m[0]]] for m in clusters], dtype=np.int64)
    for number, k in enumerate(np.argsort(first_group, kind="stable")):  # numbered group by group, as found
        label[rows[clusters[k]]] = number
    return label


def _clusters(xy: np.ndarray, building: np.ndarray, radius_m: float, min_count: int) -> list[np.ndarray]:
    n = len(xy)
    same = _same_place(xy, building, radius_m)
    sizes = np.diff(same.indptr)  # same-place incidents of each, itself included
    order = np.lexsort((np.arange(n), -sizes))  # rows are in report order
    taken = np.zeros(n, dtype=bool)
    clusters = []
    seeds = order[sizes[order] >= min_count].tolist()  # plain ints: the loop below runs once per incident
    indptr, indices = same.indptr.tolist(), same.indices
    done = bytearray(n)  # mirrors `taken` for the per-seed test
    for seed in seeds:
        if done[seed]:
            continue
        near = indices[indptr[seed] : indptr[seed + 1]]
        members = np.sort(near[~taken[near]])
        if len(members) >= min_count:
            taken[members] = True
            for m in members.tolist():
                done[m] = 1
            clusters.append(members)
    return clusters


def _same_place(xy: np.ndarray, codes: np.ndarray, radius_m: float):
    """Symmetric 0/1 matrix (scipy sparse): i and j lie within `radius_m` or share a building code (≥ 0); diagonal
    set."""
    from scipy import sparse  # here, not at import: the modules importing this one start without scipy
    from scipy.spatial import cKDTree

    n = len(xy)
    p = np.concatenate([cKDTree(xy).query_pairs(radius_m, output_type="ndarray").reshape(-1, 2), _same_code(codes)])
    rows = np.concatenate([p[:, 0], p[:, 1], np.arange(n)])
    cols = np.concatenate([p[:, 1], p[:, 0], np.arange(n)])
    m = sparse.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    return m


def _same_code(codes: np.ndarray) -> np.ndarray:
    """Every pair (i, j) of rows sharing a code ≥ 0, once, without a loop over the codes."""
    idx = np.flatnonzero(codes >= 0)
    order = idx[np.argsort(codes[idx], kind="stable")]
    c = codes[order]
    if not len(c):
        return np.zeros((0, 2), dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], c[1:] != c[:-1]]))
    sizes = np.diff(np.concatenate([starts, [len(c)]]))
    group = np.repeat(np.arange(len(starts)), sizes)
    later = sizes[group] - 1 - (np.arange(len(c)) - starts[group])  # members after each one in its group
    i = np.repeat(np.arange(len(c)), later)
    step = np.arange(len(i)) - np.repeat(np.cumsum(later) - later, later) + 1
    return np.column_stack([order[i], order[i + step]]).astype(np.int64)


def _describe(frame: pd.DataFrame, label: np.ndarray, ns: bool = False) -> list[dict]:
    """One dict per hotspot of `frame` (sorted by category, report time, id; `label` from labels()), largest first."""
    rows = np.flatnonzero(label >= 0)
    rows = rows[np.argsort(label[rows], kind="stable")]  # keeps report order inside each hotspot
    h = label[rows]
    starts = np.flatnonzero(np.concatenate([[True], h[1:] != h[:-1]]))
    ends = np.concatenate([starts[1:], [len(h)]])
    count = ends - starts
    reported = frame["reported_at"]
    times = reported.to_numpy(dtype="datetime64[ns]").view("int64")[rows]
    first, last = times[starts], times[ends - 1]  # report order inside a hotspot (one category): first is the earliest
    category = frame["category"].to_numpy(dtype=object)[rows[starts]]
    lon = np.round(np.add.reduceat(frame["lon"].to_numpy(dtype=float)[rows], starts) / count, 6)
    lat = np.round(np.add.reduceat(frame["lat"].to_numpy(dtype=float)[rows], starts) / count, 6)
    places = {}
    for c in PLACE_COLUMNS:
        mode = _mode(h, frame[c].to_numpy(dtype=object)[rows]).reindex(h[starts]).to_numpy(dtype=object)
        places[c] = np.where(pd.isna(mode), None, mode).tolist()
    cat_rank = pd.factorize(category, sort=True)[0]
    order = np.lexsort((first, cat_rank, -count))  # count desc, category, first report; stable
    ids = frame["incident_id"].astype(str).to_numpy(dtype=object)[rows].tolist()  # list slices are cheap
    tz = reported.dt.tz
    out = []
    starts, ends, count, lon, lat = (a.tolist() for a in (starts, ends, count, lon, lat))
    first, last, category = first.tolist(), last.tolist(), category.tolist()
    for k in order.tolist():
        out.append(
            {
                "category": category[k],
                "count": count[k],
                **{c: places[c][k] for c in PLACE_COLUMNS},
                "lon": lon[k],
                "lat": lat[k],
                "first_reported": first[k] if ns else pd.Timestamp(first[k], tz=tz),
                "last_reported": last[k] if ns else pd.Timestamp(last[k], tz=tz),
                "incident_ids": ids[starts[k] : ends[k]],
            }
        )
    return out


PLACE_COLUMNS = ("building_id", "compound_id", "grid_code", "community_id")


def _mode(hotspot: np.ndarray, values: np.ndarray) -> pd.Series:
    """Per hotspot, the most frequent non-null value (ties: the smallest), as text."""
    known = pd.notna(values)
    if not known.any():
        return pd.Series([], dtype=object)
    codes, uniques = pd.factorize(values[known].astype(str), sort=True)
    h = hotspot[known]
    key = h * len(uniques) + codes
    keys, counts = np.unique(key, return_counts=True)
    kh, kc = keys // len(uniques), keys % len(uniques)
    order = np.lexsort((kc, -counts, kh))  # per hotspot: most frequent first, then the smallest value
    first = order[np.concatenate([[True], kh[order][1:] != kh[order][:-1]])]
    return pd.Series(np.asarray(uniques, dtype=object)[kc[first]], index=kh[first])
