"""Fast GeoJSON: each feature is encoded to a JSON string once per data version and kept; pages are joins."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import shapely

from twin.times import iso_utc

log = logging.getLogger(__name__)

DECIMALS = 7  # ~1 cm in WGS84: enough for footprints, and a third fewer bytes than full doubles


def _default(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return iso_utc(v)
    raise TypeError(f"cannot encode {type(v).__name__} as JSON")


def dumps(obj) -> str:
    """Compact JSON with Chinese kept readable (numpy and pandas scalars allowed)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_default)


def column_values(col: pd.Series) -> list:
    """Plain Python values of a column: missing → None, datetimes → RFC 3339 strings."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return [iso_utc(v) if not pd.isna(v) else None for v in col.tolist()]
    obj = col.astype(object)
    return obj.where(col.notna(), None).tolist()


def geometry_json(geoms) -> list:
    """GeoJSON geometry strings (coordinates rounded to DECIMALS) for an array of shapely geometries."""
    arr = np.asarray(geoms, dtype=object)
    rounded = shapely.transform(arr, lambda c: np.round(c, DECIMALS))
    return shapely.to_geojson(rounded).tolist()


def point_json(lon, lat) -> list:
    """GeoJSON Point strings for coordinate arrays; None where a coordinate is missing."""
    out = []
    for x, y in zip(np.asarray(lon, dtype=float).tolist(), np.asarray(lat, dtype=float).tolist()):
        if math.isnan(x) or math.isnan(y):
            out.append(None)
        else:
            out.append(f'{{"type":"Point","coordinates":[{round(x, DECIMALS)!r},{round(y, DECIMALS)!r}]}}')
    return out


class FeatureEncoder:
    """Feature strings of one frame version: each row encoded on first request, then reused by every page."""

    def __init__(self, frame: pd.DataFrame, id_field: str, fields: list[str], geometry, whole_columns: bool = True):
        self.frame = frame
        # Static layers convert each column once (cheap per page after); live ones get a new version per write,
        # so they convert only the rows a page needs.
        self.whole_columns = whole_columns
        self.id_field = id_field
        self.fields = list(fields)
        self.geometry = geometry  # callable(positions) -> list of geometry JSON strings (or None)
        self._cache = np.full(len(frame), None, dtype=object)
        self._columns = None  # plain values of the id and every field, converted once on first encoding
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._cache)

    def features(self, positions) -> list[str]:
        """Feature JSON strings of the rows at `positions` (in that order)."""
        pos = np.asarray(positions, dtype=np.int64)
        if len(pos) == 0:
            return []
        got = self._cache[pos]
        missing = np.unique(pos[np.equal(got, None)])
        if len(missing):
            self._cache[missing] = self._encode(missing)
            got = self._cache[pos]
        return got.tolist()

    def warm(self) -> None:
        """Encode every row now (e.g. at start-up) so first requests are as fast as later ones."""
        self.features(np.arange(len(self)))

    def _plain_columns(self) -> list[np.ndarray]:
        """The id and field columns as arrays of plain Python values; one pandas pass per column, not per page."""
        if self._columns is None:
            with self._lock:
                if self._columns is None:
                    cols = [self.frame[self.id_field]] + [self.frame[f] for f in self.fields]
                    self._columns = [np.array(column_values(c) + [None], dtype=object)[:-1] for c in cols]
        return self._columns

    def _encode(self, pos: np.ndarray) -> list[str]:
        if self.whole_columns:
            ids, *cols = (c[pos].tolist() for c in self._plain_columns())
        else:
            sub = self.frame.iloc[pos]
            ids, *cols = (column_values(sub[f]) for f in [self.id_field, *self.fields])
        geoms = self.geometry(pos)
        out = np.empty(len(pos), dtype=object)
        for i in range(len(pos)):
            props = dumps(dict(zip(self.fields, (c[i] for c in cols))))
            out[i] = f'{{"type":"Feature","id":{dumps(ids[i])},"geometry":{geoms[i] or "null"},"properties":{props}}}'
        return out


class VersionCache:
    """Values built once per (key, version); an entry is replaced when its data's version changes."""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict = {}

    def get(self, key, version, build):
        """The value for `key` at `version`, built by `build()` on first use (one builder per key at a time)."""
        hit = self._items.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            value = build()
            with self._lock:
                self._items[key] = (version, value)
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value


def feature_collection(features: list[str], meta: dict) -> str:
    """A FeatureCollection document: `meta` members first, then the pre-encoded features."""
    head = dumps({"type": "FeatureCollection", **meta})
    return f'{head[:-1]},"features":[{",".join(features)}]}}'
