"""OpenAPI of the redraw blueprint: grid redraw jobs (staff and admin) and the redraw page."""

from __future__ import annotations

from . import INTEGER, NSTRING, NUMBER, STAFF, STRING, errors, html, json_body, obj, ok, op, path, query

TAG = "redraw"
PARAMS = obj(
    {
        "grids": {"type": "integer", "minimum": 1, "nullable": True},
        "target": {"type": "number", "minimum": 1, "nullable": True},
        "band": {"type": "number", "minimum": 0, "maximum": 1},
        "weights": {"type": "object", "additionalProperties": {"type": "number"}},
        "start": {"type": "string", "enum": ["current", "fresh"]},
        "keep": {"type": "number", "minimum": 0, "maximum": 1},
        "compactness": {"type": "number", "minimum": 0, "maximum": 10},
        "locked": {"type": "array", "items": STRING},
        "unit": {"type": "string", "enum": ["building", "compound"]},
        "communities": {"type": "array", "items": STRING},
        "effort": {"type": "integer", "minimum": 1, "maximum": 2000},
        "workers": {"type": "integer", "minimum": 1, "maximum": 8},
        "seed": INTEGER,
    },
    extra=False,
)
JOB = obj(
    {
        "id": STRING,
        "kind": STRING,
        "status": STRING,
        "progress": NUMBER,
        "message": NSTRING,
        "params": {"type": "object"},
        "elapsed_s": NUMBER,
        "error": NSTRING,
    },
    ("id", "status", "progress"),
)
SCHEMAS = {"redrawParams": PARAMS, "job": JOB}
JOB_ID = path("job_id", "the job's id")


def paths() -> dict:
    """/api/redraw, /api/jobs/{job_id}[/result], /redraw."""
    return {
        "/api/redraw": {
            "post": op(
                "redraw-start",
                TAG,
                "check the parameters (400 at once if bad) and queue a redraw; 202 with the job and its URL",
                {**ok({"$ref": "#/components/schemas/job"}, description="queued", status=202), **errors(400, 401, 403)},
                body=json_body({"$ref": "#/components/schemas/redrawParams"}, "redraw parameters", required=False),
                security=STAFF,
            )
        },
        "/api/jobs/{job_id}": {
            "get": op(
                "job",
                TAG,
                "a job's state and progress; when done, the before/after summary and result URL",
                {**ok({"$ref": "#/components/schemas/job"}), **errors(401, 403, 404)},
                params=[JOB_ID],
                security=STAFF,
            )
        },
        "/api/jobs/{job_id}/result": {
            "get": op(
                "job-result",
                TAG,
                "the plan as GeoJSON (which=after|before) or a GeoPackage (f=gpkg)",
                {
                    "200": {
                        "description": "the plan",
                        "content": {
                            "application/geo+json": {"schema": {"type": "object"}},
                            "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    **errors(400, 401, 403, 404),
                },
                params=[
                    JOB_ID,
                    query("f", {"type": "string", "enum": ["geojson", "gpkg"]}, "format"),
                    query("which", {"type": "string", "enum": ["after", "before"]}, "proposed or today's grids"),
                ],
                security=STAFF,
            )
        },
        "/redraw": {"get": op("redraw-page", "pages", "the redraw page", html("the page"))},
    }
