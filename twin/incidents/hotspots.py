"""Repeat hotspots: the same kind of problem reported again and again at the same place within a period.

Rule: two incidents of the same category are at the same place when they share a building, or when they lie
within `radius_m` metres of each other. Seeds are taken in order of how many same-place incidents they have
(most first; ties by earlier report, then id); each still unassigned seed with at least `min_count` unassigned
same-place incidents (itself included) becomes a hotspot holding them. So a hotspot spans at most two radii or
one building, and no incident belongs to two hotspots.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
    codes, values = {}, {}
    for c in ("category", *PLACE_COLUMNS):
        codes[c], uniques = pd.factorize(frame[c], use_na_sentinel=True)
        values[c] = list(uniques)
    ids = frame["incident_id"].astype(str).to_numpy(dtype=object)
    lon, lat = frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
    reported_ns = frame["reported_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    spots = find_hotspots(codes, values, reported_ns, ids, np.column_stack(crs.xy(lon, lat)), radius_m, min_count)
    rows = spots.rows
    found = describe(spots, {c: codes[c][rows] for c in PLACE_COLUMNS}, values, ids[rows], lon[rows], lat[rows])
    if not ns:
        tz = frame["reported_at"].dt.tz
        for h in found:
            h["first_reported"] = pd.Timestamp(h["first_reported"], tz=tz)
            h["last_reported"] = pd.Timestamp(h["last_reported"], tz=tz)
    return found


@dataclass(frozen=True)
class Found:
    """Hotspots as arrays, in the answer's order (count desc, category, first report): found, not yet described."""

    rows: np.ndarray  # every member's row, hotspot after hotspot, each hotspot's in report order
    starts: np.ndarray  # hotspot k holds rows[starts[k] : starts[k + 1]]
    category: np.ndarray  # each hotspot's category code
    rank: np.ndarray  # its category's rank (category names in order)
    first: np.ndarray  # first and last report times, int nanoseconds
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.category)

    @property
    def count(self) -> np.ndarray:
        """Incidents in each hotspot."""
        return np.diff(self.starts)

    def take(self, which) -> Found:
        """The hotspots at `which` (indexes, in that order), their members laid out afresh."""
        which = np.asarray(which, dtype=np.int64)
        size = self.count[which]
        starts = np.zeros(len(which) + 1, dtype=np.int64)
        np.cumsum(size, out=starts[1:])
        at = np.repeat(self.starts[which] - starts[:-1], size) + np.arange(starts[-1])
        return Found(self.rows[at], starts, self.category[which], self.rank[which], self.first[which], self.last[which])

    def part(self, a: int, b: int) -> Found:
        """Hotspots a to b - 1, in this order, their members not copied."""
        s = self.starts[a : b + 1]
        rows = self.rows[s[0] : s[-1]]
        return Found(rows, s - s[0], self.category[a:b], self.rank[a:b], self.first[a:b], self.last[a:b])

    def by_category(self) -> dict[int, Found]:
        """category code → its hotspots, in this order; for hotspots laid out category by category."""
        cut = np.flatnonzero(np.diff(self.category)) + 1
        bounds = np.concatenate([[0], cut, [len(self)]]).tolist() if len(self) else []
        return {int(self.category[a]): self.part(a, b) for a, b in zip(bounds[:-1], bounds[1:])}

    def moved(self, rows: np.ndarray) -> Found:
        """The same hotspots with each member row r read as rows[r] (e.g. a subset's rows as the table's)."""
        return Found(np.asarray(rows)[self.rows], self.starts, self.category, self.rank, self.first, self.last)


_EMPTY = np.zeros(0, dtype=np.int64)
NONE_FOUND = Found(_EMPTY, np.zeros(1, dtype=np.int64), _EMPTY, _EMPTY, _EMPTY, _EMPTY)


