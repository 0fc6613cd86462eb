"""Figures computed in the database, for data too large to hold in one process (a city): what is in an area, and a
period's incident counts. Each is one SQL statement using the GiST indexes; nothing is loaded into Python.
`PostgresAnalytics` serves the pages through twin.analytics (area answers, period reports)."""

from __future__ import annotations

import numpy as np

AREA_SQL = """
WITH area AS (SELECT ST_GeomFromText(%(wkt)s, 4326) AS g),
b AS (
    SELECT b.building_id, b.floors, b.households FROM layer_buildings b, area
    WHERE b.office = %(office)s AND b.geom && area.g AND ST_Intersects(ST_PointOnSurface(b.geom), area.g)
),
h AS (
    SELECT count(*) AS n, sum(h.size) AS persons, count(*) FILTER (WHERE h.elderly_alone) AS elderly_alone,
           count(*) FILTER (WHERE h.floating) AS floating
    FROM layer_households h JOIN b USING (building_id) WHERE h.office = %(office)s
),
i AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE i.stage NOT IN ('resolved', 'closed')) AS open
    FROM incidents i, area
    WHERE i.office = %(office)s AND i.geom && area.g AND ST_Intersects(i.geom, area.g)
      AND i.reported_at >= %(start)s AND i.reported_at < %(end)s
)
SELECT (SELECT count(*) FROM b), (SELECT sum(floors) FROM b), h.n, h.persons, h.elderly_alone, h.floating,
       i.n, i.open
FROM h, i
"""
AREA_KEYS = ("buildings", "floors", "households", "persons", "elderly_alone", "floating", "incidents", "open")

WEEK_SQL = """
SELECT category, stage, grid_code, count(*),
       avg(extract(epoch FROM coalesce(resolved_at, closed_at) - reported_at)) FILTER (WHERE resolved_at IS NOT NULL)
FROM incidents WHERE office = %(office)s AND reported_at >= %(start)s AND reported_at < %(end)s
GROUP BY category, stage, grid_code
"""


def area_figures(conn, office: str, wkt: str, start, end) -> dict:
    """Buildings (by their representative point), households, persons and incidents of [start, end) in a polygon."""
    row = conn.execute(AREA_SQL, {"office": office, "wkt": wkt, "start": start, "end": end}).fetchone()
    return {k: (int(v) if v is not None else 0) for k, v in zip(AREA_KEYS, row)}


def period_counts(conn, office: str, start, end) -> list[tuple]:
    """Incidents reported in [start, end) by category, stage and grid, with the mean seconds to resolution."""
    return conn.execute(WEEK_SQL, {"office": office, "start": start, "end": end}).fetchall()


AREA_PEOPLE_SQL = """
WITH area AS (SELECT ST_GeomFromText(%(wkt)s, 4326) AS g),
b AS (
    SELECT b.ord, b.building_id FROM layer_buildings b, area
    WHERE b.office = %(office)s AND b.geom && area.g AND ST_Intersects(ST_PointOnSurface(b.geom), area.g)
),
h AS (
    SELECT b.ord AS b_ord, h.ord, h.size, h.elderly_alone, h.floating, h.key_group
    FROM layer_households h JOIN b USING (building_id) WHERE h.office = %(office)s
)
SELECT (SELECT coalesce(array_agg(ord ORDER BY ord), '{}') FROM b),
       (SELECT coalesce(array_agg(ord ORDER BY b_ord, ord), '{}') FROM h),
       count(*), coalesce(sum(size), 0), count(*) FILTER (WHERE elderly_alone),
       count(*) FILTER (WHERE floating), count(*) FILTER (WHERE key_group)
FROM h
"""
PEOPLE_KEYS = ("households", "population", "elderly_alone", "floating", "key_group")

COUNT_COLUMNS = ("stage", "category", "source", "grid_code", "community_id", "compound_id")
PERIOD_SQL = f"""
SELECT GROUPING({", ".join(COUNT_COLUMNS)}), {", ".join(COUNT_COLUMNS)}, count(*),
       coalesce(sum(rating) FILTER (WHERE rating > 0), 0), count(*) FILTER (WHERE rating > 0)
FROM incidents WHERE {{where}} AND NOT (category = ANY(%(apart)s))
GROUP BY GROUPING SETS ({", ".join(f"({c})" for c in COUNT_COLUMNS)}, ())
"""
APART_SQL = (
    "SELECT category, array_agg(incident_id) FROM incidents WHERE {where} AND category = ANY(%(apart)s) GROUP BY 1"
)


def incident_filter(start, end, wkt) -> str:
    """The WHERE clause of an office's incidents reported in [start, end) (open ends: None) inside `wkt` (None: all);
    written out rather than `%s IS NULL OR ...`, so the planner uses the indexes."""
    where = ["office = %(office)s"]
    if start is not None:
        where.append("reported_at >= %(start)s")
    if end is not None:
        where.append("reported_at < %(end)s")
    if wkt is not None:
        where.append("geom && ST_GeomFromText(%(wkt)s, 4326) AND ST_Intersects(geom, ST_GeomFromText(%(wkt)s, 4326))")
    return " AND ".join(where)


class PostgresAnalytics:
    """twin.store.Analytics of one office: area and period figures as SQL over the stored rows."""

    def __init__(self, pool, office: str):
        self.pool = pool
        self.office = office

    def area_people(self, wkt: str) -> dict:
        """Buildings whose representative point lies in the polygon, their households (positions) and people."""
        with self.pool.connection() as conn:
            row = conn.execute(AREA_PEOPLE_SQL, {"office": self.office, "wkt": wkt}).fetchone()
        return {
            "buildings": np.asarray(row[0], dtype=np.int64),
            "households": np.asarray(row[1], dtype=np.int64),
            "people": {k: int(v) for k, v in zip(PEOPLE_KEYS, row[2:])},
        }

    def period_counts(self, start, end, apart=(), wkt: str | None = None) -> dict:
        """Incidents reported in [start, end) (inside `wkt` when given) but those of categories `apart`: their count,
        rating sum and count, counts per value of each COUNT_COLUMNS column; the ids of the `apart` ones."""
        args = {"office": self.office, "start": start, "end": end, "apart": list(apart), "wkt": wkt}
        where = incident_filter(start, end, wkt)
        with self.pool.connection() as conn:
            rows = conn.execute(PERIOD_SQL.format(where=where), args).fetchall()
            ids = dict(conn.execute(APART_SQL.format(where=where), args).fetchall()) if apart else {}
        n = len(COUNT_COLUMNS)
        out = {"total": 0, "rating_sum": 0, "rated": 0, "by": {c: {} for c in COUNT_COLUMNS}, "apart": ids}
        for row in rows:
            mask, values, count = row[0], row[1 : n + 1], int(row[n + 1])
            if mask == 2**n - 1:  # the grand total
                out.update(total=count, rating_sum=int(row[n + 2]), rated=int(row[n + 3]))
                continue
            i = n - (~mask & (2**n - 1)).bit_length()  # the one column this row is grouped by (its bit is 0)
            if values[i] is not None:
                out["by"][COUNT_COLUMNS[i]][str(values[i])] = count
        return out
