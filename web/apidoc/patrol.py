"""OpenAPI of the patrol blueprint: the grid worker's phone page, its incidents, reports and photos."""

from __future__ import annotations

from . import STAFF, STRING, binary, errors, html, obj, ok, op, path, query

TAG = "patrol"
INCIDENT = obj({"incident_id": STRING, "category": STRING, "stage": STRING}, ("incident_id", "category", "stage"))
PHOTO = {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP (sniffed); PHOTO_MAX_BYTES"}


def _multipart(properties: dict, required: tuple, description: str) -> dict:
    schema = obj(properties, required)
    return {"required": True, "description": description, "content": {"multipart/form-data": {"schema": schema}}}


def paths() -> dict:
    """/patrol, /api/patrol/*, /api/incidents/{incident_id}/photo."""
    iid = path("incident_id", "the incident")
    return {
        "/patrol": {
            "get": op(
                "patrol-page",
                "pages",
                "the grid worker's phone page (the public is sent to /login)",
                {**html("the page"), "302": {"description": "not signed in: to /login"}},
                params=[query("lang", {"type": "string", "enum": ["zh", "en"]}, "language")],
            )
        },
        "/api/patrol/incidents": {
            "get": op(
                "patrol-incidents",
                TAG,
                "open incidents of the caller's grids, most urgent first",
                {**ok(obj({"incidents": {"type": "array", "items": INCIDENT}}, ("incidents",))), **errors(401, 403)},
                security=STAFF,
            )
        },
        "/api/patrol/incidents/{incident_id}": {
            "get": op(
                "patrol-incident",
                TAG,
                "one incident of the caller's grids with its history",
                {**ok(INCIDENT), **errors(401, 403, 404)},
                params=[iid],
                security=STAFF,
            )
        },
        "/api/patrol/reports": {
            "post": op(
                "patrol-report",
                TAG,
                "report an incident at lon/lat with category, description and a photo",
                {**ok(INCIDENT, status=201), **errors(400, 401, 403, 413)},
                body=_multipart(
                    {"category": STRING, "description": STRING, "lon": STRING, "lat": STRING, "photo": PHOTO},
                    ("category", "lon", "lat"),
                    "the report (multipart/form-data)",
                ),
                security=STAFF,
            )
        },
        "/api/incidents/{incident_id}/photo": {
            "get": op(
                "incident-photo",
                TAG,
                "the incident's photo (re-encoded JPEG without EXIF), to callers who may see the incident",
                {**binary("image/jpeg", "the photo"), **errors(403, 404)},
                params=[iid],
            ),
            "post": op(
                "incident-photo-add",
                TAG,
                "attach or replace the photo of an incident of the caller's grids",
                {**ok(obj({"incident_id": STRING, "photo": STRING}), status=201), **errors(400, 401, 403, 404, 413)},
                params=[iid],
                body=_multipart({"photo": PHOTO}, ("photo",), "the photo (multipart/form-data)"),
                security=STAFF,
            ),
        },
    }
