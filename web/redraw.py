"""Grid redraw over HTTP: POST /api/redraw starts a background job (202 + job URL), GET /api/jobs/{id} shows its
state and progress, GET /api/jobs/{id}/result returns the plan (GeoJSON, or ?f=gpkg for a GeoPackage) with the
before/after metrics; /redraw is the before/after map page."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from twin.errors import InvalidInput, NotFound
from twin.jobs import JobRunner
from twin.redraw import RedrawParams, prepare, redraw
from twin.redraw.metrics import METRIC_ROWS

from . import get_twin
from .auth import require
from .dashboard import map_bounds

log = logging.getLogger(__name__)

bp = Blueprint("redraw", __name__)

ROLES = ("staff", "admin")  # a redraw is heavy and office-internal: street-office staff and admins only
FORMATS = ("geojson", "gpkg")
GPKG_MIME = "application/geopackage+sqlite3"


def runner() -> JobRunner:
    """The app's job runner (one worker thread, bounded queue), created on first use."""
    ext = current_app.extensions
    if "jobs" not in ext:
        ext["jobs"] = JobRunner(workers=1, max_queued=max(1, int(current_app.config["REDRAW_QUEUE"])))
    return ext["jobs"]


def read_params(body) -> RedrawParams:
    """Validated parameters from a JSON body, with the band and worker defaults from the settings."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object of redraw parameters")
    body = dict(body)
    body.setdefault("band", current_app.config["REDRAW_BAND"])
    body.setdefault("workers", current_app.config["REDRAW_WORKERS"])
    return RedrawParams.from_dict(body)


@bp.post("/api/redraw")
@require(*ROLES)
def start():
    """Validate the parameters now (400 at once if bad), then queue the redraw; 202 with the job's URL."""
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise InvalidInput("the body must be a JSON object of redraw parameters")
    params = read_params(body if body is not None else {})
    twin = get_twin()
    prepare(twin, params)  # cheap checks against the data (locked grids, grid counts) before queueing
    on = {"scheduler": current_app.config["DASK_SCHEDULER"]} if current_app.config["DASK_SCHEDULER"] else {}
    job = runner().submit("redraw", lambda progress: redraw(twin, params, progress=progress, **on), params.to_dict())
    log.info("redraw job %s queued: %s", job.id, params.to_dict())
    url = url_for("redraw.job", job_id=job.id)
    resp = jsonify({**job.to_dict(), "url": url, "result_url": url_for("redraw.result", job_id=job.id)})
    resp.status_code = 202
    resp.headers["Location"] = url
    return resp


@bp.get("/api/jobs/<job_id>")
@require(*ROLES)
def job(job_id: str):
    """State and progress (0-1 and a message) of a job; when done, the before/after summary and the result URL."""
    j = runner().get(job_id)
    body = j.to_dict()
    if j.status == "done":
        body["summary"] = j.result.summary()
        body["result_url"] = url_for("redraw.result", job_id=j.id)
    return jsonify(body)


@bp.get("/api/jobs/<job_id>/result")
@require(*ROLES)
def result(job_id: str):
    """The plan: proposed grids (?which=after, default) or today's grids on the same cells (?which=before) as
    GeoJSON with the before/after metrics in `metadata`; ?f=gpkg downloads a GeoPackage of both and the assignment."""
    j = runner().get(job_id)
    fmt = request.args.get("f", "geojson")
    if fmt not in FORMATS:
        raise InvalidInput(f"f must be one of {', '.join(FORMATS)}, not {fmt!r}", field="f")
    which = request.args.get("which", "after")
    if which not in ("after", "before"):
        raise InvalidInput("which must be 'after' or 'before'", field="which")
    if j.status != "done":
        raise NotFound(f"job {job_id} has no result (status {j.status})", status=j.status, error=j.error)
    if fmt == "gpkg":
        return _gpkg(j)
    resp = jsonify(j.result.to_geojson(which))
    resp.mimetype = "application/geo+json"
    return resp


def _gpkg(j) -> Response:
    with tempfile.TemporaryDirectory(prefix="twin-redraw-") as tmp:
        data = j.result.write_gpkg(Path(tmp) / "plan.gpkg").read_bytes()
    return Response(
        data, mimetype=GPKG_MIME, headers={"Content-Disposition": f'attachment; filename="redraw-{j.id[:8]}.gpkg"'}
    )


@bp.get("/redraw")
def page():
    """The before/after map page: parameters, progress, two maps and the metrics table (calls the API with the
    token typed into the page)."""
    return render_template(
        "redraw.html",
        page_extra={
            "redrawBand": current_app.config["REDRAW_BAND"],
            "metricRows": METRIC_ROWS,
            "bounds": [float(v) for v in map_bounds(get_twin())],
        },
    )
