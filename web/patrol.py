"""Blueprint 'patrol': the grid worker's phone page (/patrol) — my grid's open incidents by urgency, acting on them,
reporting a new one at my position with a photo; photos kept by twin.photos and served by the incident's rules."""

from __future__ import annotations

import logging

import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request

from twin.access import may_see_incidents
from twin.errors import Forbidden, InvalidInput
from twin.incidents.intake import FILEABLE, coordinate
from twin.incidents.urgency import by_urgency
from twin.photos import PhotoStore, clean_photo
from twin.times import iso

from . import get_twin
from .auth import current_principal, require
from .dashboard import map_bounds
from .incident_http import service

log = logging.getLogger(__name__)

bp = Blueprint("patrol", __name__)

LIST_MAX = 300  # incidents listed at once (most urgent first)
FORM_SLACK = 64 * 1024  # room for the form fields besides the photo


def photos() -> PhotoStore:
    """The photo store under the state directory."""
    store = get_twin().store
    base = getattr(store, "state_dir", None) or current_app.config.get("STATE_DIR") or current_app.config["DATA_DIR"]
    return PhotoStore(f"{base}/photos")


def _limits() -> tuple[int, int]:
    cfg = current_app.config
    return int(cfg.get("PHOTO_MAX_BYTES") or 12_000_000), int(cfg.get("PHOTO_MAX_PIXELS") or 40_000_000)


def incident_doc(row, store: PhotoStore, tz: str) -> dict:
    """One incident as the patrol page shows it."""
    iid = row["incident_id"]
    doc = {
        "incident_id": iid,
        "category": row["category"],
        "stage": row["stage"],
        "description": row.get("description"),
        "lon": row["lon"],
        "lat": row["lat"],
        "grid_code": row.get("grid_code"),
        "building_id": row.get("building_id"),
        "reported_at": iso(row["reported_at"], tz),
        "photo": f"/api/incidents/{iid}/photo" if store.has(iid) else None,
    }
    for k in ("next_due", "overdue", "overdue_seconds", "due_in_seconds"):
        if k in row:
            v = row[k]
            doc[k] = iso(v, tz) if k == "next_due" else (None if pd.isna(v) else (bool(v) if k == "overdue" else v))
    return {k: (None if not isinstance(v, str) and v is not None and pd.isna(v) else v) for k, v in doc.items()}


def _mine(frame: pd.DataFrame, p) -> pd.DataFrame:
    if p.role == "admin" or p.grids is None:
        return frame
    return frame[frame["grid_code"].isin(list(p.grids)).to_numpy()]


@bp.get("/patrol")
def page():
    """The grid worker's phone page (390 px first); people who are not signed in go to /login first."""
    if current_principal().role == "public":
        return redirect(f"/login?next={request.full_path.rstrip('?')}", 302)
    extra = {
        "bbox": [round(float(v), 6) for v in map_bounds(get_twin())],
        "categories": sorted(FILEABLE),
        "photoMaxBytes": _limits()[0],
    }
    return render_template("patrol.html", page_extra=extra)


@bp.get("/api/patrol/incidents")
@require("staff", "admin")
def mine():
    """Open incidents of the caller's grids, most urgent first (overdue longest first, then by time left)."""
    s = service()
    p = current_principal()
    frame = by_urgency(s, _mine(s.frame(), p)).head(LIST_MAX)
    store = photos()
    return jsonify({"incidents": [incident_doc(r, store, s.timezone) for _, r in frame.iterrows()]})


@bp.get("/api/patrol/incidents/<incident_id>")
@require("staff", "admin")
def one(incident_id):
    """One incident of the caller's grids with its history, as the patrol page's detail."""
    s = service()
    row = _check_grid(s, incident_id)
    frame = by_urgency(s, pd.DataFrame([row]))
    doc = incident_doc(frame.iloc[0] if len(frame) else pd.Series(row), photos(), s.timezone)
    doc["history"] = [{**e, "at": iso(e["at"], s.timezone, "seconds")} for e in s.history(incident_id)]
    return jsonify(doc)


def _check_grid(s, incident_id) -> dict:
    row = s.get(incident_id)
    if not current_principal().may_see_grid(row.get("grid_code")):
        raise Forbidden(f"incident {incident_id} is outside your grids", id=incident_id)
    return row


def _photo_of_request(required: bool) -> bytes | None:
    """The cleaned JPEG of the request's `photo` file (multipart), or None when none was sent and none is needed."""
    max_bytes, max_pixels = _limits()
    request.max_content_length = max_bytes + FORM_SLACK  # larger bodies get 413 before they are read
    if request.mimetype != "multipart/form-data":
        raise InvalidInput("send the report as multipart/form-data (fields and a photo file)")
    f = request.files.get("photo")
    if f is None or not f.filename and not f.content_length:
        if required:
            raise InvalidInput("attach the photo as the file field 'photo'", field="photo")
        return None
    data = f.stream.read(max_bytes + 1)
    return clean_photo(data, max_bytes, max_pixels)


@bp.post("/api/patrol/reports")
@require("staff", "admin")
def report():
    """Report a new incident at lon/lat: category, description and an optional photo (multipart); 201 with it."""
    jpeg = _photo_of_request(required=False)  # checked first: a bad photo stores nothing at all
    f = request.form
    code = f.get("category") or ""
    if code not in FILEABLE:
        raise InvalidInput(f"unknown category {code[:40]!r}", field="category")
    fields = {
        "category": code,
        "lon": coordinate(f.get("lon"), "lon", -180, 180),
        "lat": coordinate(f.get("lat"), "lat", -90, 90),
        "source": "patrol",
        "description": f.get("description") or None,
    }
    s = service()
    p = current_principal()
    rec = s.prepare(fields)
    if not p.may_see_grid(rec.get("grid_code")):
        raise Forbidden("that place is outside your grids", field="lat")
    row = s.create(fields, actor=p.name)
    if jpeg is not None:
        photos().put(row["incident_id"], jpeg)
    resp = jsonify(incident_doc(by_urgency(s, pd.DataFrame([row])).iloc[0], photos(), s.timezone))
    resp.status_code = 201
    return resp


@bp.post("/api/incidents/<incident_id>/photo")
@require("staff", "admin")
def add_photo(incident_id):
    """Attach (or replace) the photo of an incident of the caller's grids (multipart field 'photo')."""
    s = service()
    _check_grid(s, incident_id)
    jpeg = _photo_of_request(required=True)
    photos().put(incident_id, jpeg)
    resp = jsonify({"incident_id": incident_id, "photo": f"/api/incidents/{incident_id}/photo"})
    resp.status_code = 201
    return resp


@bp.get("/api/incidents/<incident_id>/photo")
def photo(incident_id):
    """The photo of an incident, to callers who may see the incident (care incidents: staff of its grid)."""
    s = service()
    row = s.get(incident_id)
    if not may_see_incidents(current_principal(), [row["category"]], [row.get("grid_code")])[0]:
        raise Forbidden(f"incident {incident_id} is not shown to you", id=incident_id)
    data = photos().get(incident_id)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=300"})
