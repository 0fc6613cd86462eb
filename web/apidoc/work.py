"""OpenAPI of the work blueprint: the work queue page, its list and detail, and closing a duplicate."""

from __future__ import annotations

from . import INTEGER, LANG, STAFF, STRING, errors, html, json_body, obj, ok, op, path, query

CSV = "comma-separated codes (or all)"
PARAMS = [
    query("stage", STRING, "open (default), all, or stage codes, " + CSV),
    query("category", STRING, "category codes, " + CSV),
    query("grid", STRING, "grid codes, " + CSV),
    query("source", STRING, "source codes, " + CSV),
    query("overdue", {"type": "string", "enum": ["true", "false"]}, "only overdue (true) or on time (false)"),
    query("from", STRING, "reported from this day, YYYY-MM-DD (office time zone)"),
    query("to", STRING, "reported up to this day, inclusive"),
    query("q", STRING, "text in the number or the description (at most 100 characters)"),
    query("sort", {"type": "string", "enum": ["urgency", "newest", "oldest"]}, "order (urgency by default)"),
    query("page", INTEGER, "page number from 1"),
    query("page_size", INTEGER, "items per page, 1 to 200 (50)"),
    LANG,
]
ID = path("incident_id", "the work-order number")


def paths() -> dict:
    """/work, /api/work, /api/work/{incident_id}, /api/work/{incident_id}/duplicate (staff and admins)."""
    return {
        "/work": {
            "get": op(
                "work-page",
                "work",
                "the work queue page (the public is sent to /login)",
                {**html("the page"), "302": {"description": "not signed in: to /login"}, **errors(401, 403)},
                params=[LANG],
            )
        },
        "/api/work": {
            "get": op(
                "work-list",
                "work",
                "one page of the caller's work queue, filtered and sorted on the server",
                {
                    **ok(obj({"total": INTEGER, "overdue": INTEGER, "items": {"type": "array"}})),
                    **errors(400, 401, 403),
                },
                params=PARAMS,
                security=STAFF,
            )
        },
        "/api/work/{incident_id}": {
            "get": op(
                "work-detail",
                "work",
                "one incident: place, grid worker, time limits, history, allowed actions, duplicates",
                {**ok(obj({"id": STRING, "actions": {"type": "array"}})), **errors(400, 401, 403, 404)},
                params=[ID, LANG],
                security=STAFF,
            )
        },
        "/api/work/{incident_id}/duplicate": {
            "post": op(
                "work-duplicate",
                "work",
                "close an open incident as a duplicate of another (linked both ways)",
                {**ok(obj({"id": STRING})), **errors(400, 401, 403, 404, 409, 413)},
                params=[ID, LANG],
                body=json_body(obj({"of": STRING, "note": STRING}, ("of",)), "the original and a note", form=True),
                security=STAFF,
            )
        },
    }
