"""OpenAPI of the session blueprint: the sign-in page and form, sign-out (people; machines use bearer tokens)."""

from __future__ import annotations

from . import STRING, errors, html, obj, op, query

PAGE = {"text/html": {"schema": STRING}}
FORM = obj(
    {
        "name": STRING,
        "password": STRING,
        "csrf_token": {**STRING, "description": "the token in the form GET /login served"},
        "next": {**STRING, "description": "a local path to go to after sign-in"},
    }
)


def _page(status: str, what: str) -> dict:
    return {status: {"description": what, "content": PAGE}}


def paths() -> dict:
    """/login (GET the form, POST it) and /logout."""
    seen_other = {"303": {"description": "signed in (or out): go to the Location"}}
    return {
        "/login": {
            "get": op(
                "login-page",
                "session",
                "the sign-in page",
                html("the sign-in form"),
                params=[query("next", STRING, "where to go after")],
            ),
            "post": op(
                "login",
                "session",
                "sign in with name and password (the form's CSRF token)",
                {
                    **seen_other,
                    **errors(401, 403, 413),
                    "400": {  # a browser's form gets the form again with the message; an API client the JSON body
                        "description": "a bad form: the form again with the message (or the JSON error body)",
                        "content": {**PAGE, "application/json": {"schema": {"$ref": "#/components/schemas/error"}}},
                    },
                    **_page("429", "locked after too many wrong tries (the form again, for a browser)"),
                },
                body={
                    "required": True,
                    "description": "the sign-in form",
                    "content": {"application/x-www-form-urlencoded": {"schema": FORM}},
                },
            ),
        },
        "/logout": {
            "post": op(
                "logout",
                "session",
                "sign out (with the session's CSRF token when signed in)",
                {**seen_other, **errors(403)},
            )
        },
    }
