"""The work queue (工单台) for staff and admins: the /work page, its list and detail API, and closing duplicates.

    GET  /work                          the page (sign-in needed; the public is sent to /login)
    GET  /api/work?stage=&category=&grid=&source=&overdue=&from=&to=&q=&sort=&page=&page_size=
    GET  /api/work/<id>                 everything staff may see of one incident, its history, limits, actions
    POST /api/work/<id>/duplicate       {"of": ID, "note"}: close it as a duplicate of ID (linked both ways)
Lifecycle actions go through POST /api/incidents/<id>/actions (web/open311.py); the buttons offered are exactly
IncidentService.allowed_actions. Staff limited to grids see and act only in their grids.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import numpy as np
import pandas as pd
from flask import Blueprint, jsonify, redirect, render_template, request

from twin.access import may_see_contact
from twin.errors import InvalidInput
from twin.incidents.deadlines import LIMITS
from twin.incidents.queue import MAX_PAGE_SIZE, OPEN, PAGE_SIZE, SORTS, Filters, check_may_work, may_work, select
from twin.incidents.timeliness import LIMIT_TIME
from twin.times import iso, iso_column, local_midnight

from . import get_twin
from .auth import check_role, current_principal, require
from .dashboard import map_bounds
from .http import body, parse_int
from .incident_http import duplicate_radius_m, service

log = logging.getLogger(__name__)

bp = Blueprint("work", __name__)

WORKERS = ("staff", "admin")
PARAMS = ("stage", "category", "grid", "source", "overdue", "from", "to", "q", "sort", "page", "page_size", "lang")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- the page ------------------------------------------------------------------------------------------------
@bp.get("/work")
def page():
    """The work queue page; people who are not signed in go to /login first."""
    p = current_principal()
    if p.role == "public":
        return redirect(f"/login?next={request.full_path.rstrip('?')}", 302)
    check_role(*WORKERS)
    twin = get_twin()
    extra = {
        "bbox": [round(float(v), 6) for v in map_bounds(twin)],
        "grids": [{"code": c, "name": n} for c, n in grid_names(twin).items() if p.may_see_grid(c)],
        "sorts": list(SORTS),
        "openStages": list(OPEN),
    }
    return render_template("work.html", page_extra=extra)


# --- the list ------------------------------------------------------------------------------------------------
def _csv(name: str) -> tuple | None:
    raw = request.args.get(name)
    if raw is None or raw.strip() in ("", "all"):
        return None
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def _day(name: str, tz: str, end: bool) -> pd.Timestamp | None:
    raw = request.args.get(name)
    if not raw:
        return None
    if not _DAY.fullmatch(raw):
        raise InvalidInput(f"{name} must be a day YYYY-MM-DD, not {raw[:40]!r}", parameter=name)
    try:
        day = pd.Timestamp(raw)
    except ValueError:
        raise InvalidInput(f"{name} {raw!r} is not a day of the calendar", parameter=name) from None
    return local_midnight(day + pd.Timedelta(days=1 if end else 0), tz).tz_convert("UTC")


def filters_from_query(tz: str) -> Filters:
    """The queue's filters from the query string; unknown parameters and bad values are InvalidInput."""
    a = request.args
    unknown = sorted(set(a) - set(PARAMS))
    if unknown:
        raise InvalidInput(
            f"unknown filter {unknown[0]!r}; filters are {', '.join(PARAMS)}", parameter=unknown[0], known=list(PARAMS)
        )
    stage = a.get("stage")
    stages = OPEN if stage in (None, "", "open") else _csv("stage")
    overdue = a.get("overdue")
    if overdue not in (None, "", "true", "false"):
        raise InvalidInput("overdue must be true or false", parameter="overdue")
    start, end = _day("from", tz, False), _day("to", tz, True)
    if start is not None and end is not None and start >= end:
        raise InvalidInput("from must not be after to", parameter="from")
    return Filters(
        stages=stages,
        categories=_csv("category"),
        grids=_csv("grid"),
        sources=_csv("source"),
        overdue=None if overdue in (None, "") else overdue == "true",
        start=start,
        end=end,
        q=(a.get("q") or "").strip() or None,
        sort=a.get("sort") or "urgency",
    )


