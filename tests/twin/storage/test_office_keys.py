"""Every table the twin creates in PostgreSQL has the street office first in its primary key and in every unique
key, so a Citus deployment can distribute the tables by office (docs/postgres.md) without changing a key."""

from __future__ import annotations

import psycopg

from layers import REGISTRY
from twin.postgres.load import init_db
from twin.postgres.static import connect_pool, ensure_live_tables

NOT_OURS = {"spatial_ref_sys"}  # PostGIS's own table


def test_every_key_starts_with_the_office(database_url):
    pool = connect_pool(database_url)
    try:
        init_db(pool, REGISTRY.values())
        ensure_live_tables(pool)
    finally:
        pool.close()
    with psycopg.connect(database_url) as conn:
        keys = conn.execute(
            "SELECT c.relname, i.indisprimary, a.attname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] "
            "WHERE n.nspname = 'public' AND i.indisunique"
        ).fetchall()
    tables = {t for t, _, _ in keys} - NOT_OURS
    assert {"incidents", "history", "care_checks", "layer_buildings", "layer_households"} <= tables
    assert {t for t, primary, _ in keys if primary} >= tables  # every table of ours has a primary key
    assert [(t, col) for t, _, col in keys if t not in NOT_OURS and col != "office"] == []
