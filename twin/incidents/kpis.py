"""The wall dashboard's KPI figures, from the incident service's indexes (no rescan of the closed history)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.analytics import analytics, report_summary
from twin.times import day_start, month_start, office_day, parse_quarter, zone_of

from .figures import FigureIndex
from .hotspots import MIN_COUNT, RADIUS_M
from .sixnos import six_nos_summary
from .timeliness import OPEN_STAGES

log = logging.getLogger(__name__)


def kpis(service, now, hotspot_rule: tuple = (RADIUS_M, MIN_COUNT)) -> dict:
    """The KPI panel: open by stage, overdue now, on-time rates today and this month, closure rate, mean rating,
    compounds meeting the six-nos this quarter, unanswered care checks today (days in the service's time zone)."""
    now = pd.Timestamp(now)
    tz = zone_of(service)
    day0, month0 = day_start(now, tz), month_start(now, tz)
    out = {"at": now.isoformat(), "timezone": str(tz)}
    if service is None or not len(service.figures):
        figures = service.figures if service is not None else FigureIndex(pd.DataFrame())
        none = np.zeros(0, dtype=np.int64)
        overall = today = month = figures.summary(none, getattr(service, "deadlines", None), now)
    else:
        overall = service.summary(service.open_positions(), now)
        today, month = (since(service, start, now) for start in (day0, month0))
    out["open"] = overall["open"]
    out["open_by_stage"] = {s: overall["by_stage"].get(s, 0) for s in OPEN_STAGES}
    out["overdue"] = overall["overdue"]
    out["on_time_today"] = today["on_time"]
    out["on_time_month"] = month["on_time"]
    out["reported_today"] = today["total"]
    out["reported_month"] = month["total"]
    out["closure_rate_month"] = month["closure_rate"]
    out["mean_rating_month"] = month["mean_rating"]
    out["six_nos"] = six_nos_quarter(service, now, hotspot_rule)
    out["care_unanswered_today"] = unanswered_care_today(service, office_day(tz, now))
    return out


def since(service, start, now) -> dict:
    """service.summary() of the incidents reported since `start`, its counts by SQL on PostgreSQL (twin.analytics)."""
    pos = service.positions(start=start)
    sql = analytics(service.twin, incidents=True)
    return report_summary(service, sql, pos, start, None, now)[0] if sql is not None else service.summary(pos, now)


def six_nos_quarter(service, now, hotspot_rule: tuple = (RADIUS_M, MIN_COUNT)) -> dict:
    """Compounds passing this quarter's six-nos rating (twin.incidents.sixnos): {met, total, rate}."""
    if service is None:
        return {"met": None, "total": None, "rate": None, "quarter": None}
    quarter = parse_quarter(None, service.timezone, now)
    summary = six_nos_summary(service, quarter, *hotspot_rule)
    met, total = summary["passed"], summary["compounds"]
    return {"met": met, "total": total, "rate": round(met / total, 4) if total else None, "quarter": quarter.label}


def unanswered_care_today(service, day: str) -> int | None:
    """Elderly-alone households called today with no call answered yet (None without a care-check store)."""
    store = getattr(service, "store", None)
    if store is None or not hasattr(store, "care_checks"):
        return None
    calls = store.care_checks(day=day)
    answered = {c["household_id"] for c in calls if c["answered"]}
    return len({c["household_id"] for c in calls if not c["answered"]} - answered)
