"""The street's ground plan in a local metric plane: outline, communities, road blocks and compounds."""

from __future__ import annotations

import logging
import math

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, box

log = logging.getLogger(__name__)

EARTH_M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)


def to_lonlat(geoms, origin: tuple[float, float], decimals: int | None = 7):
    """Map local metric geometries (x east, y north, metres from `origin`) to WGS84, rounded to `decimals`."""
    lon0, lat0 = origin
    kx = EARTH_M_PER_DEG * math.cos(math.radians(lat0))

    def f(c):
        out = np.column_stack((lon0 + c[:, 0] / kx, lat0 + c[:, 1] / EARTH_M_PER_DEG))
        return out if decimals is None else np.round(out, decimals)

    return shapely.transform(geoms, f)


def outline(rng: np.random.Generator, width: float, height: float, per_side: int = 6) -> Polygon:
    """An irregular but simple outline about `width` × `height` metres centred on (0, 0)."""
    pts = []
    corners = [(-width / 2, height / 2), (width / 2, height / 2), (width / 2, -height / 2), (-width / 2, -height / 2)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1]):
        for t in np.linspace(0, 1, per_side, endpoint=False):
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            s = 1 + rng.uniform(-0.06, 0.05)  # push each vertex in or out along the ray from the centre
            pts.append((x * s, y * s))
    poly = Polygon(pts)
    return poly if poly.is_valid else shapely.make_valid(poly).convex_hull


def reading_order(x: np.ndarray, y: np.ndarray, band: float) -> np.ndarray:
    """Positions sorted north→south in bands of `band` metres, west→east inside a band (grid-code numbering)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    row = np.floor((y.max() - y) / band) if len(y) else y
    return np.lexsort((x, row))


def tessellate(rng: np.random.Generator, area: Polygon, n: int) -> list:
    """`n` irregular cells tiling `area`: Voronoi cells of jittered lattice seeds, clipped to it, in reading order."""
    if n == 1:
        return [area]
    minx, miny, maxx, maxy = area.bounds
    cols = max(1, round(math.sqrt(n * (maxx - minx) / (maxy - miny))))
    rows = math.ceil(n / cols)
    cx = minx + (np.arange(cols) + 0.5) * (maxx - minx) / cols
    cy = miny + (np.arange(rows) + 0.5) * (maxy - miny) / rows
    gx, gy = np.meshgrid(cx, cy)
    seeds = np.column_stack((gx.ravel(), gy.ravel()))[:n]
    seeds += rng.uniform(-0.25, 0.25, seeds.shape) * [(maxx - minx) / cols, (maxy - miny) / rows]
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=area.envelope.buffer(100), ordered=True)
    parts = shapely.intersection(np.asarray(cells.geoms), area)
    parts = [_largest(p) for p in parts if not p.is_empty]
    c = shapely.centroid(np.asarray(parts))
    band = (maxy - miny) / rows
    return [parts[i] for i in reading_order(shapely.get_x(c), shapely.get_y(c), band)]


def _largest(geom):
    """The largest polygon of a (multi)polygon."""
    if geom.geom_type == "Polygon":
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon"]
    return max(polys, key=lambda g: g.area)


def road_blocks(rng: np.random.Generator, area: Polygon, span=(180, 300), depth=(200, 320), road=(18, 30)):
    """Rectangular blocks between a lattice of roads covering `area`'s bounding box."""
    minx, miny, maxx, maxy = area.bounds
    xs = _cuts(rng, minx, maxx, span, road)
    ys = _cuts(rng, miny, maxy, depth, road)
    return [box(x0, y0, x1, y1) for (y0, y1) in reversed(ys) for (x0, x1) in xs]


def _cuts(rng, lo, hi, size, road):
    out, x = [], lo + rng.uniform(0, road[1])
    while x < hi:
        w = rng.uniform(*size)
        out.append((x, x + w))
        x += w + rng.uniform(*road)
    return out


def compound_plots(
    rng: np.random.Generator, communities: list, blocks: list, quota: list[int], min_area: float = 12_000
) -> list[tuple[int, Polygon]]:
    """Pick compound outlines: blocks cut to the community holding their centre, set back from the road.

    Returns (community position, polygon) pairs; each community gets up to its quota, and outlines never overlap
    because blocks never do and each is clipped to one community.
    """
    tree = shapely.STRtree(communities)
    centres = shapely.centroid(np.asarray(blocks))
    bi, ci = tree.query(centres, predicate="within")
    by_comm: dict[int, list] = {}
    for b, c in sorted(zip(bi.tolist(), ci.tolist())):
        plot = shapely.intersection(blocks[b], communities[c]).buffer(-4, join_style="mitre")
        if plot.is_empty:
            continue
        plot = _largest(plot)
        if plot.area < min_area:
            continue
        if rng.random() < 0.3:  # cut a corner: real compounds are rarely clean rectangles
            plot = _cut_corner(rng, plot)
        by_comm.setdefault(c, []).append(plot)
    out = []
    for c, want in enumerate(quota):
        plots = by_comm.get(c, [])
        take = rng.permutation(len(plots))[:want]
        out += [(c, plots[i]) for i in sorted(take)]
    return out


def _cut_corner(rng, plot: Polygon) -> Polygon:
    minx, miny, maxx, maxy = plot.bounds
    a, b = rng.uniform(0.2, 0.4) * (maxx - minx), rng.uniform(0.2, 0.4) * (maxy - miny)
    corner = int(rng.integers(4))
    x = (minx, maxx, maxx, minx)[corner]
    y = (maxy, maxy, miny, miny)[corner]
    sx, sy = (1 if x == minx else -1), (1 if y == miny else -1)
    tri = Polygon([(x, y), (x + sx * a, y), (x, y + sy * b)])
    cut = plot.difference(tri)
    return _largest(cut) if not cut.is_empty else plot
