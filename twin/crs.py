"""Coordinate systems: WGS84 for storage and serving, a metric CRS chosen per twin for lengths and areas."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from pyproj import CRS, Transformer

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"


def gk3_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (central-meridian form, no zone prefix) for `lon`."""
    cm = 3 * round(lon / 3)
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


@dataclass(frozen=True)
class MetricCRS:
    """A metric CRS for one twin, with vectorised transforms to and from WGS84."""

    epsg: int

    @classmethod
    def for_lonlat(cls, lon: float, lat: float) -> "MetricCRS":
        """The CGCS2000 3-degree Gauss-Krüger zone around (lon, lat) (China), else the UTM zone."""
        if 73 <= lon <= 136 and 3 <= lat <= 54:
            return cls(gk3_epsg(lon))
        zone = int((lon + 180) // 6) + 1
        return cls((32600 if lat >= 0 else 32700) + zone)

    @cached_property
    def crs(self) -> CRS:
        return CRS.from_epsg(self.epsg)

    @cached_property
    def _fwd(self) -> Transformer:
        return Transformer.from_crs(WGS84, self.crs, always_xy=True)

    @cached_property
    def _inv(self) -> Transformer:
        return Transformer.from_crs(self.crs, WGS84, always_xy=True)

    def xy(self, lon, lat):
        """Project WGS84 lon/lat arrays to metric x/y."""
        return self._fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))

    def lonlat(self, x, y):
        """Unproject metric x/y arrays to WGS84 lon/lat."""
        return self._inv.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    def to_metric(self, geoms):
        """Project shapely geometries (scalar or array) from WGS84 to this CRS."""
        return shapely.transform(geoms, lambda c: np.column_stack(self.xy(c[:, 0], c[:, 1])))

    def to_wgs84(self, geoms):
        """Unproject shapely geometries (scalar or array) from this CRS to WGS84."""
        return shapely.transform(geoms, lambda c: np.column_stack(self.lonlat(c[:, 0], c[:, 1])))
