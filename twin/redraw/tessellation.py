"""Voronoi-style tessellation of a community around its building footprints, clipped: the cells cover it exactly."""

from __future__ import annotations

import logging

import numpy as np
import shapely

log = logging.getLogger(__name__)

SEGMENT_M = 6.0  # footprint outlines are sampled every SEGMENT_M metres so each cell wraps its whole footprint


def tessellate(area, footprints, segment_m: float = SEGMENT_M) -> np.ndarray:
    """One polygon per footprint (metric CRS): together they cover `area` with no gaps or overlaps.

    Cells are the union of the Voronoi regions of points sampled on each footprint's outline (so a cell holds
    its footprint when footprints do not overlap), clipped to `area`. A clipped-off piece that no longer touches
    its building is handed to the neighbouring cell sharing the longest edge with it, so every cell is one piece.
    A footprint whose cell is empty (it lies outside `area`) gets an empty polygon.
    """
    footprints = np.asarray(footprints, dtype=object)
    n = len(footprints)
    if n == 0:
        return np.empty(0, dtype=object)
    if n == 1:
        return np.array([area], dtype=object)
    pts, owner = _sample_outlines(footprints, segment_m)
    extent = shapely.box(*shapely.bounds(shapely.union_all([area, shapely.multipoints(pts)]))).buffer(10.0)
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=extent, ordered=True))
    if len(regions) != len(pts):  # GEOS merges points closer than its tolerance; fall back to the cell centres
        log.warning("voronoi returned %d regions for %d points; matching by location", len(regions), len(pts))
        tree = shapely.STRtree(regions)
        p_idx, r_idx = tree.query(shapely.points(pts), predicate="intersects")
        first = np.full(len(regions), -1)
        first[r_idx[::-1]] = p_idx[::-1]
        keep = first >= 0
        regions, owner = regions[keep], owner[first[keep]]
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    cells = np.empty(n, dtype=object)
    for i in range(n):
        parts = regions[order[bounds[i] : bounds[i + 1]]]
        cells[i] = shapely.coverage_union_all(parts) if len(parts) else shapely.Polygon()
    shapely.prepare(area)
    inside = shapely.contains_properly(area, cells)
    clip = ~inside
    if clip.any():
        cells[clip] = shapely.intersection(cells[clip], area)
    return _one_piece_each(cells, footprints)


def _sample_outlines(footprints, segment_m):
    """Points on each footprint's outline (densified) plus its representative point; deduplicated."""
    rep = shapely.point_on_surface(footprints)
    outline = shapely.segmentize(shapely.boundary(shapely.make_valid(footprints)), segment_m)
    coords, idx = shapely.get_coordinates(outline, return_index=True)
    pts = np.vstack([shapely.get_coordinates(rep), coords])
    owner = np.concatenate([np.arange(len(footprints)), idx])
    _, first = np.unique(np.round(pts, 3), axis=0, return_index=True)
    first = np.sort(first)
    return pts[first], owner[first]


def _one_piece_each(cells, footprints) -> np.ndarray:
    """Keep each cell's piece holding its building; give stray pieces to the neighbour sharing the longest edge."""
    cells = cells.copy()
    multi = np.flatnonzero(shapely.get_num_geometries(cells) > 1)
    if not len(multi):
        return cells
    rep = shapely.point_on_surface(footprints)
    strays = []
    for i in multi:
        parts = shapely.get_parts(shapely.make_valid(cells[i]))
        parts = parts[shapely.area(parts) > 0]
        if not len(parts):
            continue
        hit = np.flatnonzero(shapely.intersects(parts, rep[i]))
        main = hit[0] if len(hit) else int(np.argmax(shapely.area(parts)))
        cells[i] = parts[main]
        strays.extend(p for j, p in enumerate(parts) if j != main)
    for piece in sorted(strays, key=shapely.area, reverse=True):
        tree = shapely.STRtree(cells)
        cand = tree.query(piece, predicate="intersects")
        if not len(cand):
            log.warning("a clipped piece of %.1f m² touches no cell; dropped", piece.area)
            continue
        shared = shapely.length(shapely.intersection(shapely.boundary(cells[cand]), piece.boundary))
        j = cand[int(np.argmax(shared))]
        cells[j] = shapely.coverage_union_all([cells[j], piece])
    return cells
