"""Placing imported rows in the target directory's street: containing community/compound/grid, nearest building."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from twin.crs import MetricCRS

log = logging.getLogger(__name__)


def containing(points: np.ndarray, areas: gpd.GeoDataFrame | None, id_field: str) -> np.ndarray:
    """For each point, the `id_field` of the first area that contains it (object array, None where none does)."""
    out = np.full(len(points), None, dtype=object)
    if areas is None or not len(areas) or not len(points):
        return out
    tree = shapely.STRtree(areas.geometry.values)
    ok = ~shapely.is_missing(points)
    p_idx, a_idx = tree.query(points[ok], predicate="intersects")
    ids = areas[id_field].to_numpy()
    pos = np.flatnonzero(ok)
    # The first hit per point wins (query returns hits sorted by input position).
    first = np.unique(p_idx, return_index=True)[1]
    out[pos[p_idx[first]]] = ids[a_idx[first]]
    return out


def nearest_within(points: np.ndarray, areas: gpd.GeoDataFrame, metres: float) -> np.ndarray:
    """Row position in `areas` of the area containing each point, else the nearest within `metres`; -1 if none."""
    out = np.full(len(points), -1, dtype=int)
    ok = ~shapely.is_missing(points)
    if not len(areas) or not ok.any():
        return out
    lon, lat = shapely.get_x(points[ok]), shapely.get_y(points[ok])
    crs = MetricCRS.for_lonlat(float(np.mean(lon)), float(np.mean(lat)))
    tree = shapely.STRtree(crs.to_metric(areas.geometry.values))
    p_idx, a_idx = tree.query_nearest(crs.to_metric(points[ok]), max_distance=metres, all_matches=False)
    out[np.flatnonzero(ok)[p_idx]] = a_idx
    return out
