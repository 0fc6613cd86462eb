"""Static layers read from their PostGIS tables (rows in file order, validated as a file would be)."""

from __future__ import annotations

import logging
import weakref

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.crs import WGS84
from twin.errors import InvalidInput, NotFound
from twin.store import to_layer_frame

from .schema import LIVE, layer_table

log = logging.getLogger(__name__)

DEFAULT_OFFICE = "default"
READ_CHUNK = 50_000  # rows of a layer fetched at a time
DDL_LOCK = 72_417_001  # advisory lock key: one process at a time creates tables
OPEN_POOLS: weakref.WeakSet = weakref.WeakSet()


def close_all() -> None:
    """Close every pool this process opened (at shutdown, and after each test)."""
    for pool in list(OPEN_POOLS):
        pool.close()


def connect_pool(url: str, max_size: int = 8):
    """A psycopg connection pool on `url` (opened, waiting for its first connection)."""
    try:
        from psycopg_pool import ConnectionPool
    except ImportError as exc:  # pragma: no cover - the extra is not installed
        raise InvalidInput(
            "DATABASE_URL is set but psycopg is missing: pip install 'community-twin[postgres]'"
        ) from exc
    pool = ConnectionPool(url, min_size=1, max_size=max_size, open=True, kwargs={"autocommit": False})
    OPEN_POOLS.add(pool)
    try:
        pool.wait(timeout=30)
    except Exception as exc:
        pool.close()
        raise InvalidInput(f"cannot connect to the database at DATABASE_URL: {exc}") from None
    return pool


class PostgresStore:
    """Layers in `layer_<kind>` tables and live tables beside them, for one street office of the database."""

    def __init__(self, url: str, office: str = DEFAULT_OFFICE, pool=None):
        self.url = url
        self.office = office
        self.pool = pool or connect_pool(url)
        self._versions: dict[str, str] = {}

    def close(self) -> None:
        """Close every connection of the pool."""
        self.pool.close()

    def read_layer(self, kind) -> gpd.GeoDataFrame:
        """The rows of `kind` for this office, in load order, validated as FileStore validates a file."""
        schema = kind.schema
        table = layer_table(kind)
        cols = ", ".join(schema.names)
        parts, wkb = [], []
        with self.pool.connection() as conn:
            version = self._version_row(conn, kind)
            with conn.cursor(name=f"read_{table}") as cur:  # server-side: a chunk of rows in memory at a time
                cur.execute(
                    f"SELECT {cols}, ST_AsBinary(geom) FROM {table} WHERE office = %s ORDER BY ord", (self.office,)
                )
                while rows := cur.fetchmany(READ_CHUNK):
                    parts.append(pd.DataFrame([r[:-1] for r in rows], columns=schema.names))
                    wkb.append(shapely.from_wkb([None if r[-1] is None else bytes(r[-1]) for r in rows]))
                    del rows
        self._versions[kind.name] = version
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=schema.names)
        del parts
        geoms = np.concatenate(wkb) if wkb else np.array([], dtype=object)
        if pd.notna(geoms).any():
            frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)
        return to_layer_frame(frame, kind, f"{self._where()} table {table}")

    def extent(self, kinds) -> tuple | None:
        """(min lon, min lat, max lon, max lat) of this office's geometries in the layers of `kinds` (those placed at
        their buildings aside), or None."""
        parts = " UNION ALL ".join(
            f"SELECT min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom)) FROM "
            f"{layer_table(k)} WHERE office = %(office)s"
            for k in kinds
            if not k.schema.placed_by  # rows placed at their buildings lie within the buildings' extent
        )
        if not parts:
            return None
        with self.pool.connection() as conn:
            rows = [r for r in conn.execute(parts, {"office": self.office}).fetchall() if r[0] is not None]
        if not rows:
            return None
        return min(r[0] for r in rows), min(r[1] for r in rows), max(r[2] for r in rows), max(r[3] for r in rows)

    def layer_version(self, kind) -> str:
        """The digest recorded when the layer was loaded (`twin db load`)."""
        if kind.name not in self._versions:
            with self.pool.connection() as conn:
                self._versions[kind.name] = self._version_row(conn, kind, missing="none")
        return self._versions[kind.name]

    def _version_row(self, conn, kind, missing=None) -> str:
        try:
            row = conn.execute(
                "SELECT version FROM layer_versions WHERE office = %s AND layer = %s", (self.office, kind.name)
            ).fetchone()
        except Exception:  # noqa: BLE001 - no tables yet
            conn.rollback()
            row = None
        if row is None:
            if missing is not None:
                return missing
            raise NotFound(
                f"layer {kind.name!r} is not loaded in {self._where()}; run `twin db init` and `twin db load DIR`",
                layer=kind.name,
            )
        return row[0]

    def _where(self) -> str:
        return f"the database (office {self.office!r})"

    def open_live(self):
        """The live tables of this office (created when missing)."""
        from .live import PostgresLiveStore

        ensure_live_tables(self.pool)
        return PostgresLiveStore(self.pool, self.office)

    def open_accounts(self):
        """The accounts of this office (shared by every process on the database)."""
        from .accounts import PostgresAccounts

        ensure_live_tables(self.pool)
        return PostgresAccounts(self.pool, self.office)

    def analytics(self):
        """Area and period figures computed by SQL in this office's tables (twin.store.Analytics)."""
        from .analytics import PostgresAnalytics

        return PostgresAnalytics(self.pool, self.office)

    def open_plans(self):
        """The grid plans of this office (shared by every process on the database)."""
        from .plans import PostgresPlans

        ensure_live_tables(self.pool)
        return PostgresPlans(self.pool, self.office)


def ensure_live_tables(pool) -> None:
    """Create the live tables if missing, one process at a time."""
    with pool.connection() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        conn.execute(LIVE)
