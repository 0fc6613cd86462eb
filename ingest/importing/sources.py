"""Reading source files (GeoJSON, GeoPackage, Shapefile, CSV) and moving their coordinates to WGS84."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from twin import chinacoords
from twin.crs import CGCS2000, WGS84
from twin.errors import InvalidInput, NotFound, SchemaError

log = logging.getLogger(__name__)

NAMED = {"wgs84": WGS84, "epsg4326": WGS84, "cgcs2000": CGCS2000, "epsg4490": CGCS2000}
OFFSET_DATUMS = {"gcj02": "gcj02", "gcj": "gcj02", "bd09": "bd09", "bd09ll": "bd09"}
CRS_HINT = "use wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as EPSG:4549 (CGCS2000 / 3-degree GK CM 120E)"
XY_COLUMNS = (("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("x", "y"))
WKT_COLUMNS = ("geometry", "wkt", "geom")
SHAPEFILE_NAMES = ("building_id", "compound_id", "community_id", "building:levels", "building:height")


@dataclass(frozen=True)
class SourceCRS:
    """Where a file's coordinates are: a pyproj CRS, then optionally a Chinese web-map offset on top of lon/lat."""

    label: str
    crs: CRS
    datum: str = "wgs84"  # gcj02 or bd09: the lon/lat are offset from WGS84 by the web-map datums

    def to_wgs84_xy(self, x, y):
        """WGS84 lon/lat arrays of source x/y arrays."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if not self.crs.equals(CRS.from_user_input(WGS84)):
            x, y = _transformer(self.crs).transform(x, y)
        if self.datum != "wgs84":
            x, y = chinacoords.to_wgs84(x, y, self.datum)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_wgs84_geoms(self, geoms: np.ndarray) -> np.ndarray:
        """Shapely geometries moved to WGS84 vertex by vertex (missing ones stay missing)."""
        return shapely.transform(geoms, lambda c: np.column_stack(self.to_wgs84_xy(c[:, 0], c[:, 1])))


def _transformer(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, WGS84, always_xy=True)


def resolve_crs(spec, source) -> SourceCRS:
    """The source CRS named by `spec` (wgs84, cgcs2000, gcj02, bd09, EPSG:n, a bare number or any pyproj text)."""
    text = str(spec).strip()
    key = text.lower().replace("-", "").replace("_", "").replace(":", "").replace(" ", "")
    if key in OFFSET_DATUMS:
        return SourceCRS(OFFSET_DATUMS[key].upper(), CRS.from_user_input(WGS84), OFFSET_DATUMS[key])
    if key in NAMED:
        return SourceCRS(NAMED[key], CRS.from_user_input(NAMED[key]))
    try:
        crs = CRS.from_user_input(int(text) if text.isdigit() else text)
    except CRSError:
        raise InvalidInput(f"file {source}: unknown CRS {text!r}; {CRS_HINT}", file=str(source), crs=text) from None
    return from_pyproj(crs, source)


def from_pyproj(crs: CRS, source) -> SourceCRS:
    """A SourceCRS for a pyproj CRS, refusing ones that cannot be brought to WGS84 (e.g. engineering CRSs)."""
    if not (crs.is_geographic or crs.is_projected):
        raise InvalidInput(
            f"file {source}: CRS {crs.name!r} is neither geographic nor projected; {CRS_HINT}", file=str(source)
        )
    epsg = crs.to_epsg()
    return SourceCRS(f"EPSG:{epsg}" if epsg else crs.name, crs)


def choose_crs(override, declared, source) -> SourceCRS:
    """The --crs override when given, else the file's own CRS; an error naming the file when there is neither."""
    if override:
        return resolve_crs(override, source)
    if declared is None:
        raise SchemaError(
            f"the file declares no coordinate reference system; say which with --crs ({CRS_HINT})", file=str(source)
        )
    return from_pyproj(CRS.from_user_input(declared), source)


AREA_MARGIN_DEG = 2.0  # data a little outside a projected CRS's area of use (a zone's edge) is still accepted


def check_lonlat(lon, lat, crs: SourceCRS, source, rows, column: str = "geometry") -> None:
    """Refuse coordinates that do not land on the globe after conversion, or (for a projected CRS) land far outside
    its area of use: a sign of a wrong CRS, e.g. longitude/latitude read as metres. Checked before any row."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"coordinates do not fit CRS {crs.label} (are they in another CRS? say which with --crs)",
            file=str(source),
            row=int(rows[i]),
            column=column,
        )
    area = crs.crs.area_of_use if crs.crs.is_projected else None
    if area is None or not len(lon):
        return
    m = AREA_MARGIN_DEG
    west, south, east, north = area.west - m, area.south - m, area.east + m, area.north + m
    inside = (lat >= south) & (lat <= north) & ((lon >= west) & (lon <= east) if west <= east else True)
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        raise SchemaError(
            f"the coordinates do not fit {crs.label}: read in it they land at {lon[i]:.4f}, {lat[i]:.4f}, outside "
            f"its area of use ({area.west:g} to {area.east:g} E, {area.south:g} to {area.north:g} N). Are they "
            "longitude/latitude? Then say --crs wgs84 (or the CRS they are in)",
            file=str(source),
            row=int(rows[i]),
            column=column,
        )


def csv_crs(spec, source) -> SourceCRS:
    """The --crs of a CSV's coordinate columns; WGS84 (labelled as assumed) when none is given."""
    if spec:
        return resolve_crs(spec, source)
    return SourceCRS("EPSG:4326 (assumed; say otherwise with --crs)", CRS.from_user_input(WGS84))


