"""The report pages (周报 / 月报 / 季度考核) at /reports: charts and tables of the figures /api/reports/* serve.

    /reports                      the page (no data in it; web/static/reports.js asks the API below with the
                                  bearer token the reader types in)
    /api/reports/page             one period's report (period_report, as /api/reports/<period> but listing only the
                                  PAGE_HOTSPOTS largest repeat hotspots, with hotspots_total), the trend of the
                                  TREND_PERIODS periods up to it (summarize(), as each period's report) and the
                                  quarter's six-nos rating (as /api/reports/sixnos): ?period=weekly|monthly|quarterly
                                  &date=YYYY-MM-DD
    /api/reports/page.xlsx        the same as a workbook (summary, trend, categories, grids, hotspots, six-nos)

Planners and admins only. Counts of the care categories (SOS, visits to elderly people living alone) of 1 or 2
are not shown to planners (twin.access.suppress), and neither are hotspots of those categories: they point at
households.
"""

from __future__ import annotations

import io
import logging

from flask import Blueprint, Response, jsonify, render_template, request

from twin import vocab
from twin.access import PERSONAL_CATEGORIES, suppress
from twin.errors import InvalidInput
from twin.incidents.reports import period_report, place_names, summarize
from twin.incidents.sixnos import six_nos
from twin.times import PERIODS, parse_date, period_of

from . import get_twin, http
from .auth import check_role
from .http import lang
from .incident_http import service
from .reports import hotspot_rule

log = logging.getLogger(__name__)

bp = Blueprint("report_page", __name__)
http.install(bp)

PAGE_READERS = ("planner", "admin")
TREND_PERIODS = {"weekly": 12, "monthly": 12, "quarterly": 4}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/reports")
def page():
    """The report page (Chinese by default, ?lang=en); its data comes from /api/reports/page with a token."""
    extra = {"periods": {k: list(v) for k, v in PERIODS.items()}, "trendPeriods": TREND_PERIODS}
    return render_template("reports.html", page_extra=extra)


def chosen_period():
    """The Period of ?period= (weekly when absent) holding ?date= (today when absent)."""
    kind = request.args.get("period") or "weekly"
    if kind not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, not {kind[:40]!r}", parameter="period")
    s = service()
    return period_of(kind, parse_date(request.args.get("date"), s.timezone, s.now()), s.timezone)


def trend(s, last, n: int) -> list[dict]:
    """The summarize() figures of the `n` periods of `last`'s kind up to and including `last`, oldest first."""
    periods = [last]
    while len(periods) < n:
        periods.append(periods[-1].before())
    now = s.now()
    out = []
    for p in reversed(periods):
        fig = summarize(s.select(start=p.start_utc, end=p.end_utc), s.deadlines, now)
        out.append(
            {
                "period": p.to_dict(),
                "total": fig["total"],
                "on_time": fig["on_time"],
                "closure_rate": fig["closure_rate"],
                "by_category": fig["by_category"],
            }
        )
    return out


PAGE_HOTSPOTS = 20  # the page lists the largest repeat hotspots; a district's quarter has tens of thousands


def hide_small(doc: dict, role: str) -> dict:
    """Care-category counts of 1 or 2 → None unless the caller is an admin (page_data leaves out care hotspots)."""
    if role == "admin":
        return doc
    for part in [doc["report"], *doc["trend"]]:
        for code in PERSONAL_CATEGORIES:
            if code in part["by_category"]:
                part["by_category"][code] = suppress(part["by_category"][code])
    doc["suppressed_categories"] = sorted(PERSONAL_CATEGORIES)
    return doc


def page_data() -> dict:
    """report, trend, sixnos and names for the chosen period (see the module docstring), small counts hidden and
    care hotspots neither listed nor counted unless the caller is an admin."""
    p = check_role(*PAGE_READERS)
    s = service()
    period = chosen_period()
    quarter = period_of("quarterly", period.start, s.timezone)
    hidden = () if p.role == "admin" else PERSONAL_CATEGORIES
    doc = {
        "report": period_report(s, period, *hotspot_rule(), hotspots_limit=PAGE_HOTSPOTS, hidden_hotspots=hidden),
        "trend": trend(s, period, TREND_PERIODS[period.kind]),
        "sixnos": six_nos(s, quarter, *hotspot_rule()),
        "names": place_names(get_twin()),
        "suppressed_categories": [],
    }
    return hide_small(doc, p.role)


@bp.get("/api/reports/page")
def page_json():
    """The report page's data: one period's report, its trend and the quarter's six-nos rating."""
    return jsonify(page_data())


