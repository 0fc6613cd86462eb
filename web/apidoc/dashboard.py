"""OpenAPI of the dashboard blueprint: the wall dashboard page and its data transports."""

from __future__ import annotations

from . import binary, html, obj, ok, op, query

TAG = "dashboard"
TWB1 = "application/vnd.twin.binary"


def paths() -> dict:
    """/dashboard and /api/dashboard/*."""
    base = "/api/dashboard"
    return {
        "/dashboard": {
            "get": op(
                "dashboard-page",
                "pages",
                "the wall dashboard (Chinese by default)",
                html("the page"),
                params=[
                    query("lang", {"type": "string", "enum": ["zh", "en"]}, "language"),
                    query("transport", {"type": "string", "enum": ["binary", "geojson"]}, "building transport"),
                ],
            )
        },
        f"{base}/buildings.bin": {
            "get": op("dashboard-buildings", TAG, "building footprints and attributes (TWB1)", binary(TWB1, "TWB1"))
        },
        f"{base}/buildings.geojson": {
            "get": op(
                "dashboard-buildings-geojson",
                TAG,
                "the same buildings as GeoJSON",
                ok(obj({"type": {"type": "string"}}, ("type",)), "application/geo+json"),
            )
        },
        f"{base}/risk.bin": {"get": op("dashboard-risk", TAG, "risk of every building (TWB1)", binary(TWB1, "TWB1"))},
        f"{base}/incidents.bin": {
            "get": op("dashboard-incidents", TAG, "open and recent incidents (TWB1)", binary(TWB1, "TWB1"))
        },
        f"{base}/timeline.bin": {
            "get": op(
                "dashboard-timeline",
                TAG,
                "the year of incidents the map may draw, with their stage times, for the time bar (TWB1)",
                binary(TWB1, "TWB1"),
            )
        },
        f"{base}/grids.json": {"get": op("dashboard-grids", TAG, "grid outlines and labels", ok({"type": "object"}))},
        f"{base}/kpis": {"get": op("dashboard-kpis", TAG, "the KPI panel's figures", ok({"type": "object"}))},
    }
