"""Care checks of elderly people living alone: staff record each morning call; the third miss opens a visit."""

from __future__ import annotations

import logging

import pandas as pd
from flask import Blueprint, jsonify, request

from twin.errors import Forbidden, InvalidInput, NotFound
from twin.incidents.care import answered_of, calls_of_day
from twin.times import iso, parse_date

from .auth import current_principal, require
from .http import body
from .incident_http import service

log = logging.getLogger(__name__)

bp = Blueprint("care", __name__)

FIELDS = {"household_id", "answered", "note"}


@bp.post("/api/care/calls")
@require("staff", "admin")
def record():
    """Record one call {household_id, answered, note}; 201 with the call and, on the third miss, the visit opened."""
    f = body()
    unknown = set(f) - FIELDS
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(sorted(map(str, unknown)))}; send household_id, answered, note",
            field=sorted(map(str, unknown))[0],
        )
    hid = f.get("household_id")
    hid = hid.strip() if isinstance(hid, str) else ""
    if not hid:
        raise InvalidInput("household_id is required", field="household_id")
    answered = answered_of(f.get("answered"))
    s = service()
    try:
        home = s.placer.household(hid)
    except NotFound:
        raise InvalidInput(f"household {hid[:40]!r} is not in the register", field="household_id") from None
    p = current_principal()
    if not p.may_see_grid(home["grid_code"]):
        raise Forbidden(f"household {hid} is outside your grids", field="household_id")
    out = s.record_call(hid, answered, actor=p.name, note=f.get("note"))
    tz = s.timezone
    visit = out.pop("visit")
    worker = out.pop("worker")
    resp = jsonify(
        {
            "call": {
                **out,
                "at": iso(out["at"], tz),
                "grid_code": home["grid_code"],
                "building_id": home["building_id"],
            },
            "visit": incident_json(visit, tz) if visit is not None else None,
            "worker": worker,
        }
    )
    resp.status_code = 201
    return resp


@bp.get("/api/care/calls")
@require("staff", "admin")
def calls():
    """The calls of ?date=YYYY-MM-DD (today when absent, office time) in the caller's grids; ?household_id= one."""
    s = service()
    day = parse_date(request.args.get("date"), s.timezone, s.now()).strftime("%Y-%m-%d")
    p = current_principal()
    rows = calls_of_day(
        s, day, grids=None if p.role == "admin" else p.grids, household_id=request.args.get("household_id") or None
    )
    visits = sorted({r["visit_incident_id"] for r in rows if r["visit_incident_id"]})
    return jsonify(
        {
            "date": day,
            "timezone": s.timezone,
            "summary": {
                "calls": len(rows),
                "unanswered": sum(not r["answered"] for r in rows),
                "households": len({r["household_id"] for r in rows}),
                "visits": len(visits),
            },
            "calls": [{**r, "at": iso(r["at"], s.timezone)} for r in rows],
        }
    )


def incident_json(row: dict, tz: str) -> dict:
    """An incident record (service.get) with its times in ISO 8601 at the office's UTC offset."""
    return {k: iso(v, tz) if isinstance(v, pd.Timestamp) else v for k, v in row.items()}
