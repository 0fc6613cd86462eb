"""Grid redraw over HTTP: POST /api/redraw starts a background job (202 + job URL), GET /api/jobs/{id} shows its
progress, GET /api/jobs/{id}/result returns the plan as GeoJSON; /redraw is the before/after map page."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from twin.errors import InvalidInput, NotFound
from twin.jobs import JobRunner
from twin.redraw import RedrawParams, redraw

from . import get_twin
from .auth import require

log = logging.getLogger(__name__)

bp = Blueprint("redraw", __name__)

ROLES = ("planner", "staff", "admin")  # a redraw is heavy and office-internal: no anonymous calls


def runner() -> JobRunner:
    """The app's job runner (one worker thread, bounded queue), created on first use."""
    ext = current_app.extensions
    if "jobs" not in ext:
        ext["jobs"] = JobRunner(workers=1, max_queued=max(1, int(current_app.config.get("REDRAW_QUEUE", 4))))
    return ext["jobs"]


@bp.post("/api/redraw")
@require(*ROLES)
def start():
    """Validate the parameters now (400 at once if bad), then queue the redraw; 202 with the job's URL."""
    body = request.get_json(silent=True)
    if body is None and request.data:
        raise InvalidInput("the body must be a JSON object of redraw parameters")
    body = dict(body or {})
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object of redraw parameters")
    body.setdefault("band", current_app.config.get("REDRAW_BAND", 0.10))
    body.setdefault("workers", current_app.config.get("REDRAW_WORKERS", 2))
    params = RedrawParams.from_dict(body)
    twin = get_twin()
    job = runner().submit("redraw", lambda progress: redraw(twin, params, progress=progress), params.to_dict())
    url = url_for("redraw.job", job_id=job.id)
    resp = jsonify({**job.to_dict(), "url": url, "result_url": url_for("redraw.result", job_id=job.id)})
    resp.status_code = 202
    resp.headers["Location"] = url
    return resp


@bp.get("/api/jobs/<job_id>")
@require(*ROLES)
def job(job_id: str):
    """Status and progress of a job; when done, the before/after summary and the result URL."""
    j = runner().get(job_id)
    body = j.to_dict()
    if j.status == "done":
        body["summary"] = j.result.summary()
        body["result_url"] = url_for("redraw.result", job_id=j.id)
    return jsonify(body)


@bp.get("/api/jobs/<job_id>/result")
@require(*ROLES)
def result(job_id: str):
    """The plan as GeoJSON: proposed grids (?which=after, default) or today's grids on the same cells (before)."""
    j = runner().get(job_id)
    if j.status != "done":
        raise NotFound(f"job {job_id} has no result yet (status {j.status})", status=j.status)
    which = request.args.get("which", "after")
    if which not in ("after", "before"):
        raise InvalidInput("which must be 'after' or 'before'")
    resp = jsonify(j.result.to_geojson(which))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/redraw")
def page():
    """The before/after map page with the metrics table (data comes from the API with the caller's token)."""
    return render_template("redraw.html", page_extra={"redrawBand": current_app.config.get("REDRAW_BAND", 0.10)})
