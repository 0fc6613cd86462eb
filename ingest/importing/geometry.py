"""Footprint checks and repair: missing or non-polygonal geometries are problems; invalid ones are made valid."""

from __future__ import annotations

import logging

import numpy as np
import shapely
from tqdm import tqdm

log = logging.getLogger(__name__)

DECIMALS = 7  # of the stored degrees (about 1 cm)
GRID_DEG = 10.0**-DECIMALS
REPAIR_BAR_MIN = 2_000  # fewer repairs finish before a bar is worth drawing
POLYGONAL = {shapely.GeometryType.POLYGON.value, shapely.GeometryType.MULTIPOLYGON.value}


def polygonal_part(geom):
    """The polygons of `geom` (e.g. of a GeometryCollection that make_valid returned) as one geometry, or None."""
    parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in POLYGONAL]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if not merged.is_empty else None


def on_grid(geoms: np.ndarray) -> np.ndarray:
    """Coordinates rounded to GRID_DEG, as they will be written, so validity is judged on what is stored."""
    return shapely.transform(np.asarray(geoms, dtype=object), lambda c: np.round(c, DECIMALS))


def largest_polygon(geom):
    """`geom` itself when a Polygon, else its largest polygon (a footprint layer holds Polygons only)."""
    if geom is None or shapely.get_type_id(geom) == shapely.GeometryType.POLYGON.value:
        return geom
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.area(parts)))]


def check_polygons(geoms: np.ndarray, show: bool | None = None):
    """Repair invalid polygons; return (geometries, positions repaired, {position: reason} for unusable ones,
    positions whose repair fell into several parts, of which the largest is kept so every footprint is a Polygon).

    Repaired polygons are snapped to the 7-decimal grid (keeping them valid) so they stay valid once written.
    """
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    problems: dict[int, str] = {}
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        problems[int(i)] = "geometry is missing or empty"
    types = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(types, list(POLYGONAL))
    for i in np.flatnonzero(wrong):
        problems[int(i)] = f"geometry is a {geoms[i].geom_type}, expected a polygon"
    usable = ~missing & ~wrong
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[usable] = ~shapely.is_valid(geoms[usable])
    repaired, split = [], []
    bad = np.flatnonzero(invalid)
    for i in tqdm(
        bad,
        desc="repairing geometries",
        unit="geom",
        leave=False,
        position=1,
        disable=(not show) if show is not None else (True if len(bad) < REPAIR_BAR_MIN else None),
    ):
        fixed = polygonal_part(shapely.make_valid(geoms[i]))
        if fixed is not None:
            fixed = polygonal_part(shapely.set_precision(fixed, GRID_DEG))
        if fixed is None or fixed.area == 0:
            problems[int(i)] = f"invalid geometry ({shapely.is_valid_reason(geoms[i])}) has no area once repaired"
            continue
        if shapely.get_type_id(fixed) != shapely.GeometryType.POLYGON.value:
            fixed = largest_polygon(fixed)
            split.append(int(i))
        geoms[i] = fixed
        repaired.append(int(i))
    return geoms, np.asarray(repaired, dtype=int), problems, np.asarray(split, dtype=int)
