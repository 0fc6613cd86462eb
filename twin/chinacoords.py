"""Chinese web-map datums: WGS84 <-> GCJ-02 (国测局/火星坐标) <-> BD-09 (百度), vectorised with numpy.

GCJ-02 is the published obfuscation on the Krasovsky ellipsoid (a = 6378245 m, e² = 0.00669342162296594323);
BD-09 adds Baidu's polar offset on top of GCJ-02. Points outside China's bounding box are left unchanged by
both, as the web maps do. The inverses have no closed form: they are solved by fixed-point iteration until
the forward transform of the answer reproduces the input to ~1e-10 degrees (well under a centimetre).
"""

from __future__ import annotations

import logging

import numpy as np
import shapely

log = logging.getLogger(__name__)

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
X_PI = np.pi * 3000.0 / 180.0
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # lon/lat box of the out-of-China rule
DATUMS = ("wgs84", "gcj02", "bd09")

_TOL_DEG = 1e-10
_MAX_ITER = 30


def out_of_china(lon, lat) -> np.ndarray:
    """True where (lon, lat) lies outside the box inside which GCJ-02 and BD-09 apply."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BOX
    return (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1)


def _offset(lon, lat):
    """GCJ-02 minus WGS84, in degrees, at WGS84 (lon, lat)."""
    x, y = lon - 105.0, lat - 35.0
    periodic = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + periodic
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + periodic
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _arrays(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return np.broadcast_arrays(lon, lat)


def _result(lon, lat, scalar: bool):
    return (float(lon), float(lat)) if scalar else (lon, lat)


def wgs84_to_gcj02(lon, lat):
    """GCJ-02 coordinates of WGS84 (lon, lat); arrays in, arrays out (floats for scalars)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _offset(lon, lat)
    keep = out_of_china(lon, lat)
    return _result(np.where(keep, lon, lon + dlon), np.where(keep, lat, lat + dlat), scalar)


def gcj02_to_bd09(lon, lat):
    """BD-09 coordinates of GCJ-02 (lon, lat)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    keep = out_of_china(x, y)
    return _result(np.where(keep, x, z * np.cos(theta) + 0.0065), np.where(keep, y, z * np.sin(theta) + 0.006), scalar)


def _bd09_to_gcj02_approx(lon, lat):
    """Baidu's published closed-form inverse (accurate to about a metre); the start of the iteration."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(forward, lon, lat, start):
    """Solve forward(p) == (lon, lat) for p by fixed-point iteration from `start` (the offsets are contractive)."""
    px, py = start
    for _ in range(_MAX_ITER):
        fx, fy = forward(px, py)
        ex, ey = fx - lon, fy - lat
        px, py = px - ex, py - ey
        if np.all(np.abs(ex) < _TOL_DEG) and np.all(np.abs(ey) < _TOL_DEG):
            break
    return px, py


def gcj02_to_wgs84(lon, lat):
    """WGS84 coordinates of GCJ-02 (lon, lat), exact to well under a centimetre (iterative inverse)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = _arrays(lon, lat)
    px, py = _invert(wgs84_to_gcj02, lon, lat, (lon, lat))
    keep = out_of_china(lon, lat)
    return _result(np.where(keep, lon, px), np.where(keep, lat, py), scalar)


def bd09_to_gcj02(lon, lat):
    """GCJ-02 coordinates of BD-09 (lon, lat) (iterative inverse of gcj02_to_bd09)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = _arrays(lon, lat)
    px, py = _invert(gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))
    keep = out_of_china(lon, lat)
    return _result(np.where(keep, lon, px), np.where(keep, lat, py), scalar)


def wgs84_to_bd09(lon, lat):
    """BD-09 coordinates of WGS84 (lon, lat)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """WGS84 coordinates of BD-09 (lon, lat)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"wgs84": lambda x, y: (x, y), "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"wgs84": lambda x, y: (x, y), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _datum(name: str) -> str:
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in DATUMS:
        raise ValueError(f"unknown datum {name!r}; expected one of {', '.join(DATUMS)}")
    return key


def to_wgs84(lon, lat, datum: str):
    """WGS84 coordinates of (lon, lat) given in `datum` (wgs84, gcj02 or bd09)."""
    return _TO_WGS84[_datum(datum)](lon, lat)


def from_wgs84(lon, lat, datum: str):
    """Coordinates in `datum` (wgs84, gcj02 or bd09) of WGS84 (lon, lat)."""
    return _FROM_WGS84[_datum(datum)](lon, lat)


def geoms_to_wgs84(geoms, datum: str):
    """Shapely geometries (scalar or array) in `datum` moved to WGS84, vertex by vertex."""
    fn = _TO_WGS84[_datum(datum)]
    return shapely.transform(geoms, lambda c: np.column_stack(fn(c[:, 0], c[:, 1])))


def geoms_from_wgs84(geoms, datum: str):
    """Shapely geometries (scalar or array) in WGS84 moved to `datum`, vertex by vertex."""
    fn = _FROM_WGS84[_datum(datum)]
    return shapely.transform(geoms, lambda c: np.column_stack(fn(c[:, 0], c[:, 1])))
