"""OpenAPI of the care blueprint: morning calls to elderly people living alone."""

from __future__ import annotations

from . import BOOLEAN, INTEGER, NSTRING, STAFF, STRING, errors, json_body, obj, ok, op, query

TAG = "care"
CALL = obj(
    {
        "household_id": {"type": "string", "minLength": 1},
        "answered": {"oneOf": [{"type": "boolean"}, {"type": "string"}]},
        "note": STRING,
    },
    ("household_id", "answered"),
    extra=False,
)


def paths() -> dict:
    """/api/care/calls: record a call, list a day's calls."""
    return {
        "/api/care/calls": {
            "post": op(
                "care-call",
                TAG,
                "record one call; the third miss in a row opens a care visit",
                {
                    **ok(
                        obj(
                            {
                                "call": {"type": "object"},
                                "visit": {"type": "object", "nullable": True},
                                "worker": NSTRING,
                            },
                            ("call", "visit"),
                        ),
                        status=201,
                    ),
                    **errors(400, 401, 403, 413),
                },
                body=json_body(CALL, "household, answered (true/false), note", form=True),
                security=STAFF,
            ),
            "get": op(
                "care-calls",
                TAG,
                "the calls of a day (today when absent, office time) in the caller's grids",
                {
                    **ok(
                        obj(
                            {
                                "date": STRING,
                                "timezone": STRING,
                                "summary": obj({k: INTEGER for k in ("calls", "unanswered", "households", "visits")}),
                                "calls": {"type": "array", "items": obj({"answered": BOOLEAN})},
                            },
                            ("date", "summary", "calls"),
                        )
                    ),
                    **errors(400, 401, 403),
                },
                params=[query("date", STRING, "YYYY-MM-DD"), query("household_id", STRING, "one household")],
                security=STAFF,
            ),
        }
    }