@bp.get("/api/work")
@require(*WORKERS)
def queue():
    """One page of the caller's queue: {total, page, page_size, items}; filters as in the module docstring."""
    s = service()
    f = filters_from_query(s.timezone)
    page_no = parse_int(request.args, "page", 1, 1, 10**6)
    size = parse_int(request.args, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    sel = select(s, current_principal(), f)
    chunk, tc = sel.page(page_no, size)
    return jsonify(
        {
            "total": len(sel),
            "overdue": int(sel.overdue.sum()),
            "page": page_no,
            "page_size": size,
            "at": iso(s.now(), s.timezone, "seconds"),
            "items": items(s, chunk, tc),
        }
    )


def items(s, rows: pd.DataFrame, t: pd.DataFrame) -> list[dict]:
    """Queue items: what a list row and a map point show (no contact details: those are in the detail)."""
    twin = get_twin()
    grids, buildings = grid_names(twin), building_names(twin)
    now = s.now()
    tz = s.timezone
    reported, due = iso_column(rows["reported_at"], tz), iso_column(t["next_due"], tz)
    left = ((t["next_due"] - now).dt.total_seconds()).round().tolist()
    links = s.duplicates.original
    p = current_principal()
    out = []
    for i, r in enumerate(rows.to_dict("records")):
        done = r["stage"] not in OPEN
        out.append(
            {
                "id": r["incident_id"],
                "category": r["category"],
                "stage": r["stage"],
                "level": r["level"] or "grid",
                "source": r["source"],
                "priority": None if pd.isna(r["priority"]) else int(r["priority"]),
                "grid_code": r["grid_code"],
                "grid_name": grids.get(r["grid_code"]),
                "building_id": r["building_id"],
                "building_name": buildings.get(r["building_id"]),
                "description": (r["description"] or "")[:120],
                "reported_at": reported[i],
                "next_due": due[i],
                "seconds_left": None if done or pd.isna(left[i]) else int(left[i]),
                "overdue": bool(t["overdue"].iat[i]),
                "overdue_limit": t["overdue_limit"].iat[i],
                "lon": float(r["lon"]),
                "lat": float(r["lat"]),
                "duplicate_of": links.get(r["incident_id"]),
                "possible_duplicates": [] if done else possible(s, p, r),
            }
        )
    return out


def possible(s, p, row: dict) -> list[str]:
    """Ids of the open incidents `row` may duplicate that `p` may work."""
    return [d for d, _m in s.possible_duplicates(row, duplicate_radius_m()) if may_work(p, s.get(d)["grid_code"])]


# --- one incident --------------------------------------------------------------------------------------------
@bp.get("/api/work/<incident_id>")
@require(*WORKERS)
def detail(incident_id):
    """Everything staff may see of one incident: fields, place and worker, limits, history, actions, duplicates."""
    s = service()
    p = current_principal()
    row = s.get(incident_id)
    check_may_work(p, row)
    frame = pd.DataFrame([row])
    times = s.timeliness(frame)
    t = times.iloc[0]
    tz, now = s.timezone, s.now()
    [item] = items(s, frame, times)
    twin = get_twin()
    worker = s.worker(row["grid_code"])
    limits = []
    for lim in LIMITS:
        due, done_at = t[f"{lim}_due"], row.get(LIMIT_TIME[lim])
        met = t[f"met_{lim}"]
        limits.append(
            {
                "limit": lim,
                "due": iso(due, tz, "seconds"),
                "done_at": iso(done_at, tz, "seconds"),
                "met": None if pd.isna(met) else bool(met),
                "seconds_left": None if done_at is not None else int(round((due - now).total_seconds())),
            }
        )
    item.update(
        description=row["description"],
        media_url=row.get("media_url"),
        rating=row.get("rating"),
        compound_id=row.get("compound_id"),
        compound_name=names_of(twin, "compounds", "compound_id").get(row.get("compound_id")),
        community_id=row.get("community_id"),
        community_name=names_of(twin, "communities", "community_id").get(row.get("community_id")),
        worker=worker,
        limits=limits,
        history=[{**e, "at": iso(e["at"], tz, "seconds")} for e in s.history(incident_id)],
        actions=s.allowed_actions(incident_id),
        duplicates=s.duplicates.copies(incident_id),
        possible_duplicates=[
            {"id": d, "metres": m, "stage": s.get(d)["stage"]}
            for d, m in (s.possible_duplicates(row, duplicate_radius_m()) if row["stage"] in OPEN else [])
            if may_work(p, s.get(d)["grid_code"])
        ],
    )
    if may_see_contact(p, row.get("grid_code")):
        item.update(
            contact_name=row.get("contact_name"),
            contact_phone=row.get("contact_phone"),
            contact_email=row.get("contact_email"),
            household_id=row.get("household_id"),
        )
    return jsonify(item)


@bp.post("/api/work/<incident_id>/duplicate")
@require(*WORKERS)
def duplicate(incident_id):
    """Close an open incident as a duplicate of `of` (both in the caller's grids); the updated detail."""
    f = body()
    s = service()
    p = current_principal()
    of = f.get("of")
    if not isinstance(of, str) or not of:
        raise InvalidInput("of must name the incident this one duplicates", field="of")
    check_may_work(p, s.get(incident_id))
    check_may_work(p, s.get(of))
    note = f.get("note") or None
    s.mark_duplicate(incident_id, of, actor=p.name, note=note)
    return detail(incident_id)


# --- place names (static layers: read once per app) ----------------------------------------------------------
def names_of(twin, layer: str, key: str) -> dict:
    """code → name of a static layer (the code when a name is missing); empty without that layer."""
    return _names(id(twin), twin, layer, key)


@lru_cache(maxsize=16)
def _names(_tid, twin, layer: str, key: str) -> dict:
    if layer not in twin.layers:
        return {}
    f = twin.frame(layer)
    names = f["name"].astype(object).where(f["name"].notna(), f[key]) if "name" in f else f[key]
    return dict(zip(f[key].astype(str), np.asarray(names, dtype=object).tolist()))


def grid_names(twin) -> dict:
    """grid code → grid name."""
    return names_of(twin, "grids", "grid_code")


def building_names(twin) -> dict:
    """building id → building name."""
    return names_of(twin, "buildings", "building_id")
