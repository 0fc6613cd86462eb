"""Moving a data directory into the database: static layers by COPY, one transaction per layer, skipped when the
database already holds the same content (same file digest), so a second run does nothing and an interrupted run
resumes at the first layer it had not finished. Incidents go through the seed import into the live tables."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from .schema import create_all, layer_table

log = logging.getLogger(__name__)

CHUNK = 20_000


def init_db(pool, kinds) -> None:
    """Create the PostGIS extension and every table (idempotent)."""
    from .static import DDL_LOCK

    with pool.connection() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        create_all(conn, kinds)


def loaded_version(conn, office: str, kind) -> str | None:
    """The digest recorded for `kind` of `office`, or None when it was never (completely) loaded."""
    row = conn.execute(
        "SELECT version FROM layer_versions WHERE office = %s AND layer = %s", (office, kind.name)
    ).fetchone()
    return row[0] if row else None


def load_layer(pool, office: str, kind, frame, version: str, progress=None) -> bool:
    """Replace `office`'s rows of `kind` by `frame` in one transaction; False (nothing done) when already loaded."""
    table = layer_table(kind)
    names = kind.schema.names
    with pool.connection() as conn:
        if loaded_version(conn, office, kind) == version:
            return False
        with conn.transaction():
            conn.execute(f"DELETE FROM {table} WHERE office = %s", (office,))
            columns = [_column(frame[n], kind.schema.field(n).dtype) for n in names]
            geoms = _ewkb(frame)
            with conn.cursor().copy(f"COPY {table} (office, ord, {', '.join(names)}, geom) FROM STDIN") as copy:
                for start in range(0, len(frame), CHUNK):
                    for i in range(start, min(start + CHUNK, len(frame))):
                        copy.write_row([office, i, *(c[i] for c in columns), geoms[i]])
                    if progress is not None:
                        progress.update(min(CHUNK, len(frame) - start))
            conn.execute(
                "INSERT INTO layer_versions (office, layer, version, rows) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (office, layer) DO UPDATE SET version = EXCLUDED.version, rows = EXCLUDED.rows, "
                "loaded_at = now()",
                (office, kind.name, version, len(frame)),
            )
    with pool.connection() as conn:
        conn.autocommit = True
        conn.execute(f"ANALYZE {table}")
        conn.autocommit = False
    return True


def _column(col: pd.Series, dtype: str) -> list:
    """Plain Python values for COPY (None where missing)."""
    if dtype == "datetime":
        values = [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in col]
    else:
        values = col.astype(object).where(col.notna(), None).tolist()
    if dtype == "int":
        return [None if v is None else int(v) for v in values]
    if dtype == "bool":
        return [None if v is None else bool(v) for v in values]
    if dtype == "str":
        return [None if v is None else str(v) for v in values]
    return values


def _ewkb(frame) -> list:
    """Each row's geometry as hex EWKB with SRID 4326 (None where the row has none)."""
    if not hasattr(frame, "geometry"):
        return [None] * len(frame)
    arr = np.asarray(frame.geometry.values, dtype=object)
    out = shapely.to_wkb(shapely.set_srid(arr, 4326), hex=True, include_srid=True)
    return [None if g is None else v for g, v in zip(arr, out)]
