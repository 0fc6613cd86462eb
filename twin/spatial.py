"""Spatial indexes: shapely STRtree for static layers, rtree for the live incident layer; same query methods."""
from __future__ import annotations

import math

import numpy as np
import shapely
from rtree import index as rtree_index

from .crs import MetricCRS
from .errors import InvalidInput

# Metres per degree of latitude; longitude degrees shrink with cos(lat). Used only to widen candidate boxes.
_M_PER_DEG = 111_320.0


def radius_bbox(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """A WGS84 box surely containing the disc of `metres` around (lon, lat) (5% margin)."""
    dlat = metres * 1.05 / _M_PER_DEG
    dlon = metres * 1.05 / (_M_PER_DEG * max(math.cos(math.radians(abs(lat) + dlat)), 1e-6))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


class StaticIndex:
    """An STRtree over WGS84 geometries plus their metric projection, built once at load."""

    def __init__(self, geoms, crs: MetricCRS):
        self.geoms = np.asarray(geoms, dtype=object)
        self.crs = crs
        self.tree = shapely.STRtree(self.geoms)
        self._metric = None
        self._metric_tree = None

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def metric(self) -> np.ndarray:
        """The geometries in the twin's metric CRS (projected on first use, then kept)."""
        if self._metric is None:
            self._metric = self.crs.to_metric(self.geoms)
        return self._metric

    def bbox(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Positions of geometries intersecting the box, ascending."""
        return np.sort(self.tree.query(shapely.box(minx, miny, maxx, maxy), predicate="intersects"))

    def intersects(self, geom) -> np.ndarray:
        """Positions of geometries intersecting `geom`, ascending."""
        return np.sort(self.tree.query(geom, predicate="intersects"))

    def within(self, geom) -> np.ndarray:
        """Positions of geometries lying within `geom`, ascending."""
        # STRtree predicates read "query geometry <predicate> tree geometry", so "contains" here.
        return np.sort(self.tree.query(geom, predicate="contains"))

    def radius(self, lon: float, lat: float, metres: float) -> np.ndarray:
        """Positions of geometries within `metres` of (lon, lat), measured in the metric CRS, ascending."""
        _check_radius(metres)
        cand = self.tree.query(shapely.box(*radius_bbox(lon, lat, metres)))
        if len(cand) == 0:
            return cand
        centre = self.crs.to_metric(shapely.Point(lon, lat))
        d = shapely.distance(self.metric[cand], centre)
        return np.sort(cand[d <= metres])

    def nearest(self, lon: float, lat: float, k: int = 1) -> np.ndarray:
        """Positions of the `k` geometries nearest to (lon, lat) in metres, nearest first (ties by position)."""
        if k < 1:
            raise InvalidInput("k must be at least 1", k=k)
        k = min(k, len(self.geoms))
        if k == 0:
            return np.empty(0, dtype=np.int64)
        if self._metric_tree is None:
            self._metric_tree = shapely.STRtree(self.metric)
        centre = self.crs.to_metric(shapely.Point(lon, lat))
        # Grow a search radius until it holds k geometries, then rank exactly.
        first = self._metric_tree.query_nearest(centre, all_matches=False)
        r = max(float(shapely.distance(self.metric[first[0]], centre)), 1.0)
        while True:
            cand = self._metric_tree.query(shapely.buffer(centre, r, quad_segs=4).envelope)
            if len(cand) >= k or len(cand) == len(self.geoms):
                d = shapely.distance(self.metric[cand], centre)
                order = np.lexsort((cand, d))
                ranked, dist = cand[order], d[order]
                if len(cand) == len(self.geoms) or dist[k - 1] <= r:
                    return ranked[:k]
            r *= 2


class LiveIndex:
    """An rtree index over points that takes insertions at run time (the incident layer)."""

    def __init__(self, crs: MetricCRS):
        self.crs = crs
        self.tree = rtree_index.Index()
        self.lon: dict[int, float] = {}
        self.lat: dict[int, float] = {}

    @classmethod
    def bulk(cls, ids, lons, lats, crs: MetricCRS) -> "LiveIndex":
        """Build from arrays in one pass (rtree's stream loading is much faster than repeated inserts)."""
        self = cls.__new__(cls)
        self.crs = crs
        ids = [int(i) for i in ids]
        lons = [float(x) for x in lons]
        lats = [float(y) for y in lats]
        if ids:
            self.tree = rtree_index.Index(((i, (x, y, x, y), None) for i, x, y in zip(ids, lons, lats)))
        else:
            self.tree = rtree_index.Index()
        self.lon = dict(zip(ids, lons))
        self.lat = dict(zip(ids, lats))
        return self

    def __len__(self) -> int:
        return len(self.lon)

    def insert(self, item_id: int, lon: float, lat: float) -> None:
        """Add one point."""
        self.tree.insert(int(item_id), (lon, lat, lon, lat))
        self.lon[int(item_id)] = lon
        self.lat[int(item_id)] = lat

    def bbox(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Ids of points in the box, ascending."""
        return np.array(sorted(self.tree.intersection((minx, miny, maxx, maxy))), dtype=np.int64)

    def intersects(self, geom) -> np.ndarray:
        """Ids of points inside or on `geom`, ascending."""
        cand = self.bbox(*geom.bounds)
        if len(cand) == 0:
            return cand
        pts = shapely.points([self.lon[i] for i in cand], [self.lat[i] for i in cand])
        return cand[shapely.intersects(geom, pts)]

    def radius(self, lon: float, lat: float, metres: float) -> np.ndarray:
        """Ids of points within `metres` of (lon, lat), ascending."""
        _check_radius(metres)
        cand = self.bbox(*radius_bbox(lon, lat, metres))
        if len(cand) == 0:
            return cand
        return cand[self._metres(cand, lon, lat) <= metres]

    def nearest(self, lon: float, lat: float, k: int = 1) -> np.ndarray:
        """Ids of the `k` points nearest to (lon, lat) in metres, nearest first."""
        if k < 1:
            raise InvalidInput("k must be at least 1", k=k)
        # rtree ranks by degrees, which are not square; take its k nearest, then every point within the
        # metric distance of the k-th of them, and rank those in metres.
        cand = np.array(list(self.tree.nearest((lon, lat, lon, lat), k)), dtype=np.int64)
        if len(cand) == 0:
            return cand
        r = float(self._metres(cand, lon, lat).max())
        if r > 0:
            cand = np.union1d(cand, self.bbox(*radius_bbox(lon, lat, r)))
        d = self._metres(cand, lon, lat)
        order = np.lexsort((cand, d))
        return cand[order][:k]

    def _metres(self, ids, lon, lat) -> np.ndarray:
        x, y = self.crs.xy([self.lon[i] for i in ids], [self.lat[i] for i in ids])
        cx, cy = self.crs.xy(lon, lat)
        return np.hypot(x - cx, y - cy)


MAX_RADIUS_M = 50_000.0


def _check_radius(metres: float) -> None:
    if not (isinstance(metres, (int, float)) and math.isfinite(metres)) or metres <= 0 or metres > MAX_RADIUS_M:
        raise InvalidInput(f"radius must be a number of metres in (0, {MAX_RADIUS_M:g}]", radius=metres)
