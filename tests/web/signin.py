"""Signing in a Flask test client through /login, as a browser does (the form's CSRF token included)."""

from __future__ import annotations

import re

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # refusals then come as the form with a message
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def login_token(client) -> str:
    """The CSRF token of the sign-in form (GET /login starts the session that holds it)."""
    return TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)


def sign_in(client, name: str, password: str):
    """POST the sign-in form; the response (303 on success)."""
    data = {"name": name, "password": password, "csrf_token": login_token(client)}
    return client.post("/login", data=data, headers=BROWSER)


def signed_in(app, name: str, role: str, password: str = "pass-word-1", grids=None):
    """A test client signed in as a new account; its CSRF header in `client.csrf` (a dict to pass as headers)."""
    app.extensions["accounts"].add(name, role, password, grids=grids)
    client = app.test_client()
    r = sign_in(client, name, password)
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    page = client.get("/dashboard").get_data(as_text=True)
    client.csrf = {"X-CSRF-Token": META.search(page).group(1)}
    return client
