"""OpenAPI of the alerts blueprint: the short-polled alert feed of the work queue and the wall."""

from __future__ import annotations

from . import INTEGER, STAFF, errors, obj, ok, op, query


def paths() -> dict:
    """/api/alerts (staff and admins)."""
    return {
        "/api/alerts": {
            "get": op(
                "alerts",
                "work",
                "alerts after a sequence number: new incidents, SOS, newly overdue (poll every few seconds)",
                {**ok(obj({"seq": INTEGER, "alerts": {"type": "array"}})), **errors(400, 401, 403)},
                params=[query("since", INTEGER, "the last seq the page saw (none: start from now)")],
                security=STAFF,
            )
        }
    }
