"""What a planner's area is: a GeoJSON polygon (checked, repaired), a grid/community/compound, or a disc.

Every way of naming an area ends in an `Area`: its WGS84 geometry, its metric twin, and a note of any repair.
Malformed input raises InvalidInput with a message a person can act on; nothing here touches the web.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from . import jsontext
from .errors import InvalidInput, NotFound
from .spatial import MAX_RADIUS_M

log = logging.getLogger(__name__)

DEFAULT_MAX_VERTICES = 100_000
CIRCLE_QUAD_SEGS = 32  # a disc is a 128-gon: its area is within 0.05% of the true circle's
ID_KINDS = {
    "grid": ("grids", "grid_code"),
    "community": ("communities", "community_id"),
    "compound": ("compounds", "compound_id"),
}
POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Area:
    """A queried area: how it was named, its WGS84 and metric geometry, and whether it had to be repaired."""

    kind: str  # polygon | grid | community | compound | point
    geom: object  # shapely (Multi)Polygon in WGS84
    metric: object  # the same in the twin's metric CRS
    ref: dict = field(default_factory=dict)  # the id, or the centre and radius, that named it
    label: str = ""
    repaired: bool = False
    repair_reason: str | None = None  # the geometry library's words, with the place
    repair_code: str | None = None  # what was wrong, as a code of twin.vocab.AREA_REPAIRS (labels for pages)

    def describe(self) -> dict:
        """JSON-able description of the area (without the geometry)."""
        return {
            "kind": self.kind,
            **self.ref,
            "label": self.label,
            "repaired": self.repaired,
            "repair_reason": self.repair_reason,
            "repair_code": self.repair_code,
        }


# --- GeoJSON polygons -------------------------------------------------------------------------------------------
def count_brackets_bound(raw: bytes | str, max_vertices: int) -> None:
    """Refuse quickly, before parsing, a body that surely holds more than `max_vertices` positions.

    Every position of a GeoJSON geometry opens one '['; rings and polygons open a few more, so a body with
    more than twice the limit (plus slack) of them cannot be a polygon within it. Counting is one C-level pass.
    """
    n = raw.count(b"[" if isinstance(raw, bytes) else "[")
    if n > 2 * max_vertices + 1000:
        raise InvalidInput(
            f"the polygon has too many vertices (about {n:,}); the most accepted is "
            f"{max_vertices:,} — simplify it first",
            max_vertices=max_vertices,
        )


def parse_geojson_text(raw: bytes | str, max_vertices: int = DEFAULT_MAX_VERTICES) -> dict:
    """The JSON object in `raw`, refused early when it surely holds too many vertices; InvalidInput if not JSON."""
    count_brackets_bound(raw, max_vertices)
    obj = jsontext.loads(raw)
    if not isinstance(obj, dict):
        raise InvalidInput("send one GeoJSON geometry (Polygon or MultiPolygon) or a Feature holding one")
    return obj


def geometry_of(obj: dict) -> dict:
    """The geometry member of a GeoJSON Feature, or the object itself if it is a geometry."""
    kind = obj.get("type")
    if kind == "Feature":
        geom = obj.get("geometry")
        if not isinstance(geom, dict):
            raise InvalidInput("the Feature has no geometry; draw a polygon first")
        return geom
    if kind == "FeatureCollection":
        feats = obj.get("features") or []
        if len(feats) != 1 or not isinstance(feats[0], dict):
            raise InvalidInput(
                f"send one polygon: a FeatureCollection of exactly one Feature (this one has {len(feats)})"
            )
        return geometry_of(feats[0])
    return obj


def polygon_arrays(geom: dict, max_vertices: int) -> list[list[np.ndarray]]:
    """Rings of each polygon of a GeoJSON Polygon/MultiPolygon as (n, 2) float arrays, checked and counted."""
    kind = geom.get("type")
    if kind not in POLYGONAL:
        raise InvalidInput(
            f"the geometry must be a Polygon or MultiPolygon, not {kind or 'missing'!s}; "
            "for a point, send lon, lat and radius",
            geometry_type=str(kind),
        )
    coords = geom.get("coordinates")
    polys = [coords] if kind == "Polygon" else coords
    if not isinstance(polys, list) or not polys or not all(isinstance(p, list) and p for p in polys):
        raise InvalidInput(f"the {kind} has no coordinates (a list of rings of [lon, lat] positions)")
    total = 0
    out = []
    for pi, rings in enumerate(polys):
        arrays = []
        for ri, ring in enumerate(rings):
            if not isinstance(ring, list):
                raise InvalidInput(f"polygon {pi + 1}, ring {ri + 1} is not a list of positions")
            total += len(ring)
            if total > max_vertices:
                raise InvalidInput(
                    f"the polygon has more than {max_vertices:,} vertices; simplify it first", max_vertices=max_vertices
                )
            arrays.append(_ring_array(ring, pi, ri))
        out.append(arrays)
    return out


def _ring_array(ring: list, pi: int, ri: int) -> np.ndarray:
    where = f"polygon {pi + 1}, ring {ri + 1}"
    try:
        a = np.array(
            [p[:2] if isinstance(p, list) and len(p) in (2, 3) else [math.nan, math.nan] for p in ring], dtype=float
        )
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: every position must be [lon, lat] numbers") from None
    if a.ndim != 2 or not np.isfinite(a).all():
        raise InvalidInput(f"{where}: every position must be [lon, lat] (two or three finite numbers)")
    if len(a) < 4:
        raise InvalidInput(f"{where} has {len(a)} position(s); a ring needs at least 4 (the first repeated last)")
    if not np.array_equal(a[0], a[-1]):
        raise InvalidInput(f"{where} is not closed: its last position must equal its first")
    return a


def build_polygon(rings_per_polygon: list[list[np.ndarray]]):
    """A shapely (Multi)Polygon from checked ring arrays."""
    polys = [shapely.Polygon(r[0], r[1:]) for r in rings_per_polygon]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def repair(geom) -> tuple[object, str | None]:
    """`geom` made valid (make_valid, polygonal parts kept) and why it needed it; (geom, None) when valid."""
    if shapely.is_valid(geom):
        return geom, None
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    fixed = polygonal_part(fixed)
    if fixed.is_empty or fixed.area == 0:
        raise InvalidInput(f"the polygon is invalid ({reason}) and has no area once repaired; draw it again")
    log.info("repaired a query polygon: %s", reason)
    return fixed, reason


REPAIR_CODES = (  # GEOS reason prefix → twin.vocab.AREA_REPAIRS code, longest prefix first
    ("Ring Self-intersection", "ring_self_intersection"),
    ("Self-intersection", "self_intersection"),
    ("Repeated Point", "duplicate_points"),
    ("Too few points", "too_few_points"),
    ("Hole lies outside shell", "hole_outside_shell"),
    ("Nested", "nested"),
)


def repair_code(reason: str | None) -> str | None:
    """The AREA_REPAIRS code of a GEOS validity reason ("Self-intersection[114.8 40.7]" → "self_intersection")."""
    if reason is None:
        return None
    return next((code for prefix, code in REPAIR_CODES if reason.startswith(prefix)), "invalid")


def polygonal_part(geom):
    """The polygons of `geom` (a geometry collection's non-polygon parts dropped) as one geometry."""
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def check_lonlat(twin, geom) -> None:
    """Refuse coordinates out of range, and those clearly given as lat, lon (outside the street, inside it swapped)."""
    minx, miny, maxx, maxy = geom.bounds
    in_range = -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90
    outside = not in_range or not _near_street(twin, geom)
    if outside and twin.boundary is not None:
        swapped = shapely.transform(geom, lambda c: c[:, ::-1])
        _, sminy, _, smaxy = swapped.bounds
        if -90 <= sminy and smaxy <= 90 and _near_street(twin, swapped):
            raise InvalidInput(
                "the coordinates look like [lat, lon]: GeoJSON and this API use [lon, lat] "
                "(longitude first); swap them",
                hint="swap_lonlat",
            )
    if not in_range:
        raise InvalidInput(
            "coordinates out of range: longitude must lie in [-180, 180] and latitude in [-90, 90], as [lon, lat]"
        )


def _near_street(twin, geom) -> bool:
    return twin.boundary is None or bool(twin.boundary.intersects(geom))


def from_geojson(twin, obj: dict, max_vertices: int = DEFAULT_MAX_VERTICES) -> Area:
    """The Area of a GeoJSON Polygon/MultiPolygon (or a Feature of one); repaired with make_valid when invalid."""
    if not isinstance(obj, dict):
        raise InvalidInput("send one GeoJSON geometry (Polygon or MultiPolygon) or a Feature holding one")
    geom = build_polygon(polygon_arrays(geometry_of(obj), max_vertices))
    check_lonlat(twin, geom)
    geom, reason = repair(geom)
    if geom.area == 0:
        raise InvalidInput("the polygon has no area (all its vertices lie on one line)")
    props = obj.get("properties") if obj.get("type") == "Feature" else None
    label = str(props.get("name", "")) if isinstance(props, dict) else ""
    return make_area(twin, "polygon", geom, {}, label, reason)


def make_area(twin, kind: str, geom, ref: dict, label: str = "", reason: str | None = None) -> Area:
    """An Area of a WGS84 geometry, with its metric projection."""
    return Area(kind, geom, twin.crs.to_metric(geom), ref, label, reason is not None, reason, repair_code(reason))


# --- areas named by id, and discs ---------------------------------------------------------------------------------
def from_id(twin, kind: str, item_id: str) -> Area:
    """The Area of a grid, community or compound by its id (NotFound when there is none)."""
    if kind not in ID_KINDS:
        raise InvalidInput(f"an area is a grid, community or compound, not {kind!r}")
    layer_name, id_field = ID_KINDS[kind]
    layer = twin.layer(layer_name)
    row = layer.get(str(item_id))
    geom = row.geometry
    if geom is None or geom.is_empty:
        raise NotFound(f"{kind} {item_id!r} has no geometry", id=str(item_id))
    geom, _ = repair(geom)
    return make_area(twin, kind, geom, {id_field: str(item_id)}, str(row.get("name", "") or ""))


def check_radius(radius) -> float:
    """`radius` as metres in (0, MAX_RADIUS_M]; InvalidInput otherwise."""
    try:
        r = float(radius)
    except (TypeError, ValueError):
        raise InvalidInput(f"radius must be a number of metres, not {radius!r}", parameter="radius") from None
    if isinstance(radius, bool) or not math.isfinite(r) or r <= 0 or r > MAX_RADIUS_M:
        raise InvalidInput(
            f"radius must be more than 0 and at most {MAX_RADIUS_M:,.0f} metres, not {radius}", parameter="radius"
        )
    return r


def from_point(twin, lon, lat, radius) -> Area:
    """The disc of `radius` metres around (lon, lat), as a 128-gon drawn in the metric CRS."""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput(f"lon and lat must be numbers, not {lon!r}, {lat!r}", parameter="lon,lat") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidInput("lon and lat must be finite numbers", parameter="lon,lat")
    r = check_radius(radius)
    check_lonlat(twin, shapely.Point(lon, lat))
    centre = twin.crs.to_metric(shapely.Point(lon, lat))
    metric = shapely.buffer(centre, r, quad_segs=CIRCLE_QUAD_SEGS)
    geom = twin.crs.to_wgs84(metric)
    return Area("point", geom, metric, {"lon": lon, "lat": lat, "radius_m": r}, "")
