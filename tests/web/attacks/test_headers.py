"""Issue 14 item 13: every page (and every other response) carries a Content-Security-Policy without inline
script, nosniff, no framing and a referrer policy; the pages hold no inline script the policy would block."""

from __future__ import annotations

import re

import pytest

from tests.web.attacks.conftest import ADMIN

PAGES = ["/dashboard", "/planner", "/redraw", "/?f=html", "/dashboard?lang=en", "/planner?lang=en", "/redraw?lang=en"]
OTHERS = ["/api/area/places", "/collections", "/open311/v2/services.json", "/vendor/deckgl.js", "/nope", "/api/redraw"]


def directives(csp: str) -> dict:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


def assert_secure(r) -> None:
    csp = directives(r.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers_and_has_no_inline_script(client, path):
    r = client.get(path, headers={"Accept": "text/html", **ADMIN})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert_secure(r)
    html = r.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S | re.I)
    assert scripts
    for attrs, body in scripts:  # each script is a file, or a JSON data block the browser never runs
        assert "src=" in attrs and not body.strip() or 'type="application/json"' in attrs, attrs
    assert re.search(r"\son[a-z]+\s*=", html, re.I) is None  # no inline event handlers
    assert "javascript:" not in html


@pytest.mark.parametrize("path", OTHERS)
def test_other_responses_carry_them_too(client, path):
    assert_secure(client.get(path))
