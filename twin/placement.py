"""Where a point is: the community, grid and compound holding it and its nearest building (vectorised, one home).

Every caller places points here: the incident service on intake (`Placer.place_one`), the seed import
(`Placer.place`), the twin's derived columns and the demo generator (`grid_of_points`), the importers
(`containing`, `nearest_within`) and the reports (`grid_at`).

The rules, written once: a point on a shared edge belongs to the area with the lowest position, except that a grid
of the point's own community beats a grid of another; a building counts only within `NEAREST_BUILDING_M`; outside
every compound polygon, the nearest building's compound is the point's compound.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.crs import MetricCRS
from twin.errors import NotFound

log = logging.getLogger(__name__)

NEAREST_BUILDING_M = 50.0  # a building farther than this from the point is not "the" building of the incident
PLACE_FIELDS = ("grid_code", "community_id", "compound_id", "building_id")


def holding(tree: shapely.STRtree, points, area_group=None, point_group=None) -> np.ndarray:
    """Position (in `tree`) of the area holding each point, -1 where none does (or the point is missing).

    Where several hold it (a point on a shared edge), an area whose `area_group` equals the point's `point_group`
    wins when both are given, then the lowest position.
    """
    out = np.full(len(points), -1, dtype=np.int64)
    if not len(points) or not len(tree):
        return out
    pt, pos = tree.query(points, predicate="intersects")
    other = np.zeros(len(pt), dtype=bool)
    if area_group is not None and point_group is not None:
        other = np.asarray(area_group, dtype=object)[pos] != np.asarray(point_group, dtype=object)[pt]
    order = np.lexsort((pos, other, pt))[::-1]  # per point, the best hit is written last, so wins
    out[pt[order]] = pos[order]
    return out


def ids_at(positions: np.ndarray, ids) -> np.ndarray:
    """`ids[positions]` as an object array, None where the position is -1."""
    out = np.full(len(positions), None, dtype=object)
    hit = positions >= 0
    out[hit] = np.asarray(ids, dtype=object)[positions[hit]]
    return out


def containing(points, areas: gpd.GeoDataFrame | None, id_field: str) -> np.ndarray:
    """For each point, the `id_field` of the area holding it (object array, None where none does)."""
    if areas is None or not len(areas):
        return np.full(len(points), None, dtype=object)
    return ids_at(holding(shapely.STRtree(areas.geometry.values), points), areas[id_field].to_numpy())


def grid_of_points(points, community_ids, grids: gpd.GeoDataFrame) -> np.ndarray:
    """Grid code holding each point, preferring a grid of the point's own community; None where none does."""
    tree = shapely.STRtree(grids.geometry.values)
    pos = holding(tree, points, grids["community_id"].to_numpy(), community_ids)
    return ids_at(pos, grids["grid_code"].to_numpy())


def grid_at(grids: gpd.GeoDataFrame, lons, lats) -> list:
    """The code of the grid (of `grids`) holding each point (lon, lat), None where none does."""
    return containing(shapely.points(np.asarray(lons, float), np.asarray(lats, float)), grids, "grid_code").tolist()


def nearest_within(points, areas: gpd.GeoDataFrame, metres: float, crs: MetricCRS | None = None) -> np.ndarray:
    """Row position in `areas` of the area holding each point, else the nearest within `metres`; -1 if none.

    Distances are measured in `crs` (by default the metric CRS around the points).
    """
    points = np.asarray(points, dtype=object)
    out = np.full(len(points), -1, dtype=np.int64)
    ok = ~shapely.is_missing(points)
    if not len(areas) or not ok.any():
        return out
    if crs is None:
        crs = MetricCRS.for_lonlat(float(np.mean(shapely.get_x(points[ok]))), float(np.mean(shapely.get_y(points[ok]))))
    tree = shapely.STRtree(crs.to_metric(areas.geometry.values))
    out[np.flatnonzero(ok)] = nearest_in(tree, crs.to_metric(points[ok]), metres)
    return out


def nearest_in(tree: shapely.STRtree, points_metric, metres: float) -> np.ndarray:
    """Position (in the metric `tree`) of the geometry nearest to each metric point within `metres`; -1 if none."""
    out = np.full(len(points_metric), -1, dtype=np.int64)
    if not len(points_metric) or not len(tree):
        return out
    pt, pos = tree.query_nearest(points_metric, max_distance=metres, all_matches=False)
    out[pt] = pos
    return out


