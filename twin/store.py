"""Storage behind two small interfaces, StaticStore (layers) and LiveStore (incidents, care checks, ...).

The embedded default is FileStore: layer files in a data directory, live tables in SQLite beside them; the
PostgreSQL + PostGIS backend (twin/postgres) implements the same protocols. `open_storage` picks one by setting.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Protocol

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


class StaticStore(Protocol):
    """What the static layers need from storage: the rows of a layer and a version of its content."""

    def read_layer(self, kind) -> gpd.GeoDataFrame:
        """The validated rows of a static layer, in WGS84, with a fresh RangeIndex."""

    def layer_version(self, kind) -> str:
        """A short string that changes whenever the layer's stored content changes (used for ETags)."""


class LiveStore(Protocol):
    """What the live tables need from storage: incidents with their history, care checks, and the store's own notes.

    Every write is one transaction, committed before the call returns (an answer sent after it is durable).
    Accounts and grid plans have their own small interfaces (AccountTable, PlanTable), opened by the Storage.
    """

    # incidents and their history
    def count(self) -> int:
        """Number of stored incidents."""

    def load(self) -> pd.DataFrame:
        """Every incident (incident COLUMNS, datetimes tz-aware UTC), in insertion order."""

    def get(self, incident_id: str) -> dict:
        """One stored incident as a dict; NotFound when there is none."""

    def texts(self, incident_ids, columns) -> dict:
        """incident id → tuple of the text `columns` (of incident TEXT_FIELDS) of each stored one of `incident_ids`;
        the in-memory table keeps closed incidents' free text only here."""

    def insert_groups(self, groups: list[list[Callable]]) -> list:
        """Insert several groups of records (each `make(seq)` -> record, event) in one transaction, each group all
        or none; return per group its records or the exception that rolled it back."""

    def insert_many(self, records: Iterable[dict], actor: str, action: str = "import", meta: dict | None = None) -> int:
        """Insert many complete records (an import) and `meta` in one transaction; each gets one history row."""

    def update(self, incident_id: str, change: Callable[[dict], tuple[dict, dict]]) -> dict:
        """Apply `change(current) -> (changes, event)` to one incident in one transaction; return the new row."""

    def history(self, incident_id: str) -> list[dict]:
        """Every recorded event of one incident, oldest first."""

    def changes_since(self, token, mine: bool = True) -> tuple[object, pd.DataFrame]:
        """Incidents written (by any process; mine=False: by others) after `token` (None: the current token and no
        rows) and a new token."""

    # duplicate reports
    def duplicate_links(self) -> dict[str, str]:
        """Every incident closed as a duplicate: {incident_id: original_id}."""

    def close_duplicate(self, incident_id: str, original_id: str, change: Callable, linked: dict) -> dict:
        """In one transaction: `update(incident_id, change)`, record the link, add event `linked` to the original."""

    # care checks
    def record_call(
        self, household_id, day, at, answered, actor, note, threshold, make_visit
    ) -> tuple[int, dict | None]:
        """Store one morning call; at the `threshold`-th unanswered call of `day` insert `make_visit(seq)` once."""

    def care_checks(self, day: str | None = None, household_id: str | None = None) -> list[dict]:
        """Recorded calls, optionally of one day and/or one household, oldest first."""

    # the store's own notes, and closing
    def meta(self, key: str) -> str | None:
        """A stored note of the store itself (e.g. where the seed was imported from)."""

    def close(self) -> None:
        """Release connections."""


class AccountTable(Protocol):
    """The rows of people's accounts and of failed sign-ins per address (twin.accounts holds the rules)."""

    def insert(self, row: dict) -> bool:
        """Add an account row; False when the name is taken."""

    def get(self, name: str) -> dict | None:
        """One account row, or None."""

    def all(self) -> list[dict]:
        """Every account row, by name."""

    def update(self, name: str, values: dict, new_generation: bool = False) -> None:
        """Set fields of one account (and end its sessions: generation + 1, when `new_generation`)."""

    def address(self, address: str) -> dict | None:
        """The failed-sign-in row of an address, or None."""

    def forget_address(self, address: str) -> None:
        """Drop an address's failed-sign-in row."""

    def record_failure(self, kind: str, key: str, step: Callable[[int, float], tuple[int, float]]) -> int:
        """In one transaction, set (failed, locked_until) of an "account" or "address" to `step(failed,
        locked_until)` (a missing address starts at 0, 0); return the new failed count."""

    def secret_key(self) -> str:
        """The key signing session cookies, made on first use and shared by every process of this store."""

    def close(self) -> None:
        """Release connections."""


