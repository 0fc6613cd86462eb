"""Grids that tile a community exactly: Voronoi cells of its buildings, merged into groups of balanced load."""
from __future__ import annotations

import logging
import math

import numpy as np
import shapely
from shapely.geometry import MultiPoint

from .layout import reading_order

log = logging.getLogger(__name__)


def bisect(x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Split points into `k` groups of near-equal weight by recursive cuts across the longer side; group labels."""
    labels = np.zeros(len(x), int)

    def split(idx, k, first):
        if k == 1 or len(idx) <= 1:
            labels[idx] = first
            return first + 1
        k1 = k // 2
        axis = x if np.ptp(x[idx]) >= np.ptp(y[idx]) else y
        order = idx[np.argsort(axis[idx], kind="stable")]
        cum = np.cumsum(w[order])
        cut = int(np.searchsorted(cum, cum[-1] * k1 / k)) + 1
        cut = min(max(cut, 1), len(order) - 1)
        nxt = split(order[:cut], k1, first)
        return split(order[cut:], k - k1, nxt)

    split(np.arange(len(x)), k, 0)
    return labels


def tile(community, x: np.ndarray, y: np.ndarray, households: np.ndarray, per_grid: float) -> list:
    """Polygons tiling `community`, about `per_grid` households each, every building point inside its own grid."""
    total = float(households.sum())
    k = max(1, min(len(x), round(total / per_grid)))
    if k == 1:
        return [community]
    labels = bisect(x, y, np.maximum(households, 1).astype(float), k)
    cells = shapely.voronoi_polygons(MultiPoint(np.column_stack((x, y))),
                                     extend_to=community.envelope.buffer(200), ordered=True)
    cells = np.asarray(cells.geoms)
    grids = []
    for g in range(k):
        merged = shapely.union_all(cells[labels == g])
        grids.append(shapely.intersection(merged, community))
    c = shapely.centroid(np.asarray(grids))
    band = math.sqrt(community.area / k)
    return [grids[i] for i in reading_order(shapely.get_x(c), shapely.get_y(c), band)]