class Placer:
    """Point placement against a twin's static layers, through their indexes (built once, reused per request)."""

    def __init__(self, twin, max_building_m: float = NEAREST_BUILDING_M):
        self.twin = twin
        self.max_building_m = max_building_m
        self._arrays: dict = {}

    def _layer(self, name):
        layer = self.twin.layers.get(name)
        return layer if layer is not None and len(layer.frame) else None

    def _column(self, frame, column: str) -> np.ndarray:
        """frame[column] as an array, kept per frame: a GeoDataFrame column lookup costs more than the query."""
        cached = self._arrays.get((id(frame), column))  # the frame is kept with its array, so its id is not reused
        if cached is None or cached[0] is not frame:
            cached = self._arrays[(id(frame), column)] = (frame, frame[column].to_numpy())
        return cached[1]

    def place(self, lons, lats) -> pd.DataFrame:
        """grid_code, community_id, compound_id, building_id (None where nothing fits) for each point."""
        return pd.DataFrame(self._columns(lons, lats), columns=list(PLACE_FIELDS), dtype=object)

    def place_one(self, lon: float, lat: float) -> dict:
        """`place` for one point as a dict, by scalar tree queries (the per-request path of intake: the vectorised
        pass costs 150 us of array set-up for one point); the same rules as `place`."""
        point = shapely.Point(lon, lat)
        comm = grid = compound = building = None
        if (layer := self._layer("communities")) is not None:
            comm = self._id(self._lowest(layer, point), layer, "community_id")
        if (layer := self._layer("grids")) is not None:
            group = self._column(layer.frame, "community_id")
            at = self._lowest(layer, point, group, comm)
            grid = self._id(at, layer, "grid_code")
            comm = self._id(at, layer, "community_id") if comm is None else comm  # outside every community
        if (layer := self._layer("compounds")) is not None:
            compound = self._id(self._lowest(layer, point), layer, "compound_id")
        if (layer := self._layer("buildings")) is not None:
            x, y = self.twin.crs.xy(lon, lat)
            b = nearest_in(layer.index.metric_tree, [shapely.Point(float(x), float(y))], self.max_building_m)[0]
            building = self._id(b, layer, "building_id")
            if compound is None and "compound_id" in layer.frame:  # the nearest building's compound
                compound = self._id(b, layer, "compound_id")
        return {"grid_code": grid, "community_id": comm, "compound_id": compound, "building_id": building}

    @staticmethod
    def _lowest(layer, point, group=None, prefer=None) -> int:
        """`holding` for one point: the lowest position holding it (one of group `prefer` first, when given)."""
        hits = layer.index.tree.query(point, predicate="intersects")
        if group is not None and len(hits):
            same = hits[np.asarray(group[hits] == prefer, dtype=bool)]
            hits = same if len(same) else hits
        return int(hits.min()) if len(hits) else -1

    def _id(self, position: int, layer, column: str):
        if position < 0:
            return None
        value = self._column(layer.frame, column)[position]
        return None if pd.isna(value) else value

    def place_all(self, lons, lats) -> list[dict]:
        """`place` as one dict per point, in one vectorised pass (a batch of intake)."""
        cols = self._columns(lons, lats)
        return [dict(zip(PLACE_FIELDS, values)) for values in zip(*(cols[k].tolist() for k in PLACE_FIELDS))]

    def _columns(self, lons, lats) -> dict:
        lons = np.asarray(lons, dtype=float)
        lats = np.asarray(lats, dtype=float)
        points = shapely.points(lons, lats)
        none = np.full(len(points), None, dtype=object)
        comm, grid, compound, building = none, none.copy(), none.copy(), none.copy()
        if (layer := self._layer("communities")) is not None:
            comm = ids_at(holding(layer.index.tree, points), self._column(layer.frame, "community_id"))
        if (layer := self._layer("grids")) is not None:
            group = self._column(layer.frame, "community_id")
            pos = holding(layer.index.tree, points, group, comm)
            grid = ids_at(pos, self._column(layer.frame, "grid_code"))
            comm = np.where(pd.isna(comm), ids_at(pos, group), comm)  # outside every community: its grid's
        if (layer := self._layer("compounds")) is not None:
            compound = ids_at(holding(layer.index.tree, points), self._column(layer.frame, "compound_id"))
        if (layer := self._layer("buildings")) is not None:
            x, y = self.twin.crs.xy(lons, lats)
            b = nearest_in(layer.index.metric_tree, shapely.points(x, y), self.max_building_m)
            building = ids_at(b, self._column(layer.frame, "building_id"))
            if "compound_id" in layer.frame:  # outside every compound polygon: the nearest building's compound
                fill = pd.isna(compound)
                compound[fill] = ids_at(b, self._column(layer.frame, "compound_id"))[fill]
        cols = {"grid_code": grid, "community_id": comm, "compound_id": compound, "building_id": building}
        return {k: np.where(pd.isna(v), None, v) for k, v in cols.items()}

    def household(self, household_id: str) -> dict:
        """Placement and position of a household (at its building); NotFound when it does not exist."""
        layer = self.twin.layer("households")
        row = layer.get(household_id)
        geom = row.geometry
        return {
            "building_id": row.get("building_id"),
            "grid_code": row.get("grid_code"),
            "community_id": row.get("community_id"),
            "compound_id": row.get("compound_id"),
            "lon": float(geom.x) if geom is not None else None,
            "lat": float(geom.y) if geom is not None else None,
        }

    def worker(self, grid_code) -> dict | None:
        """The grid worker's name (and grid name) for `grid_code`, or None."""
        layer = self.twin.layers.get("grids")
        if grid_code is None or layer is None:
            return None
        try:
            row = layer.get(grid_code)
        except NotFound:
            return None
        return {
            "grid_code": grid_code,
            "grid_name": row.get("name"),
            "worker": row.get("worker"),
            "worker_phone": row.get("worker_phone"),
        }
