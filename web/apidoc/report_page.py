"""OpenAPI of the report_page blueprint: /reports and the page's data (planners and admins)."""

from __future__ import annotations

from . import STAFF, binary, errors, html, ok, op, query

TAG = "reports"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PARAMS = [
    query("period", {"type": "string", "enum": ["weekly", "monthly", "quarterly"]}, "the report (weekly by default)"),
    query("date", {"type": "string", "format": "date"}, "a day of the period (today by default)"),
    query("lang", {"type": "string", "enum": ["zh", "en"]}, "language of labels"),
]


def paths() -> dict:
    """/reports, /api/reports/page and /api/reports/page.xlsx."""
    return {
        "/reports": {
            "get": op(
                "reports-page",
                "pages",
                "周报 / 月报 / 季度考核: charts, the six-nos table, print to A4",
                html("the page"),
                params=[query("lang", {"type": "string", "enum": ["zh", "en"]}, "language")],
            )
        },
        "/api/reports/page": {
            "get": op(
                "reports-page-data",
                TAG,
                "one period's report, its trend and the quarter's six-nos rating (planner, admin)",
                {**ok({"type": "object"}), **errors(400, 401, 403)},
                params=PARAMS,
                security=STAFF,
            )
        },
        "/api/reports/page.xlsx": {
            "get": op(
                "reports-page-xlsx",
                TAG,
                "the same as an XLSX workbook (planner, admin)",
                {**binary(XLSX, "the workbook"), **errors(400, 401, 403)},
                params=PARAMS,
                security=STAFF,
            )
        },
    }
