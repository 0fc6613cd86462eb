"""Storage behind one small interface: files under a data directory plus SQLite (PostGIS can stand in later)."""

from __future__ import annotations

import hashlib
import logging
import sys
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import pandas as pd
import shapely

from .crs import WGS84
from .errors import NotFound, SchemaError

log = logging.getLogger(__name__)

READ_ORDER = (".parquet", ".geojson", ".gpkg", ".csv")


APP_NAME = "community-twin"


def default_data_dir() -> Path:
    """The built-in demo street: data/demo of a source checkout, else the copy a wheel installs under share/."""
    checkout = Path(__file__).resolve().parents[1] / "data" / "demo"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / APP_NAME / "demo"


def default_state_dir(data_dir: Path) -> Path:
    """Where live tables go without STATE_DIR: the user's state directory for the built-in demo (its files may
    be read-only, inside an installed package), else beside the data."""
    if data_dir.resolve() == default_data_dir().resolve():
        from platformdirs import user_state_path

        return user_state_path(APP_NAME) / "demo"
    return data_dir


class Store(Protocol):
    """What the twin needs from storage. A PostGIS store implements the same three methods."""

    def read_layer(self, kind) -> gpd.GeoDataFrame:
        """The validated rows of a static layer, in WGS84, with a fresh RangeIndex."""

    def layer_version(self, kind) -> str:
        """A short string that changes whenever the layer's stored content changes (used for ETags)."""

    def sqlite_path(self) -> Path:
        """Where the live, durable tables (incidents, their history, care checks) are kept."""


class FileStore:
    """Layers as files (GeoParquet, GeoJSON, GeoPackage or CSV) in one directory; live tables in SQLite beside them."""

    def __init__(self, data_dir: str | Path | None = None, state_dir: str | Path | None = None):
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        if not self.data_dir.is_dir():
            raise NotFound(
                f"data directory {self.data_dir} does not exist; create one with `twin demo --out DIR`",
                data_dir=str(self.data_dir),
            )
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir(self.data_dir)
        self._versions: dict[str, str] = {}

    def path_of(self, kind) -> Path | None:
        """The file holding `kind`, or None when the directory has none."""
        for ext in READ_ORDER:
            p = self.data_dir / f"{kind.stem}{ext}"
            if p.exists():
                return p
        return None

    def read_layer(self, kind) -> gpd.GeoDataFrame:
        """Read and validate one layer; raise SchemaError naming the file, row and column on bad content."""
        path = self.path_of(kind)
        if path is None:
            raise NotFound(
                f"no file for layer {kind.name!r} in {self.data_dir} (looked for "
                f"{', '.join(kind.stem + e for e in READ_ORDER)})",
                layer=kind.name,
            )
        self._versions[kind.name] = _file_digest(path)
        frame = read_frame(path, kind.schema.geometry)
        return to_layer_frame(frame, kind, str(path))

    def layer_version(self, kind) -> str:
        """Digest of the layer's file as read at load."""
        if kind.name not in self._versions:
            path = self.path_of(kind)
            self._versions[kind.name] = _file_digest(path) if path else "none"
        return self._versions[kind.name]

    def sqlite_path(self) -> Path:
        """The SQLite database beside the layers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return self.state_dir / "twin.sqlite"


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_frame(path: Path, geometry: str | None) -> pd.DataFrame:
    """Read a file into a (Geo)DataFrame; CSV point layers take lon/lat columns; CSV tables have no geometry."""
    path = Path(path)
    src = str(path)
    if path.suffix == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        if {"lon", "lat"} <= set(df.columns):
            lon = pd.to_numeric(df["lon"], errors="coerce")
            lat = pd.to_numeric(df["lat"], errors="coerce")
            bad = lon.isna() | lat.isna()
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0]) + 1
                col = "lon" if lon.isna().iloc[row - 1] else "lat"
                raise SchemaError("coordinate is missing or not a number", file=src, row=row, column=col)
            return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
        return df
    if path.suffix == ".parquet":
        try:
            return gpd.read_parquet(path)
        except ValueError:
            return pd.read_parquet(path)
    try:
        return gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise SchemaError(f"cannot read file: {exc}", file=src) from exc


def to_layer_frame(frame: pd.DataFrame, kind, source: str) -> gpd.GeoDataFrame:
    """Validate `frame` against `kind`'s schema and return it in WGS84 with only declared columns and geometry."""
    schema = kind.schema
    has_geom = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    if schema.geometry and not has_geom and not schema.placed_by:
        raise SchemaError(
            "the file has no geometry column (need a geometry, or lon/lat columns in a CSV)",
            file=source,
            column="geometry",
        )
    data = pd.DataFrame(frame.drop(columns=[frame.geometry.name]) if has_geom else frame)
    data = schema.validate(data.reset_index(drop=True), source)
    cols = schema.names + [c for c in schema.derived if c in data.columns and c not in schema.names]
    if not has_geom:
        return gpd.GeoDataFrame(data[cols], geometry=gpd.GeoSeries([None] * len(data), crs=WGS84), crs=WGS84)
    if frame.crs is None:
        raise SchemaError(
            "the file declares no coordinate reference system; say which with `twin import --crs`",
            file=source,
            column="geometry",
        )
    geoms = frame.geometry.to_crs(WGS84) if not frame.crs.equals(WGS84) else frame.geometry
    geoms = geoms.reset_index(drop=True)
    check_geometries(geoms.values, schema.geometry, source)
    return gpd.GeoDataFrame(data[cols], geometry=geoms.values, crs=WGS84)


_ALLOWED = {"Polygon": {"Polygon", "MultiPolygon"}, "Point": {"Point"}}


def check_geometries(geoms, expected: str | None, source: str) -> None:
    """Raise SchemaError at the first missing, wrong-type or invalid geometry (rows count from 1)."""
    if expected is None:
        return
    arr = geoms if not hasattr(geoms, "to_numpy") else geoms.to_numpy()
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    if missing.any():
        raise SchemaError(
            "geometry is missing or empty", file=source, row=int(missing.nonzero()[0][0]) + 1, column="geometry"
        )
    types = shapely.get_type_id(arr)
    ok_ids = {shapely.GeometryType[t.upper()].value for t in _ALLOWED[expected]}
    wrong = ~pd.Series(types).isin(ok_ids).to_numpy()
    if wrong.any():
        i = int(wrong.nonzero()[0][0])
        raise SchemaError(
            f"geometry is a {arr[i].geom_type}, expected {expected}", file=source, row=i + 1, column="geometry"
        )
    invalid = ~shapely.is_valid(arr)
    if invalid.any():
        i = int(invalid.nonzero()[0][0])
        raise SchemaError(
            f"invalid geometry: {shapely.is_valid_reason(arr[i])} (repair it with `twin import`)",
            file=source,
            row=i + 1,
            column="geometry",
        )
