"""Residential footprints inside a compound: south-facing slabs in old compounds, towers in new ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely

log = logging.getLogger(__name__)


@dataclass
class Footprints:
    """Buildings of one compound as parallel arrays (metric boxes, attributes)."""

    boxes: np.ndarray  # shapely polygons
    floors: np.ndarray
    units: np.ndarray
    per_floor: np.ndarray  # households per floor per unit
    use: np.ndarray  # residential / mixed / commercial / public


def _row_boxes(rng, x0, x1, y_top, depth, length, gap):
    """Boxes along one east-west row from x0 to x1, north edge at y_top."""
    xs = []
    x = x0 + rng.uniform(0, gap[1])
    while x + length[0] <= x1:
        w = rng.uniform(*length)
        xs.append((x, min(x + w, x1)))
        x += w + rng.uniform(*gap)
    if not xs:
        return np.empty(0, object)
    a = np.array(xs)
    d = rng.uniform(*depth, len(a))
    return shapely.box(a[:, 0], y_top - d, a[:, 1], y_top)


def layout(rng: np.random.Generator, plot, old: bool, shed_rate: float = 0.0) -> Footprints:
    """Fill `plot` with rows of buildings, north to south, each fully inside the plot's inner edge (5 m)."""
    inner = plot.buffer(-5, join_style="mitre")
    minx, miny, maxx, maxy = inner.bounds
    shapely.prepare(inner)
    towers = not old and rng.random() < 0.75
    if towers:
        floors_of = lambda n: rng.choice([11, 11, 12, 15, 16, 18, 18, 22, 26, 33], n)
        length, depth, gap_ew = (20, 30), (18, 26), (14, 24)
    elif old:
        floors_of = lambda n: rng.choice([4, 5, 5, 6, 6, 6, 7], n)
        length, depth, gap_ew = (50, 70), (11, 13), (8, 14)
    else:
        floors_of = lambda n: rng.integers(6, 12, n)
        length, depth, gap_ew = (45, 65), (11, 13), (10, 16)
    boxes, floors, sheds = [], [], []
    y = maxy - rng.uniform(0, 6)
    while y - depth[1] > miny:
        row = _row_boxes(rng, minx, maxx, y, depth, length, gap_ew)
        row = row[shapely.contains(inner, row)]
        f = floors_of(1)[0]
        height = f * 3.0
        gap_ns = float(np.clip((0.5 if towers else 1.1) * height, 16, 42))
        if len(row):
            boxes.append(row)
            floors.append(np.full(len(row), f) + rng.integers(-1, 2, len(row)) * (not old))
        if shed_rate and gap_ns >= 16:
            # low ancillary buildings (garages, shops, boiler rooms) in the middle of the gap to the next row
            top = y - depth[1] - (gap_ns - 6) / 2
            s = _row_boxes(rng, minx, maxx, top, (5, 6), (8, 16), (6, 20))
            s = s[shapely.contains(inner, s) & (rng.random(len(s)) < shed_rate)]
            sheds.append(s)
        y -= depth[1] + gap_ns
    res = np.concatenate(boxes) if boxes else np.empty(0, object)
    fl = np.clip(np.concatenate(floors), 4, 33) if floors else np.empty(0, int)
    n = len(res)
    if towers:
        units = np.where(shapely.length(res) > 100, 2, 1)
        per_floor = rng.integers(2, 5, n)
    else:
        lengths = shapely.bounds(res)[:, 2] - shapely.bounds(res)[:, 0] if n else np.empty(0)
        units = np.clip(np.round(lengths / 16), 2, 5).astype(int)
        per_floor = np.full(n, 2) + (rng.random(n) < (0.15 if old else 0.35))
    use = np.full(n, "residential", dtype=object)
    r = rng.random(n)
    use[r < 0.07] = "mixed"
    use[(r >= 0.07) & (r < 0.09)] = "public"
    use[(r >= 0.09) & (r < 0.1)] = "commercial"
    sh = np.concatenate(sheds) if sheds else np.empty(0, object)
    m = len(sh)
    return Footprints(
        boxes=np.concatenate([res, sh]),
        floors=np.concatenate([fl, rng.integers(1, 3, m)]).astype(int),
        units=np.concatenate([units, np.ones(m, int)]).astype(int),
        per_floor=np.concatenate([per_floor, np.zeros(m, int)]).astype(int),
        use=np.concatenate([use, rng.choice(np.array(["commercial", "public"], dtype=object), m)]),
    )


def households_of(fp: Footprints) -> np.ndarray:
    """Households per building: units × residential floors × households per floor (mixed: ground floor shops)."""
    res_floors = np.where(fp.use == "mixed", fp.floors - 1, fp.floors)
    hh = fp.units * res_floors * fp.per_floor
    return np.where(np.isin(fp.use, ["commercial", "public"]), 0, hh).astype(int)
