"""OpenAPI of the area blueprint: what is in an area (/api/area), the places list and the planner page."""

from __future__ import annotations

from . import STRING, errors, html, json_body, obj, ok, op, query

TAG = "area"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ANSWER = {
    "200": {
        "description": "the figures (JSON by default; format=csv|geojson|xlsx downloads the same answer)",
        "content": {
            "application/json": {"schema": obj({"area": {"type": "object"}}, ("area",))},
            "text/csv": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": {"type": "object"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
OPTIONS = (
    query("rule", {"type": "string", "enum": ["centroid", "area"]}, "how edge buildings count (default centroid)"),
    query("from", STRING, "period start: a date or RFC 3339 time (UTC)"),
    query("to", STRING, "period end: a date or RFC 3339 time (UTC)"),
    query("format", {"type": "string", "enum": ["json", "csv", "geojson", "xlsx"]}, "answer format"),
    query("table", {"type": "string"}, "CSV table: figures (default), households, …"),
    query("households", {"type": "string", "enum": ["true", "false"]}, "list households (staff and admin only)"),
    query("lang", {"type": "string", "enum": ["zh", "en"]}, "language of labels"),
)
POLYGON = obj(
    {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon", "Feature"]}, "coordinates": {"type": "array"}},
    ("type",),
)


def paths() -> dict:
    """/api/area (GET by id or disc, POST a polygon), /api/area/places and /planner."""
    by_id = (
        query("grid", STRING, "a grid code"),
        query("community", STRING, "a community id"),
        query("compound", STRING, "a compound id"),
        query("lon", STRING, "disc centre longitude (with lat and radius)"),
        query("lat", STRING, "disc centre latitude"),
        query("radius", STRING, "disc radius in metres"),
    )
    return {
        "/api/area": {
            "get": op(
                "area-by-id",
                TAG,
                "what is in one grid, community or compound, or a disc (name exactly one)",
                {**ANSWER, **errors(400, 403, 404, 429)},
                params=by_id + OPTIONS,
            ),
            "post": op(
                "area-of-polygon",
                TAG,
                "what is in a GeoJSON Polygon or MultiPolygon (or a Feature of one) in WGS84",
                {**ANSWER, **errors(400, 403, 413, 429)},
                params=OPTIONS,
                body=json_body(POLYGON, "a GeoJSON Polygon, MultiPolygon or Feature holding one"),
            ),
        },
        "/api/area/places": {
            "get": op(
                "area-places",
                TAG,
                "grids, communities and compounds (id and name) to pick from",
                ok({"type": "object", "additionalProperties": {"type": "array", "items": obj({"id": STRING})}}),
            )
        },
        "/planner": {"get": op("planner-page", "pages", "the planner's page", html("the page"))},
    }
