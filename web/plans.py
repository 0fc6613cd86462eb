"""Versioned grids over HTTP: adopt a redraw's plan with an effective date (admins), read the history and any plan
(`/api/plans`, `/api/plans/{id}`), roll an adopted plan back (admins). The plan in force is installed as the
twin's grids layer at start-up, after each change, and when an effective date arrives."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request, url_for

from twin import plans
from twin.access import PLAN_ROLES
from twin.errors import Conflict, InvalidInput
from twin.times import local_midnight, now_of, office_today, zone_of

from . import get_twin
from .auth import current_principal, require

log = logging.getLogger(__name__)

bp = Blueprint("plans", __name__)

PERSONAL = ("worker_phone",)  # grid fields only staff and admins see


def store(app=None) -> plans.PlanStore:
    """The app's plan store: the twin's storage (SQLite or PostgreSQL), else STATE_DIR's SQLite file."""
    app = app or current_app
    if "plans" not in app.extensions:
        twin = app.extensions["twin"]
        if hasattr(twin.store, "open_plans"):
            table = twin.store.open_plans()
        elif app.config.get("STATE_DIR"):
            table = Path(app.config["STATE_DIR"]) / "twin.sqlite"
        else:
            raise Conflict("grid plans need a state directory (STATE_DIR) for their store")
        app.extensions["plans"] = plans.PlanStore(table)
    return app.extensions["plans"]


def today(app=None) -> dt.date:
    """The office's date now (the incident service's clock and time zone when attached)."""
    app = app or current_app
    service = getattr(app.extensions["twin"], "incidents", None)
    return office_today(zone_of(service, app.config.get("TIMEZONE")), now_of(service))


def sync(app=None) -> None:
    """Install the plan in force today: when the day changes, after each change, and every SYNC_SECONDS (another
    process on the same store may have adopted or rolled back a plan). Every request asks, so the usual answer
    ("same day, synced lately") compares one instant with the day's bounds and does no calendar arithmetic."""
    app = app or current_app
    service = getattr(app.extensions["twin"], "incidents", None)
    now = now_of(service)
    seconds = app.config.get("SYNC_SECONDS", 2.0)
    last = app.extensions.get("plans_synced")  # (the day's first instant, the next day's, when synced)
    if last is not None and last[0] <= now < last[1]:
        if seconds is None or seconds < 0 or time.monotonic() - last[2] < seconds:
            return
    tz = zone_of(service, app.config.get("TIMEZONE"))
    day = office_today(tz, now)
    plans.sync(app.extensions["twin"], store(app), day)
    bounds = (local_midnight(day, tz), local_midnight(day + dt.timedelta(days=1), tz))
    app.extensions["plans_synced"] = (*bounds, time.monotonic())


@bp.record_once
def _at_start(state) -> None:
    if state.app.extensions["twin"].store is not None or state.app.config.get("STATE_DIR"):
        sync(state.app)


@bp.before_app_request
def _when_due() -> None:
    if "plans" in current_app.extensions:
        sync()
        p = g.get("principal")
        if p is not None and p.role == "staff" and p.grids is not None:  # the grid worker's scope follows the plan
            g.principal = replace(p, grids=plans.scope_in_force(p.grids, get_twin()))


def _changed() -> None:
    current_app.extensions.pop("plans_synced", None)
    sync()


@bp.post("/api/jobs/<job_id>/adopt")
@require(*PLAN_ROLES)
def adopt(job_id: str):
    """Publish the job's plan (body: effective_date YYYY-MM-DD, today when absent; keep picks a frontier point);
    201 with the plan's record."""
    from .redraw import finished

    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise InvalidInput("the body must be a JSON object with effective_date (and keep)")
    body = body if body is not None else {}
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object with effective_date (and keep)")
    unknown = sorted(set(body) - {"effective_date", "keep"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(unknown)}; known: effective_date, keep", field=unknown[0])
    day = today()
    effective = plans.parse_day(body["effective_date"]) if body.get("effective_date") else day
    j = finished(job_id)
    keep = body.get("keep")
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, (int, float))):
        raise InvalidInput("keep must be a number (a point of the frontier)", field="keep")
    plan = j.result.variant(None if keep is None else float(keep))
    twin = get_twin()
    if j.result.cache.get("drawn_over") != getattr(twin, "plan_tag", None):
        raise Conflict("the grids in force have changed since this redraw ran; run the redraw again to adopt one")
    meta = store().publish(
        plans.plan_grids(plan, twin),
        effective,
        current_principal().name,
        f"redraw job {job_id} keep {plan.params.get('keep'):g}",
        {**plan.summary(), "handover": (plan.cache.get("handover") or {}).get("totals")},
        day,
        plans.layer_rows(twin),
    )
    _changed()
    log.info("plan %s adopted from job %s, effective %s", meta["id"], job_id, effective)
    resp = jsonify(describe(meta))
    resp.status_code = 201
    resp.headers["Location"] = url_for("plans.one", plan_id=meta["id"])
    return resp


@bp.get("/api/plans")
def history():
    """Every grid plan, newest first: status (baseline, published, rolled_back), effective date, who, in force."""
    return jsonify({"plans": [describe(m) for m in store().history(today())], "today": today().isoformat()})


@bp.get("/api/plans/<plan_id>")
def one(plan_id: str):
    """One plan's grids as GeoJSON (its record in `metadata`); the grid workers' phones only for staff/admins."""
    s = store()
    meta = {**describe(s.get(plan_id)), "in_force": s.in_force(today()) == int(plan_id)}
    grids = s.grids(plan_id)
    if not current_principal().sees_personal:
        grids = grids.drop(columns=[c for c in PERSONAL if c in grids.columns])
    fc = json.loads(grids.to_json(drop_id=True))
    fc["metadata"] = meta
    resp = jsonify(fc)
    resp.mimetype = "application/geo+json"
    return resp


@bp.post("/api/plans/<plan_id>/rollback")
@require(*PLAN_ROLES)
def rollback(plan_id: str):
    """Roll an adopted plan back: it stays in the history, marked; the plan before it is in force again."""
    meta = store().rollback(plan_id, current_principal().name)
    _changed()
    log.info("plan %s rolled back", plan_id)
    return jsonify(describe(meta))


def describe(meta: dict) -> dict:
    """A plan's record with its URLs."""
    out = {**meta, "url": url_for("plans.one", plan_id=meta["id"])}
    if meta["status"] == plans.PUBLISHED:
        out["rollback_url"] = url_for("plans.rollback", plan_id=meta["id"])
    return out
