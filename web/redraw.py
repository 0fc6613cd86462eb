"""Grid redraw over HTTP: POST /api/redraw starts a background job (202 + job URL), GET /api/jobs/{id} shows its
state and progress, GET /api/jobs/{id}/result returns the plan (GeoJSON, or ?f=gpkg for a GeoPackage) with the
before/after metrics; /redraw is the before/after map page."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from twin.access import PLAN_ROLES
from twin.errors import InvalidInput, NotFound
from twin.jobs import JobRunner
from twin.redraw import RedrawParams, prepare, redraw
from twin.redraw.handover import handover, moved_geojson, to_csv, to_xlsx
from twin.redraw.metrics import METRIC_ROWS
from twin.redraw.params import FRONTIER_KEEPS

from . import get_twin
from .auth import require
from .dashboard import map_bounds
from .http import lang, read_json
from .plans import today as plans_today

log = logging.getLogger(__name__)

bp = Blueprint("redraw", __name__)

FORMATS = ("geojson", "gpkg")
HANDOVER_FORMATS = ("json", "csv", "xlsx", "geojson")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG_MIME = "application/geopackage+sqlite3"
MAX_BODY = 64 * 1024  # redraw parameters are a few hundred bytes


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
@require(*PLAN_ROLES)
def start():
    """Validate the parameters now (400 at once if bad), then queue the redraw; 202 with the job's URL."""
    body = read_json(MAX_BODY, empty={})
    params = read_params(body)
    twin = get_twin()
    prepare(twin, params)  # cheap checks against the data (locked grids, grid counts) before queueing
    on = {"scheduler": current_app.config["DASK_SCHEDULER"]} if current_app.config["DASK_SCHEDULER"] else {}
    job = runner().submit("redraw", lambda progress: run(twin, params, progress, **on), params.to_dict())
    log.info("redraw job %s queued: %s", job.id, params.to_dict())
    url = url_for("redraw.job", job_id=job.id)
    resp = jsonify({**job.to_dict(), "url": url, "result_url": url_for("redraw.result", job_id=job.id)})
    resp.status_code = 202
    resp.headers["Location"] = url
    return resp


def run(twin, params: RedrawParams, progress, scheduler=None):
    """The job: redraw (to 90%), then the hand-over and the GeoJSON of every plan of the run, reported as steps
    so the bar does not stall while they are drawn."""
    on = {"scheduler": scheduler} if scheduler else {}
    grids_in_force = getattr(twin, "plan_tag", None)  # the plan whose codes are the previous codes of this one
    plan = redraw(twin, params, progress=lambda f, m="": progress(0.9 * f, m if f < 1 else "serialising"), **on)
    plan.cache["drawn_over"] = grids_in_force
    progress(0.9, "serialising")
    variants = list(plan.variants.values()) or [plan]
    before = plan.to_geojson("before")  # today's grids: the same for every variant of the run
    steps = [
        ("handover", lambda p: handover(p, twin)),
        ("moved", lambda p: moved_geojson(p, twin)),
        ("after", lambda p: p.to_geojson("after")),
    ]
    for n, p in enumerate(variants):
        p.cache["before"] = {**before, "metadata": p.summary()}
        for m, (key, fn) in enumerate(steps):
            progress(0.92 + 0.08 * (n * len(steps) + m) / (len(variants) * len(steps)), "serialising")
            p.cache[key] = fn(p)
    progress(1.0, "done")
    return plan


def finished(job_id: str):
    """The done job `job_id` (NotFound while it is not done)."""
    j = runner().get(job_id)
    if j.status != "done":
        raise NotFound(f"job {job_id} has no result (status {j.status})", status=j.status, error=j.error)
    return j


def chosen(j):
    """The plan of the job at ?keep= (the run's own keep when absent)."""
    raw = request.args.get("keep")
    if raw is None:
        return j.result
    try:
        keep = float(raw)
    except ValueError:
        raise InvalidInput(f"keep must be a number, not {raw[:20]!r}", field="keep") from None
    return j.result.variant(keep)


@bp.get("/api/jobs/<job_id>")
@require(*PLAN_ROLES)
def job(job_id: str):
    """State and progress (0-1 and a message) of a job; when done, the before/after summary and the result URL."""
    j = runner().get(job_id)
    body = j.to_dict()
    if j.status == "done":
        body["summary"] = j.result.summary()
        body["result_url"] = url_for("redraw.result", job_id=j.id)
        body["handover"] = j.result.cache.get("handover")
        body["handover_url"] = url_for("redraw.handover_of", job_id=j.id)
        body["frontier"] = [
            {**pt, "result_url": url_for("redraw.result", job_id=j.id, keep=pt["keep"])}
            for pt in j.result.summary()["frontier"]
        ]
        body["adopt_url"] = url_for("plans.adopt", job_id=j.id)
    return jsonify(body)


@bp.get("/api/jobs/<job_id>/handover")
@require(*PLAN_ROLES)
def handover_of(job_id: str):
    """Who hands over what under the plan (?keep= picks a frontier point): JSON, ?f=csv or ?f=xlsx tables, or
    ?f=geojson footprints of the moved buildings."""
    fmt = request.args.get("f", "json")
    if fmt not in HANDOVER_FORMATS:
        raise InvalidInput(f"f must be one of {', '.join(HANDOVER_FORMATS)}, not {fmt[:20]!r}", field="f")
    plan = chosen(finished(job_id))
    h = plan.cache.get("handover") or handover(plan, get_twin())
    name = f"handover-{job_id[:8]}-keep{plan.params.get('keep', 0):g}"
    if fmt == "geojson":
        resp = jsonify(plan.cache.get("moved") or moved_geojson(plan, get_twin()))
        resp.mimetype = "application/geo+json"
        return resp
    if fmt == "csv":
        return Response(
            "\ufeff" + to_csv(h, lang()),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(h, lang()),
            mimetype=XLSX_MIME,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return jsonify({**h, "keep": plan.params.get("keep")})


@bp.get("/api/jobs/<job_id>/result")
@require(*PLAN_ROLES)
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
    plan = chosen(finished(job_id))
    if fmt == "gpkg":
        return _gpkg(j.id, plan)
    resp = jsonify(plan.cache.get(which) or plan.to_geojson(which))
    resp.mimetype = "application/geo+json"
    return resp


def _gpkg(job_id: str, plan) -> Response:
    with tempfile.TemporaryDirectory(prefix="twin-redraw-") as tmp:
        data = plan.write_gpkg(Path(tmp) / "plan.gpkg").read_bytes()
    return Response(
        data, mimetype=GPKG_MIME, headers={"Content-Disposition": f'attachment; filename="redraw-{job_id[:8]}.gpkg"'}
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
            "communities": community_names(get_twin()),
            "frontierKeeps": list(FRONTIER_KEEPS),
            "officeToday": plans_today().isoformat(),  # the office's date (TIMEZONE), not the browser's
        },
    )


def community_names(twin) -> dict:
    """{community id: name} for the page's tooltips."""
    if "communities" not in twin.layers:
        return {}
    c = twin.frame("communities")
    return dict(zip(c["community_id"], c["name"])) if "name" in c else {}
