"""Spatial indexes: shapely STRtree for static layers, rtree for the live incident layer; same query methods.

Both answer bbox / intersects / within in WGS84 and radius / nearest in metres of the twin's metric CRS.
Static results are row positions, live results are item ids; both come back ascending, except `nearest`
(nearest first, ties broken by the smaller position or id). See docs/spatial.md for the measured choice.
"""

from __future__ import annotations

import logging
import math
import threading

import numpy as np
import shapely
from rtree import index as rtree_index

from .crs import MetricCRS
from .errors import InvalidInput

log = logging.getLogger(__name__)

# Metres per degree of latitude; longitude degrees shrink with cos(lat). Used only to widen candidate boxes.
_M_PER_DEG = 111_320.0
MAX_RADIUS_M = 50_000.0
MAX_K = 10_000
GRID_POINTS_PER_CELL = 4  # the live index's PointGrid: cells for about this many points each,
GRID_MAX_CELLS = 2048  # and at most this many along a side


def radius_bbox(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A WGS84 box surely containing the disc of `metres` around (lon, lat) (5% margin)."""
    dlat = metres * 1.05 / _M_PER_DEG
    dlon = metres * 1.05 / (_M_PER_DEG * max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def radius_boxes(lons: np.ndarray, lats: np.ndarray, metres: float) -> tuple[np.ndarray, ...]:
    """radius_bbox for arrays of centres: (minx, miny, maxx, maxy) arrays."""
    dlat = metres * 1.05 / _M_PER_DEG
    dlon = metres * 1.05 / (_M_PER_DEG * np.maximum(np.cos(np.radians(np.minimum(np.abs(lats) + dlat, 89.9))), 1e-6))
    return lons - dlon, lats - dlat, lons + dlon, lats + dlat


class StaticIndex:
    """An STRtree over WGS84 geometries plus their metric projection, built once at load."""

    def __init__(self, geoms, crs: MetricCRS):
        self.geoms = np.asarray(geoms, dtype=object)
        self.crs = crs
        self.tree = shapely.STRtree(self.geoms)
        self._present = int((~(shapely.is_missing(self.geoms) | shapely.is_empty(self.geoms))).sum())
        self._metric = None
        self._metric_tree = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def metric(self) -> np.ndarray:
        """The geometries in the twin's metric CRS (projected on first use, then kept)."""
        if self._metric is None:
            with self._lock:
                if self._metric is None:
                    self._metric = self.crs.to_metric(self.geoms)
        return self._metric

    @property
    def metric_tree(self) -> shapely.STRtree:
        """An STRtree over the metric geometries (built on the first nearest-neighbour query)."""
        if self._metric_tree is None:
            metric = self.metric
            with self._lock:
                if self._metric_tree is None:
                    self._metric_tree = shapely.STRtree(metric)
        return self._metric_tree

    def bbox(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Positions of geometries intersecting the box, ascending."""
        return np.sort(self.tree.query(shapely.box(*check_bbox(minx, miny, maxx, maxy)), predicate="intersects"))

    def intersects(self, geom) -> np.ndarray:
        """Positions of geometries intersecting `geom`, ascending."""
        return np.sort(self.tree.query(check_query_geometry(geom), predicate="intersects"))

    def within(self, geom) -> np.ndarray:
        """Positions of geometries lying within `geom`, ascending."""
        # STRtree predicates read "query geometry <predicate> tree geometry", so "contains" here.
        return np.sort(self.tree.query(check_query_geometry(geom), predicate="contains"))

    def radius(self, lon: float, lat: float, metres: float, distances: bool = False):
        """Positions of geometries within `metres` of (lon, lat), measured in the metric CRS, ascending (with
        distances=True: and their distances in metres)."""
        _check_point(lon, lat)
        _check_radius(metres)
        cand = self.tree.query(shapely.box(*radius_bbox(lon, lat, metres)))
        d = np.empty(0)
        if len(cand):
            d = shapely.distance(self.metric[cand], self.crs.to_metric(shapely.Point(lon, lat)))
        return _ascending(cand[d <= metres], d[d <= metres], distances)

    def nearest(self, lon: float, lat: float, k: int = 1) -> np.ndarray:
        """Positions of the `k` geometries nearest to (lon, lat) in metres, nearest first (ties by position)."""
        _check_point(lon, lat)
        k = min(_check_k(k), self._present)
        if k == 0:
            return np.empty(0, dtype=np.int64)
        centre = self.crs.to_metric(shapely.Point(lon, lat))
        cx, cy = centre.x, centre.y
        tree, metric = self.metric_tree, self.metric
        # Grow a search square until it holds k geometries within its half-side r: then every geometry
        # nearer than the k-th lies in the square (its distance <= r means its envelope meets the square).
        first = tree.query_nearest(centre, all_matches=False)
        r = max(float(shapely.distance(metric[first[0]], centre)), 1.0)
        while True:
            cand = tree.query(shapely.box(cx - r, cy - r, cx + r, cy + r))
            if len(cand) >= k:
                d = shapely.distance(metric[cand], centre)
                order = np.lexsort((cand, d))
                if d[order[k - 1]] <= r or len(cand) == self._present:
                    return cand[order[:k]]
            r *= 2


class PointGrid:
    """Points bucketed by a uniform grid of cells (positions sorted by cell, flat arrays): a box query gathers the
    positions of the cells it meets, a superset of the points in the box, without walking a tree."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray):
        self.n = n = len(lon)
        self.x0, self.y0 = float(lon.min()), float(lat.min())
        span = max(float(lon.max()) - self.x0, float(lat.max()) - self.y0, 1e-9)
        self.size = span / min(GRID_MAX_CELLS, max(1, int(math.sqrt(n / GRID_POINTS_PER_CELL))))
        self.nx = int((float(lon.max()) - self.x0) / self.size) + 1
        self.ny = int((float(lat.max()) - self.y0) / self.size) + 1
        cx, cy = self._cells(lon, self.x0, self.nx), self._cells(lat, self.y0, self.ny)
        key = cy * self.nx + cx
        self.order = np.argsort(key, kind="stable")
        self.start = np.searchsorted(key[self.order], np.arange(self.nx * self.ny + 1))

    def _cells(self, v, origin: float, count: int) -> np.ndarray:
        # floor((v - origin) / size) never decreases as v grows, so a box's cells hold every point inside it
        return np.clip(np.floor((np.asarray(v, dtype=float) - origin) / self.size), 0, count - 1).astype(np.int64)

    def box(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Positions of the points in the cells the box meets (a superset of those in the box), unordered."""
        if maxx < self.x0 or maxy < self.y0:
            return np.empty(0, dtype=np.int64)
        cx0, cx1 = self._cells([minx, maxx], self.x0, self.nx)
        cy0, cy1 = self._cells([miny, maxy], self.y0, self.ny)
        rows = np.arange(cy0, cy1 + 1, dtype=np.int64) * self.nx
        first, last = self.start[rows + cx0], self.start[rows + cx1 + 1]
        counts = last - first
        total = int(counts.sum())
        if not total:
            return np.empty(0, dtype=np.int64)
        return self.order[np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(total)]

    def boxes(self, minx, miny, maxx, maxy) -> tuple[np.ndarray, np.ndarray]:
        """box() for arrays of boxes at once: (box number, position) pairs, a superset of the points in each."""
        cx0, cx1 = self._cells(minx, self.x0, self.nx), self._cells(maxx, self.x0, self.nx)
        cy0, cy1 = self._cells(miny, self.y0, self.ny), self._cells(maxy, self.y0, self.ny)
        rows = cy1 - cy0 + 1  # each box's rows of cells, then the run of positions of its cells in each row
        box = np.repeat(np.arange(len(rows)), rows)
        row = cy0[box] + np.arange(len(box)) - np.repeat(np.cumsum(rows) - rows, rows)
        first, last = self.start[row * self.nx + cx0[box]], self.start[row * self.nx + cx1[box] + 1]
        counts = last - first
        at = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        return np.repeat(box, counts), self.order[at]


class LiveIndex:
    """An rtree index over points that takes insertions at run time (the incident layer); thread-safe.

    Items are named by integer ids; the rtree itself holds row positions into growing coordinate arrays, so
    queries are vectorised and the metric coordinates are projected once, at insertion. Box queries (bbox,
    intersects, within, radius) read a PointGrid of the points instead, plus the points inserted since it was
    built; it is rebuilt when those grow past a 32nd of it or a point moves. Only nearest() reads the rtree, so new
    points join it when nearest() next asks (an rtree insert cost intake as much as its database insert).
    """

    def __init__(self, crs: MetricCRS):
        self.crs = crs
        self.tree = rtree_index.Index()
        self._lock = threading.RLock()
        self._n = 0
        self._max_id = None
        self._cols = {c: np.empty(0, dtype=np.int64 if c == "id" else float) for c in ("id", "lon", "lat", "x", "y")}
        self._grid: PointGrid | None = None
        self._untreed = 0  # positions from here on are not yet in the rtree

    @classmethod
    def bulk(cls, ids, lons, lats, crs: MetricCRS) -> "LiveIndex":
        """Build from arrays in one pass (rtree's array stream loading is much faster than repeated inserts)."""
        self = cls(crs)
        ids = np.asarray(ids, dtype=np.int64).ravel()
        lon = np.asarray(lons, dtype=float).ravel()
        lat = np.asarray(lats, dtype=float).ravel()
        if not (len(ids) == len(lon) == len(lat)):
            raise InvalidInput("ids, lons and lats must have the same length")
        if len(ids) == 0:
            return self
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            i = int(np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))[0])
            raise InvalidInput(f"item {int(ids[i])} has no finite coordinates", id=int(ids[i]))
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise InvalidInput(f"id {int(uniq[counts > 1][0])} is given more than once")
        x, y = crs.xy(lon, lat)
        self._cols = {
            "id": ids.copy(),
            "lon": lon.copy(),
            "lat": lat.copy(),
            "x": np.asarray(x, float),
            "y": np.asarray(y, float),
        }
        self._n = len(ids)
        self._max_id = int(ids.max())
        pts = np.column_stack([lon, lat])
        self.tree = rtree_index.Index((np.arange(len(ids), dtype=np.int64), pts, pts))
        self._grid = PointGrid(lon, lat)
        self._untreed = self._n
        return self

    def __len__(self) -> int:
        return self._n

    @property
    def lon(self) -> dict[int, float]:
        """Longitude of each id (a copy; for inspection, not for hot paths)."""
        return dict(zip(self._cols["id"][: self._n].tolist(), self._cols["lon"][: self._n].tolist()))

    @property
    def lat(self) -> dict[int, float]:
        """Latitude of each id (a copy; for inspection, not for hot paths)."""
        return dict(zip(self._cols["id"][: self._n].tolist(), self._cols["lat"][: self._n].tolist()))

    def bounds(self) -> list[float] | None:
        """[minLon, minLat, maxLon, maxLat] of every point, or None when there is none."""
        with self._lock:
            lon, lat = self._cols["lon"][: self._n], self._cols["lat"][: self._n]
            return [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())] if self._n else None

    def xy(self, ids) -> np.ndarray:
        """Metric coordinates (rows of x, y) of the points with these ids, as projected at insertion."""
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            have = self._cols["id"][: self._n]
            pos = ids
            if len(ids) and (ids.min() < 0 or ids.max() >= self._n or not np.array_equal(have[ids], ids)):
                order = np.argsort(have, kind="stable")  # ids not their own positions: look each one up
                pos = order[np.minimum(np.searchsorted(have[order], ids), max(self._n - 1, 0))]
                if not np.array_equal(have[pos], ids):
                    raise InvalidInput(f"id {int(ids[have[pos] != ids][0])} is not indexed")
            return np.column_stack([self._cols["x"][pos], self._cols["y"][pos]])

    def insert(self, item_id: int, lon: float, lat: float) -> None:
        """Add one point, or move it when `item_id` is already indexed."""
        self.insert_many([item_id], [lon], [lat])

    def insert_many(self, ids, lons, lats) -> None:
        """insert() for arrays of ids and coordinates, projected in one call."""
        for lon, lat in zip(lons, lats):
            _check_point(lon, lat)
        ids = [int(i) for i in ids]
        lons, lats = [float(v) for v in lons], [float(v) for v in lats]
        xs, ys = (np.atleast_1d(v).tolist() for v in self.crs.xy(lons, lats))
        with self._lock:
            for item_id, lon, lat, x, y in zip(ids, lons, lats, xs, ys):
                pos = self._position(item_id)
                if pos is None:
                    pos = self._n
                    self._grow(pos + 1)
                    self._n += 1
                else:
                    old = (self._cols["lon"][pos], self._cols["lat"][pos])
                    if pos < self._untreed:
                        self.tree.delete(pos, (*old, *old))
                        self.tree.insert(pos, (lon, lat, lon, lat))
                    if self._grid is not None and pos < self._grid.n and old != (lon, lat):
                        self._grid = None  # it moved: the grid is rebuilt on the next query
                for c, v in (("id", item_id), ("lon", lon), ("lat", lat), ("x", x), ("y", y)):
                    self._cols[c][pos] = v
                self._max_id = item_id if self._max_id is None else max(self._max_id, item_id)

    def _treed(self) -> rtree_index.Index:
        """The rtree with every point in it (the ones inserted since the last call join it now)."""
        if self._untreed < self._n:
            lon, lat = self._cols["lon"], self._cols["lat"]
            for pos in range(self._untreed, self._n):
                self.tree.insert(pos, (lon[pos], lat[pos], lon[pos], lat[pos]))
            self._untreed = self._n
        return self.tree

    def bbox(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Ids of points in the box (edges included), ascending."""
        with self._lock:
            return np.sort(self._cols["id"][self._box_positions(check_bbox(minx, miny, maxx, maxy))])

    def intersects(self, geom) -> np.ndarray:
        """Ids of points inside or on `geom`, ascending."""
        return self._select(check_query_geometry(geom), shapely.intersects_xy)

    def within(self, geom) -> np.ndarray:
        """Ids of points strictly inside `geom` (not on its boundary), ascending."""
        return self._select(check_query_geometry(geom), shapely.contains_xy)

    def radius(self, lon: float, lat: float, metres: float, distances: bool = False):
        """Ids of points within `metres` of (lon, lat), ascending (with distances=True: and their distances in
        metres)."""
        _check_point(lon, lat)
        _check_radius(metres)
        with self._lock:
            pos = self._box_positions(radius_bbox(lon, lat, metres))
            d = self._metres(pos, lon, lat)
            return _ascending(self._cols["id"][pos[d <= metres]], d[d <= metres], distances)

    def radius_many(self, lons, lats, metres: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """radius() around many centres in one vectorised pass: (centre number, id, metres) of every point within
        `metres` of a centre, by centre then id."""
        lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        for lon, lat in zip(lons.tolist(), lats.tolist()):
            _check_point(lon, lat)
        _check_radius(metres)
        none = np.empty(0, dtype=np.int64)
        with self._lock:
            if self._n == 0 or not len(lons):
                return none, none, np.empty(0)
            minx, miny, maxx, maxy = radius_boxes(lons, lats, metres)
            k, pos = self._current_grid().boxes(minx, miny, maxx, maxy)
            if self._grid.n < self._n:  # inserted since the grid was built: a pair with every centre
                tail = np.arange(self._grid.n, self._n, dtype=np.int64)
                k = np.concatenate([k, np.repeat(np.arange(len(lons)), len(tail))])
                pos = np.concatenate([pos, np.tile(tail, len(lons))])
            lon, lat = self._cols["lon"][pos], self._cols["lat"][pos]
            inside = (lon >= minx[k]) & (lon <= maxx[k]) & (lat >= miny[k]) & (lat <= maxy[k])
            k, pos = k[inside], pos[inside]
            cx, cy = (np.atleast_1d(v) for v in self.crs.xy(lons, lats))
            d = np.hypot(self._cols["x"][pos] - cx[k], self._cols["y"][pos] - cy[k])
            near = d <= metres
            k, ids, d = k[near], self._cols["id"][pos[near]], d[near]
        order = np.lexsort((ids, k))
        return k[order], ids[order], d[order]

    def nearest(self, lon: float, lat: float, k: int = 1) -> np.ndarray:
        """Ids of the `k` points nearest to (lon, lat) in metres, nearest first (ties by id)."""
        _check_point(lon, lat)
        k = _check_k(k)
        with self._lock:
            if self._n == 0:
                return np.empty(0, dtype=np.int64)
            # rtree ranks by degrees, which are not square; take its k nearest, then every point within the
            # metric distance r of the farthest of them (a superset of the true k nearest), and rank in metres.
            cand = np.fromiter(self._treed().nearest((lon, lat, lon, lat), k), dtype=np.int64)
            r = float(self._metres(cand, lon, lat).max())
            pos = np.union1d(cand, self._box_positions(radius_bbox(lon, lat, r)))
            d = self._metres(pos, lon, lat)
            ids = self._cols["id"][pos]
            return ids[np.lexsort((ids, d))[:k]]

    # --- internals -------------------------------------------------------------------------------------------
    def _select(self, geom, predicate) -> np.ndarray:
        with self._lock:
            pos = self._box_positions(geom.bounds)
            keep = predicate(geom, self._cols["lon"][pos], self._cols["lat"][pos])
            return np.sort(self._cols["id"][pos[keep]])

    def _current_grid(self) -> PointGrid:
        grid = self._grid
        if grid is None or self._n - grid.n > max(1024, grid.n // 32):
            grid = self._grid = PointGrid(self._cols["lon"][: self._n], self._cols["lat"][: self._n])
        return grid

    def _box_positions(self, box) -> np.ndarray:
        """Positions of the points in the box (edges included), unordered."""
        if self._n == 0:
            return np.empty(0, dtype=np.int64)
        grid = self._current_grid()
        minx, miny, maxx, maxy = (float(v) for v in box)
        cand = grid.box(minx, miny, maxx, maxy)
        if grid.n < self._n:  # inserted since the grid was built
            cand = np.concatenate([cand, np.arange(grid.n, self._n, dtype=np.int64)])
        lon, lat = self._cols["lon"][cand], self._cols["lat"][cand]
        return cand[(lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)]

    def _metres(self, pos, lon, lat) -> np.ndarray:
        cx, cy = self.crs.xy(lon, lat)
        return np.hypot(self._cols["x"][pos] - cx, self._cols["y"][pos] - cy)

    def _position(self, item_id: int):
        if self._max_id is None or item_id > self._max_id:  # the usual case: new ids only grow
            return None
        hit = np.flatnonzero(self._cols["id"][: self._n] == item_id)
        return int(hit[0]) if len(hit) else None

    def _grow(self, need: int) -> None:
        cap = len(self._cols["id"])
        if need <= cap:
            return
        cap = max(need, 2 * cap, 64)
        for c, a in self._cols.items():
            grown = np.empty(cap, dtype=a.dtype)
            grown[: len(a)] = a
            self._cols[c] = grown


def _ascending(ids: np.ndarray, metres: np.ndarray, distances: bool):
    """`ids` ascending, with their `metres` in the same order when `distances`."""
    order = np.argsort(ids, kind="stable")
    return (ids[order], metres[order]) if distances else ids[order]


def check_query_geometry(geom):
    """The query geometry itself if it is a valid, non-empty shapely geometry; InvalidInput otherwise."""
    if not isinstance(geom, shapely.Geometry):
        raise InvalidInput(f"a query geometry must be a shapely geometry, not {type(geom).__name__}")
    if geom.is_empty:
        raise InvalidInput("the query geometry is empty")
    if not geom.is_valid:
        raise InvalidInput(f"the query geometry is invalid: {shapely.is_valid_reason(geom)}")
    return geom


def check_bbox(minx, miny, maxx, maxy) -> tuple[float, float, float, float]:
    """The box as four floats if they are finite with min <= max; InvalidInput otherwise."""
    try:
        vals = tuple(float(v) for v in (minx, miny, maxx, maxy))
    except (TypeError, ValueError):
        vals = (math.nan,) * 4
    if not all(math.isfinite(v) for v in vals) or vals[0] > vals[2] or vals[1] > vals[3]:
        raise InvalidInput(
            "a bbox is minx, miny, maxx, maxy: finite numbers with min <= max",
            bbox=",".join(map(str, (minx, miny, maxx, maxy))),
        )
    return vals


def _check_point(lon, lat) -> None:
    if not all(isinstance(v, (int, float, np.number)) and math.isfinite(v) for v in (lon, lat)) or not (
        -180 <= lon <= 180 and -90 <= lat <= 90
    ):
        raise InvalidInput("a point is a longitude in [-180, 180] and a latitude in [-90, 90]", lon=lon, lat=lat)


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be a whole number from 1 to {MAX_K}", k=k)
    return int(k)


def _check_radius(metres: float) -> None:
    if (
        isinstance(metres, bool)
        or not (isinstance(metres, (int, float, np.number)) and math.isfinite(metres))
        or metres <= 0
        or metres > MAX_RADIUS_M
    ):
        raise InvalidInput(f"radius must be a number of metres in (0, {MAX_RADIUS_M:g}]", radius=metres)
