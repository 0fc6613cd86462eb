"""The hotspot rule's inner loops, compiled: the same-place pairs on a grid of cells and the greedy seeds.

A report's hotspots read every same-place pair, and a denser district has more pairs per incident; as array
operations each pair cost several passes over memory (a tree query, sorts, rounds of scatter-min). Compiled with
numba, the rows are sorted once by cell and each candidate pair in the same or the next cells is looked at once
(twice only in a period with more than four pairs per incident), and the greedy walks the seeds once. Imported only
where hotspots are found: numba's import and the compile cache beside this file cost about half a second, which a
web process pays in the background at start-up (warm()).
"""

from __future__ import annotations

import numpy as np
from numba import njit

CELLS_MAX = 1 << 20  # cells along an axis at most: the cell key (group, row, column) stays inside an int64


def cell_keys(xy: np.ndarray, groups: np.ndarray, radius_m: float) -> tuple[np.ndarray, int]:
    """(each row's cell key, cells per grid row): square cells at least `radius_m` wide, so every pair within the
    radius lies in the same or a neighbouring cell; the group is part of the key, so groups never share a cell."""
    x0, y0, x1, y1 = _bounds(xy)
    span = max(x1 - x0, y1 - y0)
    per_axis = min(CELLS_MAX, int(np.sqrt(float(np.iinfo(np.int64).max // 4) / (int(groups.max()) + 1))))
    cell = max(float(radius_m) * (1 + 1e-9), span / (per_axis - 3), 1e-9)
    nx = int(np.floor(span / cell)) + 3  # a spare cell on every side
    return _keys(xy, groups, x0, y0, 1.0 / cell, nx), nx


def same_place_graph(xy, groups, codes, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, neighbours): each row's same-place rows as a compressed adjacency list. Same place: one group, and
    within `radius_m` (as math.hypot measures it) or sharing a code ≥ 0."""
    xy = np.ascontiguousarray(xy, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    if not len(xy):
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    key, nx = cell_keys(xy, groups, radius_m)
    skey, order = _sort_rows(key, np.arange(len(key)))
    coded = np.flatnonzero(codes >= 0)
    ccode, crow = _sort_rows(codes[coded].astype(np.int64), coded)
    return _graph(skey, order, xy[order], xy, groups, nx, float(radius_m), ccode, crow)


def _sort_rows(key: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key sorted, the rows in that order; rows of one key in any order): one plain sort of key·n + row when that
    fits in an int64 (keys ≥ 0), else an argsort."""
    n = int(rows.max()) + 1 if len(rows) else 1
    if len(key) and int(key.max()) < np.iinfo(np.int64).max // n - 1:
        both = np.sort(key * n + rows)
        return both // n, both % n
    order = np.argsort(key)
    return key[order], rows[order]


def warm() -> None:
    """Load the compiled loops (from the cache beside this file, or compile them once): a process calls this at
    start-up, in the background, so its first report does not wait for numba."""
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    greedy(*same_place_graph(xy, np.zeros(3, dtype=np.int64), np.array([0, -1, 0]), 2.0), 2)


def greedy(indptr, neighbours, min_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seeds in the order taken; members; starts): hotspot k (seed k) holds members[starts[k] : starts[k + 1]],
    in row order. Seeds by most same-place rows, then row order; an untaken seed with at least `min_count`
    untaken same-place rows, itself included, takes them."""
    from twin.incidents.hotspots import stable_order

    size = np.diff(indptr) + 1
    order = stable_order(int(size.max(initial=0)) - size)  # most first, then row order
    return _greedy(indptr, neighbours, size, order, int(min_count))


@njit(cache=True, nogil=True)
def _bounds(xy):
    x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
    for i in range(xy.shape[0]):
        x0, x1 = min(x0, xy[i, 0]), max(x1, xy[i, 0])
        y0, y1 = min(y0, xy[i, 1]), max(y1, xy[i, 1])
    return x0, y0, x1, y1


@njit(cache=True, nogil=True)
def _keys(xy, groups, x0, y0, per_metre, nx):
    key = np.empty(len(groups), dtype=np.int64)
    for i in range(len(groups)):
        cx = min(np.int64((xy[i, 0] - x0) * per_metre), nx - 3) + 1  # ≥ 0 before the cast: truncation is floor
        cy = min(np.int64((xy[i, 1] - y0) * per_metre), nx - 3) + 1
        key[i] = (groups[i] * nx + cy) * nx + cx
    return key


@njit(cache=True, nogil=True)
def _graph(skey, order, sxy, xy, groups, nx, radius, ccode, crow):
    """The adjacency of the rows (coordinates `xy`) sorted by cell (`skey`, `order`, `sxy`), plus the code pairs."""
    n = len(skey)
    pi = np.empty(4 * n + 64, dtype=np.int64)  # most periods have fewer pairs than this
    pj = np.empty_like(pi)
    count = _pairs(skey, order, sxy, xy, groups, nx, radius, ccode, crow, pi, pj)
    if count > len(pi):  # a denser period: written again with room for every pair
        pi = np.empty(count, dtype=np.int64)
        pj = np.empty_like(pi)
        _pairs(skey, order, sxy, xy, groups, nx, radius, ccode, crow, pi, pj)
    indptr = np.zeros(n + 1, dtype=np.int64)
    for p in range(count):
        indptr[pi[p] + 1] += 1
        indptr[pj[p] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    neighbours = np.empty(indptr[n], dtype=np.int64)
    for p in range(count):
        i, j = pi[p], pj[p]
        neighbours[fill[i]] = j
        fill[i] += 1
        neighbours[fill[j]] = i
        fill[j] += 1
    return indptr, neighbours


@njit(cache=True, nogil=True)
def _near(dx, dy, r2_low, r2_high, radius):
    d2 = dx * dx + dy * dy
    if d2 < r2_low:
        return True
    if d2 > r2_high:
        return False
    return np.hypot(dx, dy) <= radius  # on the circle: decide as the rule's hypot does


@njit(cache=True, nogil=True)
def _pairs(skey, order, sxy, xy, groups, nx, radius, ccode, crow, pi, pj):
    """The number of same-place pairs, each once; (row, row) of as many as fit written into `pi`, `pj`."""
    room = len(pi)
    r2 = radius * radius
    r2_low, r2_high = r2 * (1 - 1e-12), r2 * (1 + 1e-12) + 1e-300
    k = 0
    n = len(skey)
    right = up_lo = up_hi = 0  # the targets rise with the cell: the pointers only move on
    s = 0
    while s < n:  # one cell at a time: its rows are s:e of the sorted arrays
        e = s
        while e < n and skey[e] == skey[s]:
            e += 1
        while right < n and skey[right] <= skey[s] + 1:  # this cell and the next along the row
            right += 1
        while up_lo < n and skey[up_lo] < skey[s] + nx - 1:  # the three cells of the next row
            up_lo += 1
        up_hi = max(up_hi, up_lo)
        while up_hi < n and skey[up_hi] <= skey[s] + nx + 1:
            up_hi += 1
        for a in range(s, e):
            x, y = sxy[a, 0], sxy[a, 1]
            for b in range(a + 1, right):
                if _near(x - sxy[b, 0], y - sxy[b, 1], r2_low, r2_high, radius):
                    if k < room:
                        pi[k] = order[a]
                        pj[k] = order[b]
                    k += 1
            for b in range(up_lo, up_hi):
                if _near(x - sxy[b, 0], y - sxy[b, 1], r2_low, r2_high, radius):
                    if k < room:
                        pi[k] = order[a]
                        pj[k] = order[b]
                    k += 1
        s = e
    m = len(ccode)
    s = 0
    while s < m:  # rows sharing a code but not near: the grid did not pair them
        e = s
        while e < m and ccode[e] == ccode[s]:
            e += 1
        for a in range(s, e):
            for b in range(a + 1, e):
                i, j = crow[a], crow[b]
                if groups[i] != groups[j]:
                    continue
                if not _near(xy[i, 0] - xy[j, 0], xy[i, 1] - xy[j, 1], r2_low, r2_high, radius):
                    if k < room:
                        pi[k] = i
                        pj[k] = j
                    k += 1
        s = e
    return k


@njit(cache=True, nogil=True)
def _greedy(indptr, neighbours, size, order, min_count):
    n = len(size)
    taken = np.zeros(n, dtype=np.bool_)
    seeds = np.empty(n, dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    members = np.empty(n, dtype=np.int64)
    n_seeds = 0
    k = 0
    for s in order:
        if size[s] < min_count:
            break  # sizes fall along the order: no later seed can hold enough
        if taken[s]:
            continue
        free = 1
        for p in range(indptr[s], indptr[s + 1]):
            if not taken[neighbours[p]]:
                free += 1
        if free < min_count:
            continue
        taken[s] = True
        members[k] = s
        k += 1
        for p in range(indptr[s], indptr[s + 1]):
            j = neighbours[p]
            if not taken[j]:
                taken[j] = True
                members[k] = j
                k += 1
        for a in range(starts[n_seeds] + 1, k):  # into row order: an insertion sort, hotspots are small
            row = members[a]
            b = a - 1
            while b >= starts[n_seeds] and members[b] > row:
                members[b + 1] = members[b]
                b -= 1
            members[b + 1] = row
        seeds[n_seeds] = s
        n_seeds += 1
        starts[n_seeds] = k
    return seeds[:n_seeds].copy(), members[:k].copy(), starts[: n_seeds + 1].copy()