class PlanTable(Protocol):
    """The rows of adopted grid plans (twin.plans holds the rules)."""

    def insert(self, row: dict) -> int:
        """Add a plan row (its grids as GeoJSON text); its new id."""

    def rows(self) -> list[dict]:
        """Every plan's record (without its grids), by id."""

    def grids(self, plan_id: int) -> str | None:
        """A plan's grids as GeoJSON text, or None."""

    def update(self, plan_id: int, values: dict) -> None:
        """Set fields of one plan."""

    def close(self) -> None:
        """Release connections."""


class Analytics(Protocol):
    """Figures a backend computes where its rows live (PostgreSQL: SQL over GiST indexes); twin.analytics routes
    the area answers and period reports to it. The embedded backend has none: they are computed in Python."""

    def area_people(self, wkt: str) -> dict:
        """The buildings whose representative point lies in the polygon (boundary included) and their households:
        {"buildings": positions, "households": positions grouped by building, "people": sums as twin.area.PEOPLE}."""

    def period_counts(self, start, end, apart=(), wkt: str | None = None) -> dict:
        """Incidents reported in [start, end) (None: open), inside polygon `wkt` when given, but those of categories
        `apart`: total, rating_sum, rated, counts `by` column and value; the ids of the `apart` ones (`apart`)."""


class Storage(StaticStore, Protocol):
    """A backend: the static layers, and the live tables opened beside them."""

    def open_live(self) -> LiveStore:
        """The live tables of this backend (created when missing)."""

    def open_accounts(self) -> AccountTable:
        """The accounts of this backend (created when missing)."""

    def open_plans(self) -> PlanTable:
        """The grid plans of this backend (created when missing)."""


def open_storage(data_dir=None, state_dir=None, database_url: str | None = None, office: str | None = None) -> Storage:
    """The PostgreSQL backend when `database_url` is set, else files in `data_dir` with SQLite in `state_dir`."""
    if database_url:
        from .postgres import PostgresStore

        return PostgresStore(database_url, office=office or "default")
    return FileStore(data_dir, state_dir=state_dir)


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
        self.snapshot_dir = self.state_dir / "snapshot"  # the prepared static layers (twin/snapshot.py)
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
        self._versions[kind.name] = self._digest(path)
        frame = read_frame(path, kind.schema.geometry)
        return to_layer_frame(frame, kind, str(path))

    def layer_version(self, kind) -> str:
        """Digest of the layer's file as read at load."""
        if kind.name not in self._versions:
            path = self.path_of(kind)
            self._versions[kind.name] = self._digest(path) if path else "none"
        return self._versions[kind.name]

    def _digest(self, path: Path) -> str:
        """The file's content digest, remembered (in the snapshot directory) per size and modification time."""
        import json

        memo = self.snapshot_dir / "digests.json"
        try:
            known = json.loads(memo.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        entry = known.get(str(path.resolve()))
        settled = time.time_ns() - st.st_mtime_ns > 2_000_000_000  # a file written just now may change again unseen
        if entry and entry[:2] == stamp and settled:
            return entry[2]
        digest = _file_digest(path)
        if not settled:
            return digest
        known[str(path.resolve())] = [*stamp, digest]
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_name(f".digests.{os.getpid()}.json")
            tmp.write_text(json.dumps(known), encoding="utf-8")
            os.replace(tmp, memo)
        except OSError:
            pass  # a read-only state directory: hash every time
        return digest

    def open_live(self):
        """The live tables in one SQLite file in the state directory (the data directory by default)."""
        from .incidents.store import SqliteIncidentStore

        return SqliteIncidentStore(self.database())

    def open_accounts(self):
        """The accounts in the SQLite file of the state directory."""
        from .accounts import SqliteAccounts

        return SqliteAccounts(self.database())

    def open_plans(self):
        """The grid plans in the SQLite file of the state directory."""
        from .plans import SqlitePlans

        return SqlitePlans(self.database())

    def database(self) -> Path:
        """The SQLite file of the live tables, accounts and plans (its directory made when missing)."""
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
