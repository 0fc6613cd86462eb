"""OpenAPI of the reports blueprint: weekly, monthly and quarterly reports and the six-nos rating."""

from __future__ import annotations

from twin.incidents.reports import REPORT_HOTSPOTS, REPORT_HOTSPOTS_MAX

from . import STAFF, STRING, errors, op, path, query

FORMAT = query("f", {"type": "string", "enum": ["json", "csv"]}, "json (default) or csv")
LANG = query("lang", {"type": "string", "enum": ["zh", "en"]}, "language of CSV labels")


def _answer(what: str) -> dict:
    return {
        "200": {
            "description": what,
            "content": {"application/json": {"schema": {"type": "object"}}, "text/csv": {"schema": STRING}},
        }
    }


def paths() -> dict:
    """/api/reports/{period} and /api/reports/sixnos (planner, staff, admin)."""
    return {
        "/api/reports/sixnos": {
            "get": op(
                "report-sixnos",
                "reports",
                "the six-nos rating of every compound for a quarter",
                {**_answer("the rating"), **errors(400, 401, 403)},
                params=[query("quarter", STRING, "e.g. 2026Q3 (the current quarter when absent)"), FORMAT, LANG],
                security=STAFF,
            )
        },
        "/api/reports/{period}": {
            "get": op(
                "report",
                "reports",
                "the report of the week, month or quarter holding a date",
                {**_answer("the report"), **errors(400, 401, 403)},
                params=[
                    path(
                        "period",
                        "weekly, monthly or quarterly",
                        {"type": "string", "enum": ["weekly", "monthly", "quarterly"]},
                    ),
                    query("date", STRING, "YYYY-MM-DD (today when absent)"),
                    query("radius_m", {"type": "number"}, "repeat-hotspot radius in metres"),
                    query("min_count", {"type": "integer"}, "incidents that make a repeat hotspot"),
                    query(
                        "hotspots_limit",
                        {"type": "integer", "minimum": 0, "maximum": REPORT_HOTSPOTS_MAX, "default": REPORT_HOTSPOTS},
                        "repeat hotspots listed, largest first (hotspots_total counts them all; CSV lists all)",
                    ),
                    query(
                        "hotspots_offset",
                        {"type": "integer", "minimum": 0, "default": 0},
                        "repeat hotspots to skip (past the end: none listed)",
                    ),
                    FORMAT,
                    LANG,
                ],
                security=STAFF,
            )
        },
    }
