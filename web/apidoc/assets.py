"""OpenAPI of the assets blueprint: the vendored map library."""

from __future__ import annotations

from . import binary, op, path


def paths() -> dict:
    """/vendor/deckgl.js and its content-hashed name."""
    return {
        "/vendor/deckgl.{digest}.js": {
            "get": op(
                "deckgl-hashed",
                "pages",
                "the deck.gl bundle by content hash (cached a year when the hash is current)",
                binary("text/javascript", "JS"),
                params=[path("digest", "the bundle's content hash")],
            )
        },
        "/vendor/deckgl.js": {
            "get": op("deckgl", "pages", "the deck.gl bundle the pages load", binary("text/javascript", "JS"))
        },
    }