@bp.get("/api/reports/page.xlsx")
def page_xlsx():
    """The report page's data as an XLSX workbook (one sheet per table; labels in the page's language)."""
    doc = page_data()
    data = workbook(doc, lang())
    resp = Response(data, mimetype=XLSX)
    label = doc["report"]["period"]["label"]
    resp.headers["Content-Disposition"] = f'attachment; filename="report-{label}.xlsx"'
    return resp


def workbook(doc: dict, lang: str) -> bytes:
    """Sheets: summary, trend, by category, by grid, the page's hotspots, six-nos (failed "nos" with the incidents
    behind them)."""
    from openpyxl import Workbook

    zh = lang == "zh"
    rep, names = doc["report"], doc["names"]
    wb = Workbook()
    ws = wb.active
    ws.title = "概况" if zh else "Summary"
    ws.append(["报告期" if zh else "Period", rep["period"]["label"], rep["period"]["start"], rep["period"]["end"]])
    ws.append(["数据时间" if zh else "As of", rep["as_of"]])
    for key, zh_name, en_name in (
        ("total", "事件总数", "Incidents"),
        ("open", "未办结", "Open"),
        ("overdue", "超时", "Overdue"),
        ("closure_rate", "办结率", "Closure rate"),
        ("mean_rating", "平均满意度", "Mean rating"),
    ):
        ws.append([zh_name if zh else en_name, rep[key]])
    for lim, zh_name, en_name in (
        ("accept", "按时受理率", "On time: accept"),
        ("on_site", "按时到场率", "On time: on site"),
        ("resolve", "按时办结率", "On time: resolve"),
    ):
        ws.append([zh_name if zh else en_name, rep["on_time"][lim]])
    ws = sheet(
        wb,
        zh,
        ("趋势", "Trend"),
        ("报告期", "Period"),
        ("事件数", "Incidents"),
        ("按时受理率", "Accept on time"),
        ("按时到场率", "On site on time"),
        ("按时办结率", "Resolved on time"),
        ("办结率", "Closure rate"),
    )
    for t in doc["trend"]:
        ot = t["on_time"]
        ws.append([t["period"]["label"], t["total"], ot["accept"], ot["on_site"], ot["resolve"], t["closure_rate"]])
    ws = sheet(wb, zh, ("类别", "Categories"), ("类别", "Category"), ("代码", "Code"), ("事件数", "Incidents"))
    for code, n in rep["by_category"].items():
        ws.append([vocab.label(vocab.INCIDENT_CATEGORIES, code, lang), code, "<3" if n is None else n])
    ws = sheet(wb, zh, ("网格", "Grids"), ("网格", "Grid"), ("编码", "Code"), ("事件数", "Incidents"))
    for code, n in sorted(rep["by_grid"].items(), key=lambda kv: -kv[1]):
        ws.append([names.get("grid", {}).get(code, code), code, n])
    ws = sheet(
        wb,
        zh,
        ("重复热点", "Hotspots"),
        ("类别", "Category"),
        ("小区", "Compound"),
        ("网格", "Grid"),
        ("事件数", "Incidents"),
        ("首次上报", "First reported"),
        ("最近上报", "Last reported"),
        ("事件编号", "Incident ids"),
    )
    for h in rep["hotspots"]:
        place = [
            names.get(dim, {}).get(h[key], h[key]) for dim, key in (("compound", "compound_id"), ("grid", "grid_code"))
        ]
        ws.append(
            [
                vocab.label(vocab.INCIDENT_CATEGORIES, h["category"], lang),
                *place,
                h["count"],
                h["first_reported"],
                h["last_reported"],
                ", ".join(h["incident_ids"]),
            ]
        )
    ws = wb.create_sheet("六无" if zh else "Six nos")
    six = doc["sixnos"]
    ws.append(
        ["小区" if zh else "Compound", "编码" if zh else "Code", "达标" if zh else "Passed"]
        + [vocab.label(vocab.SIX_NOS, no, lang) for no in vocab.SIX_NOS]
    )
    for c in six["compounds"]:
        cells = [", ".join(c["nos"][no]["incident_ids"]) if not c["nos"][no]["passed"] else "✓" for no in vocab.SIX_NOS]
        ws.append([c["name"] or c["compound_id"], c["compound_id"], "✓" if c["passed"] else "✗", *cells])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sheet(wb, zh: bool, title: tuple[str, str], *columns: tuple[str, str]):
    """A new sheet named by (zh, en) `title` with a header row of (zh, en) `columns`, in the page's language."""
    ws = wb.create_sheet(title[0] if zh else title[1])
    ws.append([c[0] if zh else c[1] for c in columns])
    return ws
