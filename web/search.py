"""Blueprint 'search': GET /api/search?q= from an index built once at start-up (twin.search), by the caller's role."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from twin import heap
from twin.errors import InvalidInput
from twin.progress import MIN_ROWS
from twin.search import SearchIndex

from . import get_twin
from .auth import current_principal
from .http import lang

bp = Blueprint("search", __name__)

MAX_Q = 200


@bp.record_once
def _build(state) -> None:
    """Build the search index once, when the app registers this blueprint."""
    ix = state.app.extensions["search"] = SearchIndex(state.app.extensions["twin"])
    heap.release(freeze=len(ix.rooms) >= MIN_ROWS)  # the temporaries of a million household keys


def index() -> SearchIndex:
    """The app's search index (built again only if the twin was swapped)."""
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