def find_hotspots(
    codes: dict, values: dict, reported_ns, ids, xy, radius_m: float, min_count: int, ordered: bool = True
) -> Found:
    """The hotspots of incidents given as arrays, as arrays (rows of the given arrays), nothing described yet:
    `codes[c]` the integer codes (-1 missing) of the category and each place column, `values[c]` the value of each
    code; report times as int nanoseconds, ids as text. No frame of text is needed, so the service hands over its
    coded columns as they are. In the answer's order; without `ordered`, category by category (names in order),
    each category's in the order found, which a stable sort by (count desc, first report) makes the answer's.
    `xy`: metric coordinates, a row per incident."""
    order, groups = report_order(codes["category"], values["category"], reported_ns, ids)
    if not len(order):
        return NONE_FOUND
    xy, building = np.asarray(xy, dtype=float)[order], np.asarray(codes["building_id"])[order]
    members, starts = clusters(groups, xy, building, radius_m, min_count)
    if len(starts) < 2:
        return NONE_FOUND
    rows = order[members]  # rows of the input arrays
    times = np.asarray(reported_ns, dtype=np.int64)
    first, last = times[rows[starts[:-1]]], times[rows[starts[1:] - 1]]  # report order inside a hotspot
    category = np.asarray(codes["category"], dtype=np.int64)[rows[starts[:-1]]]
    found = Found(rows, starts, category, groups[members[starts[:-1]]], first, last)
    if not ordered:
        return found.take(stable_order(found.rank))
    return found.take(np.lexsort((first, found.rank, -found.count)))  # count desc, category, first report; stable


def report_order(category, names, reported_ns, ids) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the incidents with a category, sorted by category name, report time (missing last), then id;
    each one's category rank in that order). Incidents without a category never share a place with another."""
    rank = np.full(len(names) + 1, -1, dtype=np.int64)
    rank[:-1] = np.argsort(np.argsort(np.asarray(names, dtype=object), kind="stable"), kind="stable")
    cat = rank[np.asarray(category, dtype=np.int64)]  # -1 picks the trailing -1
    keep = np.flatnonzero(cat >= 0)
    order = keep[group_order(cat[keep], np.asarray(reported_ns, dtype=np.int64)[keep], np.asarray(ids)[keep])]
    return order, cat[order]


def group_order(keys, reported_ns, ids) -> np.ndarray:
    """Positions sorted by `keys` (integers), report time (missing last), then id, as labels() takes its rows.

    Ids are compared only where key and time tie and the given order does not settle them already (rows usually
    come in report order), so no text is sorted.
    """
    t = np.asarray(reported_ns, dtype=np.int64)
    t = np.where(t == np.iinfo(np.int64).min, np.iinfo(np.int64).max, t)  # a missing time sorts last
    keys = np.asarray(keys, dtype=np.int64)
    if np.all(t[1:] >= t[:-1]):  # given in report order, as a period's positions usually are: sort by key alone
        order = stable_order(keys)
    else:
        order = np.lexsort((t, keys))
    k, tt = keys[order], t[order]
    ties = np.flatnonzero((k[1:] == k[:-1]) & (tt[1:] == tt[:-1]))
    if len(ties):
        ids = np.asarray(ids, dtype=object)
        if not np.all(ids[order[ties]] < ids[order[ties + 1]]):
            order = order[np.lexsort((pd.factorize(ids[order], sort=True)[0], tt, k))]
    return order


