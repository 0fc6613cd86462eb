"""OpenAPI of the assets blueprint: the vendored map library."""

from __future__ import annotations

from . import binary, op


def paths() -> dict:
    """/vendor/deckgl.js."""
    return {
        "/vendor/deckgl.js": {
            "get": op("deckgl", "pages", "the deck.gl bundle the pages load", binary("text/javascript", "JS"))
        }
    }
