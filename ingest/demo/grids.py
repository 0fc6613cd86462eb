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
    cells = shapely.voronoi_polygons(
        MultiPoint(np.column_stack((x, y))), extend_to=community.envelope.buffer(200), ordered=True
    )
    cells = np.asarray(cells.geoms)
    grids = []
    for g in range(k):
        merged = shapely.coverage_union_all(cells[labels == g])  # Voronoi cells share exact edges
        grids.append(shapely.intersection(merged, community))
    grids = _absorb_stray_parts(grids)
    c = shapely.centroid(np.asarray(grids))
    band = math.sqrt(community.area / k)
    return [grids[i] for i in reading_order(shapely.get_x(c), shapely.get_y(c), band)]


def _absorb_stray_parts(grids: list) -> list:
    """Give every piece of a grid but its largest to the neighbour sharing most border, so grids are contiguous."""
    grids = list(grids)
    for i, g in enumerate(grids):
        if g.geom_type != "MultiPolygon":
            continue
        parts = sorted(g.geoms, key=lambda p: -p.area)
        keep = [parts[0]]
        for part in parts[1:]:
            shared = [
                shapely.length(shapely.intersection(part.boundary, o.boundary)) if j != i else -1.0
                for j, o in enumerate(grids)
            ]
            j = int(np.argmax(shared))
            if shared[j] > 0:
                grids[j] = shapely.union(grids[j], part)
            else:
                keep.append(part)
        grids[i] = shapely.union_all(keep)
    return grids
