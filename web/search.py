"""Blueprint 'search': GET /api/search?q= from an index built from start-up on (twin.search), by the caller's role."""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, current_app, jsonify, request

from twin import heap
from twin.errors import InvalidInput
from twin.search import SearchIndex

from . import get_twin
from .auth import current_principal
from .http import lang

log = logging.getLogger(__name__)
bp = Blueprint("search", __name__)

MAX_Q = 200


@bp.record_once
def _build(state) -> None:
    """Build the search index in the background from start-up on: the first answers of a district do not wait for
    it; a search that comes first waits for the build (index()). Household rooms are indexed by the first search of
    someone who may see them (twin.search), so a public process never reads the households for it."""
    app = state.app
    app.extensions["search_lock"] = threading.Lock()
    twin = app.extensions["twin"]

    def build():
        try:
            with app.extensions["search_lock"]:
                if app.extensions.get("search") is None:
                    app.extensions["search"] = SearchIndex(twin)
            heap.release(freeze=heap.frozen())  # the build's scratch; the index joins a frozen start-up heap
        except Exception:  # noqa: BLE001 - e.g. the app is closed meanwhile; the first search builds it and says why
            log.debug("search index not built in the background", exc_info=True)

    threading.Thread(target=build, name="search-index", daemon=True).start()


def index() -> SearchIndex:
    """The app's search index (built again only if the twin was swapped)."""
    with current_app.extensions["search_lock"]:
        ix = current_app.extensions.get("search")
        if ix is None or ix.twin is not get_twin():
            ix = current_app.extensions["search"] = SearchIndex(get_twin())
        return ix


@bp.get("/api/search")
def search():
    """Places, incidents and (for staff of the grid) household rooms matching ?q=, best first, at most ?limit=."""
    q = request.args.get("q")
    if q is None or not q.strip():
        raise InvalidInput("give the text to look for as ?q=", field="q")
    if len(q) > MAX_Q:
        raise InvalidInput(f"q is at most {MAX_Q} characters", field="q")
    try:
        limit = int(request.args.get("limit", 10))
    except ValueError:
        raise InvalidInput("limit must be a whole number from 1 to 50", field="limit") from None
    if not 1 <= limit <= 50:
        raise InvalidInput("limit must be a whole number from 1 to 50", field="limit")
    results = index().search(q, current_principal(), lang(), limit)
    return jsonify({"q": q, "results": results})