def stable_order(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable"), in one radix pass when the keys are small whole numbers ≥ 0."""
    keys = np.asarray(keys)
    if len(keys) and keys.min() >= 0 and keys.max() < 1 << 16:
        keys = keys.astype(np.uint16)
    return np.argsort(keys, kind="stable")


def labels(groups: np.ndarray, xy: np.ndarray, building: np.ndarray, radius_m: float, min_count: int) -> np.ndarray:
    """The hotspot number of each row (-1 for none), hotspots numbered group by group in the order found; rows and
    arguments as clusters() takes them."""
    members, starts = clusters(groups, xy, building, radius_m, min_count)
    label = np.full(len(groups), -1, dtype=np.int64)
    size = np.diff(starts)
    first = members[starts[:-1]]
    numbered = stable_order(groups[first])  # group by group, as found
    number = np.empty(len(first), dtype=np.int64)
    number[numbered] = np.arange(len(first))
    label[members] = np.repeat(number, size)
    return label


def clusters(groups: np.ndarray, xy: np.ndarray, building: np.ndarray, radius_m: float, min_count: int):
    """(members, starts): hotspot k holds rows members[starts[k] : starts[k + 1]] in row order, hotspots in the
    order the greedy rule finds them; rows sorted by group (the category), report time, then id.

    xy are metric coordinates, building codes ≥ 0 (-1 for none); hotspots never join two groups. Every group is
    clustered in one pass: no two groups share a cell of the pair search, so the greedy seeds of different groups
    never compete for an incident.
    """
    n = len(groups)
    none = (np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64))
    if not n:
        return none
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    sizes = np.diff(np.concatenate([starts, [n]]))
    gid = np.repeat(np.arange(len(starts)), sizes)
    rows = np.flatnonzero(sizes[gid] >= min_count)
    if not len(rows):
        return none
    b = np.asarray(building, dtype=np.int64)[rows]
    codes = np.where(b >= 0, b * len(starts) + gid[rows], -1)
    from twin.incidents import hotspot_kernel  # here, not at import: it loads numba

    indptr, neighbours = hotspot_kernel.same_place_graph(xy[rows], gid[rows], codes, radius_m)
    _, members, starts = hotspot_kernel.greedy(indptr, neighbours, min_count)
    return rows[members], starts


def describe(found: Found, codes: dict, values: dict, ids, lon, lat) -> list[dict]:
    """One dict per hotspot of `found`, in its order, given its members' columns laid out as found.rows (`codes[c]`
    of each place column, ids, lon, lat); report times as int nanoseconds."""
    n = len(found)
    if not n:
        return []
    starts, count = found.starts[:-1], found.count
    hotspot = np.repeat(np.arange(n), count)
    category = np.asarray(values["category"], dtype=object)[found.category].tolist()
    lon = np.round(np.add.reduceat(np.asarray(lon, dtype=float), starts) / count, 6).tolist()
    lat = np.round(np.add.reduceat(np.asarray(lat, dtype=float), starts) / count, 6).tolist()
    building, compound, grid, community = (
        _mode(hotspot, starts, np.asarray(codes[c]), values[c]).tolist() for c in PLACE_COLUMNS
    )
    members = np.asarray(ids, dtype=object).tolist()
    first, last, size = found.first.tolist(), found.last.tolist(), count.tolist()
    bounds = found.starts.tolist()
    return [
        {
            "category": category[k],
            "count": size[k],
            "building_id": building[k],
            "compound_id": compound[k],
            "grid_code": grid[k],
            "community_id": community[k],
            "lon": lon[k],
            "lat": lat[k],
            "first_reported": first[k],
            "last_reported": last[k],
            "incident_ids": members[bounds[k] : bounds[k + 1]],
        }
        for k in range(n)
    ]


PLACE_COLUMNS = ("building_id", "compound_id", "grid_code", "community_id")


def _mode(hotspot: np.ndarray, starts: np.ndarray, codes: np.ndarray, values) -> np.ndarray:
    """Per hotspot (`hotspot` sorted, each starting at `starts`), the most frequent non-null value of its coded
    members (ties: the smallest), as text; None when it has none. Values with one text (1 and "1") are one value."""
    out = np.full(len(starts), None, dtype=object)
    known = codes >= 0
    if not known.any():
        return out
    used = np.flatnonzero(np.bincount(codes[known]))
    text, uniques = pd.factorize(np.array([str(values[c]) for c in used.tolist()], dtype=object), sort=True)
    lookup = np.zeros(int(used[-1]) + 1, dtype=np.int64)
    lookup[used] = text
    width = len(uniques)
    key = np.sort(hotspot[known] * width + lookup[codes[known]])
    at = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    keys, counts = key[at], np.diff(np.concatenate([at, [len(key)]]))
    kh, kc = keys // width, keys % width
    best = np.lexsort((kc, -counts, kh))  # per hotspot: most frequent first, then the smallest value
    best = best[np.concatenate([[True], kh[best][1:] != kh[best][:-1]])]
    out[kh[best]] = np.asarray(uniques, dtype=object)[kc[best]]
    return out
