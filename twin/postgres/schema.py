"""The PostgreSQL + PostGIS tables: one per static layer kind (GiST-indexed), and the live tables.

Every large table carries `office` (the street office) first in its primary key, so a Citus deployment can
distribute the tables by it (`SELECT create_distributed_table('incidents', 'office')`) without changing a key.
"""

from __future__ import annotations

from twin.incidents.store import INT_FIELDS, TEXT_FIELDS, TIME_FIELDS

PG_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean", "datetime": "timestamptz"}

LIVE = f"""
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE IF NOT EXISTS layer_versions (
    office text NOT NULL, layer text NOT NULL, version text NOT NULL, rows bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (office, layer)
);
CREATE TABLE IF NOT EXISTS live_version (office text PRIMARY KEY, version bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS incidents (
    office text NOT NULL, seq bigint NOT NULL, incident_id text NOT NULL,
    {", ".join(f"{c} text" for c in TEXT_FIELDS[1:])},
    {", ".join(f"{c} integer" for c in INT_FIELDS)},
    {", ".join(f"{c} timestamptz" for c in TIME_FIELDS)},
    lon double precision NOT NULL, lat double precision NOT NULL,
    geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    PRIMARY KEY (office, incident_id), UNIQUE (office, seq)
);
CREATE INDEX IF NOT EXISTS incidents_geom ON incidents USING gist (geom);
CREATE INDEX IF NOT EXISTS incidents_reported ON incidents (office, reported_at);
CREATE TABLE IF NOT EXISTS history (
    office text NOT NULL, id bigserial, version bigint NOT NULL, incident_id text NOT NULL,
    at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL, from_stage text, to_stage text,
    note text, detail jsonb, PRIMARY KEY (office, id)
);
CREATE INDEX IF NOT EXISTS history_incident ON history (office, incident_id, id);
CREATE INDEX IF NOT EXISTS history_version ON history (office, version);
CREATE TABLE IF NOT EXISTS care_checks (
    office text NOT NULL, id bigserial, household_id text NOT NULL, day text NOT NULL, at timestamptz NOT NULL,
    answered boolean NOT NULL, actor text NOT NULL, note text, PRIMARY KEY (office, id)
);
CREATE INDEX IF NOT EXISTS care_household_day ON care_checks (office, household_id, day);
CREATE TABLE IF NOT EXISTS care_visits (
    office text NOT NULL, household_id text NOT NULL, day text NOT NULL, incident_id text NOT NULL,
    PRIMARY KEY (office, household_id, day)
);
CREATE TABLE IF NOT EXISTS meta (office text NOT NULL, key text NOT NULL, value text, PRIMARY KEY (office, key));
CREATE TABLE IF NOT EXISTS duplicate_links (
    office text NOT NULL, incident_id text NOT NULL, original_id text NOT NULL, PRIMARY KEY (office, incident_id)
);
CREATE TABLE IF NOT EXISTS accounts (
    office text NOT NULL, name text NOT NULL, role text NOT NULL, grids text, password text NOT NULL,
    disabled boolean NOT NULL DEFAULT false, generation integer NOT NULL DEFAULT 1,
    failed integer NOT NULL DEFAULT 0, locked_until double precision NOT NULL DEFAULT 0,
    created double precision NOT NULL, PRIMARY KEY (office, name)
);
CREATE TABLE IF NOT EXISTS login_addresses (
    office text NOT NULL, address text NOT NULL, failed integer NOT NULL DEFAULT 0,
    locked_until double precision NOT NULL DEFAULT 0, PRIMARY KEY (office, address)
);
CREATE TABLE IF NOT EXISTS grid_plans (
    office text NOT NULL, id bigserial, status text NOT NULL, effective_date text, created_at text NOT NULL,
    created_by text NOT NULL, source text NOT NULL, summary text NOT NULL, grids text NOT NULL,
    rolled_back_at text, rolled_back_by text, parent bigint, PRIMARY KEY (office, id)
);
ALTER TABLE grid_plans ADD COLUMN IF NOT EXISTS parent bigint;
"""


def layer_table(kind) -> str:
    """Name of the table holding static layer `kind`."""
    return f"layer_{kind.name}"


def layer_ddl(kind) -> str:
    """CREATE statements of one static layer's table: its fields, `ord` (file order), geometry and a GiST index."""
    table = layer_table(kind)
    cols = ", ".join(f"{f.name} {PG_TYPES[f.dtype]}" for f in kind.schema.fields)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (office text NOT NULL, ord bigint NOT NULL, {cols}, "
        f"geom geometry(Geometry, 4326), PRIMARY KEY (office, {kind.schema.id_field}));\n"
        f"CREATE INDEX IF NOT EXISTS {table}_geom ON {table} USING gist (geom);\n"
        f"CREATE INDEX IF NOT EXISTS {table}_ord ON {table} (office, ord);"
        + (
            f"\nCREATE INDEX IF NOT EXISTS {table}_by ON {table} (office, {kind.schema.placed_by});"
            if kind.schema.placed_by
            else ""
        )
    )


def create_all(conn, kinds) -> None:
    """Create every table (idempotent)."""
    conn.execute(LIVE)
    for kind in kinds:
        if not kind.live:
            conn.execute(layer_ddl(kind))
