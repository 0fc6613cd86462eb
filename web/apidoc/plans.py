"""OpenAPI of the plans blueprint (issue 19): a redraw's hand-over, adopting a plan, the plan history and rollback.

(Written for web.apidoc as on main, one module per blueprint; on branch adopt the package itself is not there yet.)
"""

from __future__ import annotations

from . import NSTRING, NUMBER, STAFF, STRING, errors, json_body, obj, ok, op, path, query

TAG = "plans"
JOB_ID = path("job_id", "the redraw job's id")
PLAN_ID = path("plan_id", "the plan's id")
KEEP = query("keep", NUMBER, "a point of the frontier (the run's own keep when absent)")
PLAN = obj(
    {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["baseline", "published", "rolled_back"]},
        "effective_date": NSTRING,
        "created_at": STRING,
        "created_by": STRING,
        "source": STRING,
        "summary": {"type": "object"},
        "url": STRING,
        "rollback_url": STRING,
        "in_force": {"type": "boolean"},
    },
    ("id", "status", "url"),
)
SCHEMAS = {"gridPlan": PLAN}


def paths() -> dict:
    """/api/jobs/{job_id}/handover, /api/jobs/{job_id}/adopt, /api/plans, /api/plans/{plan_id}[/rollback]."""
    plan = {"$ref": "#/components/schemas/gridPlan"}
    return {
        "/api/jobs/{job_id}/handover": {
            "get": op(
                "job-handover",
                TAG,
                "who hands over what under the plan: moves per old → new grid and per grid worker (JSON, CSV, XLSX, "
                "or GeoJSON footprints of the moved buildings)",
                {
                    "200": {
                        "description": "the hand-over",
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                            "application/geo+json": {"schema": {"type": "object"}},
                        },
                    },
                    **errors(400, 401, 403, 404),
                },
                params=[
                    JOB_ID,
                    KEEP,
                    query("f", {"type": "string", "enum": ["json", "csv", "xlsx", "geojson"]}, "format"),
                    query("lang", {"type": "string", "enum": ["zh", "en"]}, "language of the table headers"),
                ],
                security=STAFF,
            )
        },
        "/api/jobs/{job_id}/adopt": {
            "post": op(
                "job-adopt",
                TAG,
                "publish the job's plan (admins): in force from effective_date (today when absent)",
                {**ok(plan, description="published", status=201), **errors(400, 401, 403, 404, 409)},
                params=[JOB_ID],
                body=json_body(
                    obj({"effective_date": {"type": "string", "format": "date"}, "keep": NUMBER}, extra=False),
                    "when, and which point of the frontier",
                    required=False,
                ),
                security=STAFF,
            )
        },
        "/api/plans": {
            "get": op(
                "plans",
                TAG,
                "every grid plan, newest first, each marked in_force",
                {**ok(obj({"plans": {"type": "array", "items": plan}, "today": STRING})), **errors(409)},
            )
        },
        "/api/plans/{plan_id}": {
            "get": op(
                "plan",
                TAG,
                "one plan's grids as GeoJSON, its record in metadata",
                {**ok({"type": "object"}, media="application/geo+json"), **errors(404, 409)},
                params=[PLAN_ID],
            )
        },
        "/api/plans/{plan_id}/rollback": {
            "post": op(
                "plan-rollback",
                TAG,
                "roll an adopted plan back (admins): kept in the history, the plan before it in force again",
                {**ok(plan), **errors(401, 403, 404, 409)},
                params=[PLAN_ID],
                security=STAFF,
            )
        },
    }
