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
    order, groups = report_order(frame)
    lon, lat = (frame[c].to_numpy(dtype=float)[order] for c in ("lon", "lat"))
    xy = np.column_stack(crs.xy(lon, lat))
    building = pd.factorize(frame["building_id"], use_na_sentinel=True)[0][order]
    label = labels(groups, xy, building, radius_m, min_count)
    if not (label >= 0).any():
        return []
    return _describe(frame, order, label, ns)


def report_order(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(positions of `frame`'s rows sorted by category, report time, then id, as a stable sort_values gives; the
    category of each in that order, as codes or values).

    Frames usually come in report order already, so only the categories are sorted then (no text sort of the ids).
    """
    t = frame["reported_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    ties = np.flatnonzero(t[1:] == t[:-1])
    ids = frame["incident_id"]
    cat, _ = pd.factorize(frame["category"], sort=True, use_na_sentinel=True)
    plain = (cat >= 0).all() and (t != np.iinfo(np.int64).min).all()  # no missing category or time
    if plain and (t[1:] >= t[:-1]).all() and np.all(ids.iloc[ties].to_numpy() < ids.iloc[ties + 1].to_numpy()):
        order = np.argsort(cat, kind="stable")
        return order, cat[order]
    keys = ["category", "reported_at", "incident_id"]
    order = frame.reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()
    return order, frame["category"].to_numpy(dtype=object)[order]


TREE_PER_GROUP_MAX = 64  # more groups than this share one tree (a tree per group costs Python per group)


def labels(groups: np.ndarray, xy: np.ndarray, building: np.ndarray, radius_m: float, min_count: int) -> np.ndarray:
    """The hotspot number of each row (-1 for none); rows sorted by group (the category), report time, then id.

    xy are metric coordinates, building codes ≥ 0 (-1 for none); hotspots never join two groups. Every group is
    clustered in one pass: neighbours are searched group by group, so no two groups are ever near, and the greedy
    seeds of different groups never compete for an incident.
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
    b = building[rows].astype(np.int64)
    codes = np.where(b >= 0, b * len(starts) + gid[rows], -1)
    clusters = _clusters(xy[rows], gid[rows], codes, radius_m, min_count)
    first_group = gid[rows[[m[0] for m in clusters]]]
    numbered = [clusters[k] for k in np.argsort(first_group, kind="stable")]  # group by group, as found
    members = np.fromiter((m for c in numbered for m in c), dtype=np.int64)
    label[rows[members]] = np.repeat(np.arange(len(numbered)), [len(c) for c in numbered])
    return label


def _clusters(xy, groups, codes, radius_m: float, min_count: int) -> list[list[int]]:
    n = len(xy)
    indptr, indices = _same_place(xy, groups, codes, radius_m)
    sizes = np.diff(indptr)  # same-place incidents of each, itself included
    order = np.lexsort((np.arange(n), -sizes))  # rows are in report order
    seeds = order[sizes[order] >= min_count].tolist()
    # plain ints and lists: the loop runs once per seed over a handful of neighbours, cheaper than numpy calls
    indptr, indices = indptr.tolist(), indices.tolist()
    done = bytearray(n)
    clusters = []
    for seed in seeds:
        if done[seed]:
            continue
        members = [m for m in indices[indptr[seed] : indptr[seed + 1]] if not done[m]]  # sorted, as indices
        if len(members) >= min_count:
            for m in members:
                done[m] = 1
            clusters.append(members)
    return clusters


def _same_place(xy, groups, codes, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the symmetric same-place relation, CSR with sorted indices: i and j are in one group
    (rows sorted by group) and lie within `radius_m` or share a code (≥ 0); each row includes itself."""
    from scipy.spatial import cKDTree  # here, not at import: the modules importing this one start without scipy

    n = len(xy)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    ends = np.concatenate([starts[1:], [n]])
    if len(starts) <= TREE_PER_GROUP_MAX:  # a few large groups (a report's categories): one tree each
        near = [
            cKDTree(xy[a:b]).query_pairs(radius_m, output_type="ndarray").reshape(-1, 2).astype(np.int64) + a
            for a, b in zip(starts.tolist(), ends.tolist())
        ]
    else:  # thousands of small groups (six-nos: compound × category): one tree, each group moved apart along x
        gid = np.repeat(np.arange(len(starts)), ends - starts)
        shift = float(np.ptp(xy[:, 0])) + 2 * radius_m + 1.0
        moved = np.column_stack([xy[:, 0] + gid * shift, xy[:, 1]])
        near = [cKDTree(moved).query_pairs(radius_m, output_type="ndarray").reshape(-1, 2).astype(np.int64)]
    same = _same_code(codes)
    pairs = np.concatenate([*near, same])
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    key = np.sort(np.concatenate([lo * n + hi, hi * n + lo, np.arange(n, dtype=np.int64) * (n + 1)]))
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]  # np.unique hashes: slower here
    rows, cols = np.divmod(key, n)  # sorted by row, then column; no pair twice
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols


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


def _describe(frame: pd.DataFrame, order: np.ndarray, label: np.ndarray, ns: bool = False) -> list[dict]:
    """One dict per hotspot of `frame` (`label` from labels() of its rows taken in `order`: by category, report
    time, id), largest first."""
    k = np.flatnonzero(label >= 0)
    k = k[np.argsort(label[k], kind="stable")]  # keeps report order inside each hotspot
    h, rows = label[k], order[k]  # rows of `frame`
    starts = np.flatnonzero(np.concatenate([[True], h[1:] != h[:-1]]))
    ends = np.concatenate([starts[1:], [len(h)]])
    count = ends - starts
    reported = frame["reported_at"]
    times = reported.to_numpy(dtype="datetime64[ns]").view("int64")[rows]
    first, last = times[starts], times[ends - 1]  # report order inside a hotspot (one category): first is the earliest
    category = frame["category"].iloc[rows[starts]].to_numpy(dtype=object)
    lon = np.round(np.add.reduceat(frame["lon"].to_numpy(dtype=float)[rows], starts) / count, 6)
    lat = np.round(np.add.reduceat(frame["lat"].to_numpy(dtype=float)[rows], starts) / count, 6)
    places = {}
    for c in PLACE_COLUMNS:
        mode = _mode(h, frame[c].iloc[rows]).reindex(h[starts]).to_numpy(dtype=object)
        places[c] = np.where(pd.isna(mode), None, mode).tolist()
    cat_rank = pd.factorize(category, sort=True)[0]
    ranked = np.lexsort((first, cat_rank, -count))  # count desc, category, first report; stable
    ids = frame["incident_id"].iloc[rows].astype(str).tolist()  # list slices are cheap
    tz = reported.dt.tz
    out = []
    starts, ends, count, lon, lat = (a.tolist() for a in (starts, ends, count, lon, lat))
    first, last, category = first.tolist(), last.tolist(), category.tolist()
    for k in ranked.tolist():
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


def _mode(hotspot: np.ndarray, values: pd.Series) -> pd.Series:
    """Per hotspot, the most frequent non-null value (ties: the smallest), as text."""
    if values.dtype != object and pd.api.types.is_string_dtype(values.dtype):
        codes, uniques = pd.factorize(values, sort=True)  # text already: no copy to Python strings
    else:  # values hashed as they are, then their few distinct ones as text (1 and "1" are one text)
        codes, raw = pd.factorize(values.to_numpy(dtype=object))
        if not len(raw):
            return pd.Series([], dtype=object)
        text, uniques = pd.factorize(np.asarray(raw, dtype=object).astype(str), sort=True)
        codes = np.where(codes >= 0, text[codes], -1)
    known = codes >= 0
    if not known.any():
        return pd.Series([], dtype=object)
    key = np.sort(hotspot[known] * len(uniques) + codes[known])
    at = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    keys, counts = key[at], np.diff(np.concatenate([at, [len(key)]]))
    kh, kc = keys // len(uniques), keys % len(uniques)
    order = np.lexsort((kc, -counts, kh))  # per hotspot: most frequent first, then the smallest value
    first = order[np.concatenate([[True], kh[order][1:] != kh[order][:-1]])]
    return pd.Series(np.asarray(uniques, dtype=object)[kc[first]], index=kh[first])
