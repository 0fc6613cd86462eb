"""OGC API – Features Part 2 (CRS by reference): the CRSs served, `crs`/`bbox-crs` parsing, reprojection of answers.

Data are stored and indexed in WGS84 longitude/latitude (CRS84). Coordinates in any other CRS are in that CRS's
axis order as its authority defines it: EPSG:4326 and EPSG:4490 (CGCS2000) are latitude, longitude; EPSG:3857 is
easting, northing in metres.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pyproj import CRS, Transformer

from twin.errors import InvalidInput

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@dataclass(frozen=True)
class Served:
    """One CRS the API serves: its URI, the pyproj definition, the range of each axis and output precision."""

    uri: str
    code: str  # as pyproj reads it
    ranges: tuple[tuple[float, float], tuple[float, float]]  # per axis, in the CRS's own axis order
    decimals: int
    lat_first: bool = False

    @cached_property
    def crs(self) -> CRS:
        return CRS.from_user_input(self.code)

    @cached_property
    def from_crs84(self) -> Transformer:
        return Transformer.from_crs("OGC:CRS84", self.crs)  # output in this CRS's authority axis order

    @cached_property
    def to_crs84(self) -> Transformer:
        return Transformer.from_crs(self.crs, "OGC:CRS84")

    @property
    def is_crs84(self) -> bool:
        return self.uri == CRS84


_DEG = ((-180.0, 180.0), (-90.0, 90.0))
_MERCATOR = 20037508.342789244
SERVED = (
    Served(CRS84, "OGC:CRS84", _DEG, 7),
    Served(EPSG + "4490", "EPSG:4490", _DEG[::-1], 7, lat_first=True),
    Served(EPSG + "4326", "EPSG:4326", _DEG[::-1], 7, lat_first=True),
    Served(EPSG + "3857", "EPSG:3857", ((-_MERCATOR, _MERCATOR), (-20048966.1, 20048966.1)), 3),
)
URIS = [s.uri for s in SERVED]
STORAGE = SERVED[0]


def _forms(s: Served) -> set[str]:
    short = "OGC:CRS84" if s.is_crs84 else s.code
    return {s.uri, s.uri.replace("http://", "https://"), short, f"[{short}]"}


_BY_FORM = {form.upper(): s for s in SERVED for form in _forms(s)}


def parse_crs(args, name: str) -> Served:
    """The CRS named by query parameter `name` (CRS84 when absent); 400 naming the served ones otherwise."""
    raw = args.get(name)
    if raw is None:
        return STORAGE
    found = _BY_FORM.get(raw.strip().upper())
    if found is None:
        raise InvalidInput(
            f"{name} {raw[:80]!r} is not served; use one of {', '.join(URIS)} "
            "(CGCS2000 EPSG:4490 and EPSG:4326 take latitude first)",
            parameter=name,
            supported=URIS,
        )
    return found


def content_crs(served: Served) -> str:
    """The Content-Crs header value."""
    return f"<{served.uri}>"


def bbox_in_crs84(box: tuple[float, float, float, float], served: Served) -> list[tuple[float, float, float, float]]:
    """`bbox` given in `served` (its axis order) as one or two CRS84 boxes (two when it crosses the antimeridian)."""
    (lo_1, hi_1), (lo_2, hi_2) = served.ranges
    if not all(lo_1 <= v <= hi_1 for v in box[0::2]) or not all(lo_2 <= v <= hi_2 for v in box[1::2]):
        if served.is_crs84:
            what = "longitudes lie in [-180, 180] and latitudes in [-90, 90]"
        else:
            what = f"in {served.code} axis 1 lies in [{lo_1:g}, {hi_1:g}] and axis 2 in [{lo_2:g}, {hi_2:g}]"
        raise InvalidInput(f"bbox out of range: {what} (got {list(box)})", parameter="bbox")
    x0, y0, x1, y1 = (box[1], box[0], box[3], box[2]) if served.lat_first else box
    if y0 > y1:
        raise InvalidInput("bbox: the lower latitude or northing comes first (got min > max)", parameter="bbox")
    if served.crs.is_geographic:
        if x0 > x1:  # crosses the antimeridian: the west edge lies east of the east edge
            return [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
        return [(x0, y0, x1, y1)]
    if x0 > x1:
        raise InvalidInput("bbox: the lower easting comes first (got min > max)", parameter="bbox")
    return [tuple(served.to_crs84.transform_bounds(x0, y0, x1, y1, densify_pts=21))]


def _transform(coords, fwd, decimals: int):
    arr = np.asarray(coords, dtype=float)
    if arr.ndim == 1:
        x, y = fwd.transform(arr[0], arr[1])
        return [round(float(x), decimals), round(float(y), decimals), *arr[2:].tolist()]
    if arr.ndim == 2:
        x, y = fwd.transform(arr[:, 0], arr[:, 1])
        out = np.column_stack([np.round(x, decimals), np.round(y, decimals), arr[:, 2:]])
        return out.tolist()
    return [_transform(c, fwd, decimals) for c in coords]


def reproject_geometry(geometry: dict | None, served: Served) -> dict | None:
    """A GeoJSON geometry (CRS84) with its coordinates in `served`, in that CRS's axis order."""
    if geometry is None or served.is_crs84:
        return geometry
    if geometry["type"] == "GeometryCollection":
        return {**geometry, "geometries": [reproject_geometry(g, served) for g in geometry["geometries"]]}
    return {**geometry, "coordinates": _transform(geometry["coordinates"], served.from_crs84, served.decimals)}


def reproject_features(features: list[str], served: Served) -> list[str]:
    """Feature JSON strings (CRS84) re-encoded with their geometry in `served`; unchanged for CRS84."""
    if served.is_crs84:
        return features
    out = []
    for text in features:
        feature = json.loads(text)
        feature["geometry"] = reproject_geometry(feature.get("geometry"), served)
        out.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return out
