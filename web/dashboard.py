"""The wall dashboard: the page, its KPIs and its map data; also the page context every map page's base uses."""
from __future__ import annotations

import logging
from functools import lru_cache

from flask import Blueprint, current_app, render_template, request

from twin import vocab

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)

LANGS = ("zh", "en")

PAGE_STRINGS = {
    "zh": {"app_title": "社区数字孪生"},
    "en": {"app_title": "Community digital twin"},
}


def page_lang() -> str:
    """The language of the page asked for: ?lang=zh|en, else the DEFAULT_LANG setting, else Chinese."""
    lang = request.args.get("lang") or current_app.config.get("DEFAULT_LANG") or "zh"
    return lang if lang in LANGS else "zh"


@lru_cache(maxsize=1)
def vocab_tables() -> dict:
    """Every vocabulary as code → [zh, en] for scripts (Twin.label)."""
    tables = {
        "property_states": vocab.PROPERTY_STATES, "building_uses": vocab.BUILDING_USES,
        "grid_types": vocab.GRID_TYPES, "incident_sources": vocab.INCIDENT_SOURCES,
        "incident_stages": vocab.INCIDENT_STAGES, "escalation_levels": vocab.ESCALATION_LEVELS,
        "incident_categories": vocab.INCIDENT_CATEGORIES, "six_nos": vocab.SIX_NOS,
    }
    return {name: {code: list(entry[:2]) for code, entry in table.items()} for name, table in tables.items()}


def page_config(lang: str) -> dict:
    """What base.html hands to scripts as Twin.config: language, refresh, base map, vocabularies, strings."""
    cfg = current_app.config
    return {
        "lang": lang,
        "refreshSeconds": int(cfg.get("REFRESH_SECONDS") or 30),
        "tileUrl": cfg.get("TILE_URL") or "",
        "tileCrs": (cfg.get("TILE_CRS") or "wgs84").lower(),
        "vocab": vocab_tables(),
        "strings": PAGE_STRINGS[lang],
    }


@bp.app_context_processor
def _page_context() -> dict:
    """lang and page_config for every template of the app (base.html needs them)."""
    if not request:
        return {}
    lang = page_lang()
    return {"lang": lang, "page_config": page_config(lang)}


@bp.get("/dashboard")
def page():
    """The wall dashboard (full screen, Chinese by default, ?lang=en)."""
    return render_template("dashboard.html")
