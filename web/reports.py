"""Incident reports: weekly/monthly/quarterly figures and the quarterly six-nos rating, as JSON or one CSV table.

For planner, staff and admin callers. The public gets no report: small-count suppression cannot protect per-place
counts printed beside their totals (a hidden 1 or 2 is the total minus the rest), and the care categories (SOS,
visits to elderly people living alone) would point at households.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request

from twin.cells import safe_frame
from twin.errors import InvalidInput
from twin.incidents.hotspots import check_params
from twin.incidents.reports import REPORT_HOTSPOTS, REPORT_HOTSPOTS_MAX, period_report, place_names, report_rows
from twin.incidents.sixnos import six_nos, six_nos_rows
from twin.times import PERIODS, parse_date, parse_quarter, period_of

from . import get_twin
from .auth import current_principal, require
from .http import lang, parse_int
from .incident_http import service

log = logging.getLogger(__name__)

bp = Blueprint("reports", __name__)

READERS = ("planner", "staff", "admin")
FORMATS = ("json", "csv")


def out_format() -> str:
    """`f=json|csv` (json when absent); InvalidInput for anything else."""
    f = request.args.get("f") or "json"
    if f not in FORMATS:
        raise InvalidInput(f"f must be json or csv, not {f[:20]!r}", parameter="f")
    return f


def csv_response(table, name: str) -> Response:
    """A table as a UTF-8 CSV download (with a byte-order mark, so spreadsheet programs read the Chinese right)."""
    resp = Response("\ufeff" + safe_frame(table).to_csv(index=False), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return resp


def hotspot_rule(from_query: bool = False) -> tuple[float, int]:
    """(radius_m, min_count) of repeat hotspots: the HOTSPOT_* settings, or ?radius_m=&min_count= when `from_query`."""
    cfg = current_app.config
    args = request.args if from_query else {}
    return check_params(
        args.get("radius_m", cfg.get("HOTSPOT_RADIUS_M")), args.get("min_count", cfg.get("HOTSPOT_MIN_COUNT"))
    )


def plan_grids():
    """?plan=ID: read the grid breakdown by that grid plan (see /api/plans) rather than the grids reported in."""
    pid = request.args.get("plan")
    if pid is None:
        return None
    from .plans import store

    return store().grids(pid)


def hotspot_page() -> tuple[int, int]:
    """(limit, offset) of the hotspots a report lists: ?hotspots_limit= (REPORT_HOTSPOTS when absent, 0 to
    REPORT_HOTSPOTS_MAX) and ?hotspots_offset= (0 when absent)."""
    limit = parse_int(request.args, "hotspots_limit", REPORT_HOTSPOTS, 0, REPORT_HOTSPOTS_MAX)
    return limit, parse_int(request.args, "hotspots_offset", 0, 0, None)


@bp.get("/api/reports/sixnos")
@require(*READERS)
def sixnos():
    """The six-nos rating of every compound for ?quarter=2026Q3 (the current quarter when absent).

    The repeat-hotspot rule comes from the settings only: the rating is an assessment, not an exploration.
    """
    f = out_format()
    s = service()
    quarter = parse_quarter(request.args.get("quarter"), s.timezone, s.now())
    rating = six_nos(s, quarter, *hotspot_rule())
    if f == "csv":
        return csv_response(six_nos_rows(rating, lang()), f"sixnos-{quarter.label}")
    return jsonify(rating)


@bp.get("/api/reports/<period>")
@require(*READERS)
def report(period):
    """The weekly, monthly or quarterly report of the period holding ?date=YYYY-MM-DD (today when absent);
    ?plan=ID counts by_grid by that grid plan (incidents placed by location) instead of the grid reported in.
    The JSON lists one page of the hotspots (?hotspots_limit=&hotspots_offset=) and hotspots_total; the CSV
    lists them all (the report page's full export)."""
    if period not in PERIODS:
        raise InvalidInput(
            f"period must be one of {', '.join(PERIODS)} (or sixnos), not {period[:40]!r}", parameter="period"
        )
    f = out_format()
    limit, offset = hotspot_page()
    if f == "csv":
        limit, offset = None, 0
    s = service()
    p = period_of(period, parse_date(request.args.get("date"), s.timezone, s.now()), s.timezone)
    rep = period_report(
        s,
        p,
        *hotspot_rule(from_query=True),
        personal=current_principal().sees_all_personal,
        grids=plan_grids(),
        hotspots_limit=limit,
        hotspots_offset=offset,
    )
    if f == "csv":
        return csv_response(report_rows(rep, place_names(get_twin()), lang()), f"report-{p.label}")
    return jsonify(rep)
