"""Front-end assets served from the package (no CDN): deck.gl from pydeck's bundle, and web/static."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, send_file

from twin.errors import NotFound

bp = Blueprint("assets", __name__)


@lru_cache(maxsize=1)
def deck_bundle_path() -> Path:
    """Path of the deck.gl bundle that pydeck ships (a UMD script exposing deck.gl and pydeck's createDeck)."""
    import pydeck

    path = Path(pydeck.__file__).parent / "nbextension" / "static" / "index.js"
    if not path.exists():
        raise NotFound(f"pydeck's deck.gl bundle is missing at {path}; reinstall pydeck")
    return path


@bp.get("/vendor/deckgl.js")
def deckgl():
    """deck.gl, from the installed pydeck package, cached by browsers for a day."""
    return send_file(deck_bundle_path(), mimetype="text/javascript", max_age=86400, conditional=True)
