"""Figures computed in the database, for data too large to hold in one process (a city): what is in an area, and a
period's incident counts. Each is one SQL statement using the GiST indexes; nothing is loaded into Python."""

from __future__ import annotations

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