def csv_points(df: pd.DataFrame, xy: tuple[str, str], crs: SourceCRS, source, rows: np.ndarray) -> np.ndarray:
    """WGS84 points from a CSV's x/y columns (None where both are blank); a non-number is a SchemaError."""
    values = []
    for col in xy:
        text = df[col]
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        bad = text.notna().to_numpy() & np.isnan(num)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SchemaError(f"{text.iloc[i]!r} is not a number", file=str(source), row=int(rows[i]), column=col)
        values.append(num)
    x, y = values
    half = np.isnan(x) != np.isnan(y)
    if half.any():
        i = int(np.flatnonzero(half)[0])
        raise SchemaError(
            "only one of the two coordinates is given",
            file=str(source),
            row=int(rows[i]),
            column=xy[int(np.isnan(x[i]))],
        )
    have = ~np.isnan(x)
    out = np.full(len(df), None, dtype=object)
    if have.any():
        lon, lat = crs.to_wgs84_xy(x[have], y[have])
        check_lonlat(lon, lat, crs, source, rows[have], column=xy[0])
        out[have] = shapely.points(np.round(lon, 7), np.round(lat, 7))
    return out


def require_file(path) -> Path:
    """`path` as a Path, or NotFound when it does not exist."""
    p = Path(path)
    if not p.is_file():
        raise NotFound(f"file {p} does not exist", file=str(p))
    return p


def read_vector(path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Features of a GeoJSON, GeoPackage, Shapefile (or CSV with a WKT column); errors name the file."""
    path = require_file(path)
    if path.suffix.lower() == ".csv":
        return _read_wkt_csv(path)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise SchemaError(f"cannot read file: {exc}", file=str(path)) from exc
    names = [str(n) for n, _ in layers]
    if layer is None and len(names) > 1:
        raise InvalidInput(
            f"file {path} has {len(names)} layers ({', '.join(names)}); choose one with --layer", file=str(path)
        )
    if layer is not None and layer not in names:
        raise NotFound(f"file {path} has no layer {layer!r}; its layers are {', '.join(names)}", file=str(path))
    gtype = dict((str(n), t) for n, t in layers)[layer or names[0]]
    if gtype is None:
        raise SchemaError("the file has no geometry column", file=str(path), column="geometry")
    try:
        frame = gpd.read_file(path, layer=layer or names[0], engine="pyogrio")
    except Exception as exc:
        raise SchemaError(f"cannot read file: {exc}", file=str(path)) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise SchemaError("the file has no geometry column", file=str(path), column="geometry")
    if len(frame) and shapely.is_missing(frame.geometry.values).all():
        raise SchemaError(
            "no feature of the file has a geometry (no geometry column?)", file=str(path), column="geometry"
        )
    return untruncated(frame) if path.suffix.lower() == ".shp" else frame


def untruncated(frame: pd.DataFrame) -> pd.DataFrame:
    """Shapefile columns cut to 10 characters (building_i, building_l) given back their full names."""
    names = {n.replace(":", "_")[:10]: n for n in SHAPEFILE_NAMES if len(n) > 10}
    return frame.rename(columns={c: names[c] for c in frame.columns if c in names and names[c] not in frame.columns})


def _read_wkt_csv(path: Path) -> gpd.GeoDataFrame:
    df = read_csv(path)
    col = next((c for c in df.columns if c.lower() in WKT_COLUMNS), None)
    if col is None:
        raise SchemaError(
            f"the file has no geometry column (a CSV needs one of {', '.join(WKT_COLUMNS)} as WKT)",
            file=str(path),
            column="geometry",
        )
    text = df[col].fillna("").astype(str).to_numpy()
    try:
        geoms = shapely.from_wkt(np.where(text == "", None, text), on_invalid="raise")
    except shapely.errors.ShapelyError as exc:
        raise SchemaError(f"unreadable WKT: {exc}", file=str(path), column=col) from None
    return gpd.GeoDataFrame(df.drop(columns=[col]), geometry=geoms, crs=None)


CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without BOM), else the GBK family Excel saves in China


def read_csv(path) -> pd.DataFrame:
    """A CSV as text columns (blank -> missing), in UTF-8 or GB18030/GBK; errors name the file."""
    path = require_file(path)
    for encoding in CSV_ENCODINGS:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding)
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise SchemaError(f"cannot read CSV: {exc}", file=str(path)) from None
        if encoding != CSV_ENCODINGS[0]:
            log.info("%s is not UTF-8: read as %s", path, encoding)
        return df
    raise SchemaError(
        f"cannot read CSV: it is neither {' nor '.join(CSV_ENCODINGS)} text (save it as UTF-8)", file=str(path)
    )


def xy_columns(df: pd.DataFrame) -> tuple[str, str] | None:
    """The coordinate columns of a CSV (lon/lat, lng/lat, longitude/latitude or x/y), or None."""
    lower = {c.lower(): c for c in df.columns}
    for x, y in XY_COLUMNS:
        if x in lower and y in lower:
            return lower[x], lower[y]
    return None
