"""Security headers on every response, set by one after_request hook: a Content-Security-Policy without inline
script, no MIME sniffing, no framing, and a strict referrer policy."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

# Pages load only their own scripts (deck.gl from /vendor/deckgl.js, web/static/*.js); the JSON page config sits in
# a <script type="application/json"> data block, which script-src does not govern. deck.gl needs no 'unsafe-eval'
# (checked in Chromium: tests/web/attacks/test_csp_browser.py). Style attributes stay allowed, <style> elements not:
# the tooltips deck.gl writes as HTML colour their chips with style attributes.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def secure_headers(resp):
    """Add the security headers to `resp` (an after_request hook; headers a view set itself are kept)."""
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
    return resp


def install(app) -> None:
    """Register secure_headers on every response of `app`."""
    app.after_request(secure_headers)
