"""Place incidents on arrival: grid (and its worker), community, compound and nearest building, via the indexes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from twin.errors import NotFound

log = logging.getLogger(__name__)

NEAREST_BUILDING_M = 50.0  # a building farther than this from the point is not "the" building of the incident
PLACE_FIELDS = ("grid_code", "community_id", "compound_id", "building_id")


class Placer:
    """Vectorised point placement against a twin's static layers (trees built once, reused per request)."""

    def __init__(self, twin, max_building_m: float = NEAREST_BUILDING_M):
        self.twin = twin
        self.max_building_m = max_building_m
        self._building_tree = None
        self._arrays: dict = {}

    def _layer(self, name):
        return self.twin.layers.get(name)

    def _first_hit(self, name: str, points, column: str) -> np.ndarray:
        out = np.full(len(points), None, dtype=object)
        layer = self._layer(name)
        if layer is None or not len(layer.frame):
            return out
        pt, pos = layer.index.tree.query(points, predicate="intersects")
        order = np.lexsort((pos, pt))[::-1]  # the lowest position per point is written last, so wins
        out[pt[order]] = self._column(layer.frame, column)[pos[order]]
        return out

    def _column(self, frame, column: str) -> np.ndarray:
        """frame[column] as an array, kept per frame: a GeoDataFrame column lookup costs more than the query."""
        cached = self._arrays.get((id(frame), column))  # the frame is kept with its array, so its id is not reused
        if cached is None or cached[0] is not frame:
            cached = self._arrays[(id(frame), column)] = (frame, frame[column].to_numpy())
        return cached[1]

    def _nearest_building(self, lons, lats) -> np.ndarray:
        out = np.full(len(lons), -1, dtype=np.int64)
        layer = self._layer("buildings")
        if layer is None or not len(layer.frame):
            return out
        if self._building_tree is None:
            self._building_tree = shapely.STRtree(layer.index.metric)
        x, y = self.twin.crs.xy(lons, lats)
        pt, pos = self._building_tree.query_nearest(
            shapely.points(x, y), max_distance=self.max_building_m, all_matches=False
        )
        out[pt] = pos
        return out

    def place(self, lons, lats) -> pd.DataFrame:
        """grid_code, community_id, compound_id, building_id (None where nothing fits) for each point."""
        return pd.DataFrame(self._columns(lons, lats), columns=list(PLACE_FIELDS), dtype=object)

    def place_one(self, lon: float, lat: float) -> dict:
        """`place` for one point as a dict, without building a DataFrame (the per-request path of intake)."""
        return {k: v[0] for k, v in self._columns([lon], [lat]).items()}

    def _columns(self, lons, lats) -> dict:
        lons = np.asarray(lons, dtype=float)
        lats = np.asarray(lats, dtype=float)
        points = shapely.points(lons, lats)
        grid = self._first_hit("grids", points, "grid_code")
        grid_comm = self._first_hit("grids", points, "community_id")
        comm = self._first_hit("communities", points, "community_id")
        comm = np.where(pd.isna(comm), grid_comm, comm)
        compound = self._first_hit("compounds", points, "compound_id")
        building = np.full(len(lons), None, dtype=object)
        b = self._nearest_building(lons, lats)
        hit = b >= 0
        if hit.any():
            frame = self._layer("buildings").frame
            building[hit] = self._column(frame, "building_id")[b[hit]]
            if "compound_id" in frame:  # outside every compound polygon: the nearest building's compound
                fill = hit & pd.isna(compound)
                compound[fill] = self._column(frame, "compound_id")[b[fill]]
        cols = {"grid_code": grid, "community_id": comm, "compound_id": compound, "building_id": building}
        return {k: np.array([None if pd.isna(x) else x for x in v], dtype=object) for k, v in cols.items()}

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
        layer = self._layer("grids")
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
