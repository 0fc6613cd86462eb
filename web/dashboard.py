"""The wall dashboard: the page, its KPIs and its map data; also the page context every map page's base uses.

Map data is encoded once per data version (web/transport.py) and kept in app.extensions["dashboard_cache"]:
    /api/dashboard/buildings.bin      footprints + static attributes (TWB1), per buildings/compounds/households version
    /api/dashboard/buildings.geojson  the same as plain GeoJSON (the baseline bench/dashboard.py measures against)
    /api/dashboard/risk.bin           risk score, level and top factors per building, per risk.score key
    /api/dashboard/incidents.bin      open incidents and those of the last INCIDENT_DAYS days
                                      (per incidents version+minute)
    /api/dashboard/grids.json         grid outlines, codes and label points, per grids version
    /api/dashboard/kpis               the KPI panel's figures, per incidents version+minute
Nothing here carries personal data: counts of special-care households below 3 are not shown (twin.access).
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, current_app, render_template, request

from twin import risk, vocab
from twin.access import PUBLIC, SUPPRESS_BELOW, may_see_incidents
from twin.incidents.kpis import kpis as incident_kpis

from . import get_twin, http
from .geojson import VersionCache, dumps, feature_collection
from .reports import hotspot_rule
from .transport import QUANTUM, Blob, offsets, origin_of, outer_rings, pack, quantized_rings, send

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__)
http.install(bp)

LANGS = ("zh", "en")
INCIDENT_DAYS = 30  # incidents shown besides the open ones: those reported in the last month
NONE = 255  # "no value" in uint8 code arrays
STATES = tuple(vocab.PROPERTY_STATES)
STAGES = tuple(vocab.INCIDENT_STAGES)
CATEGORIES = tuple(vocab.INCIDENT_CATEGORIES)
DECADE_EDGES = (1970, 1980, 1990, 2000, 2010, 2020)  # → 7 bins: before 1970, 1970s, ..., 2020 and later
CARE_EDGES = (0.10, 0.20, 0.35)  # share of special-care households → bins 1..4 (0 = fewer than 3 households)

PAGE_STRINGS = {
    "zh": {"app_title": "社区数字孪生"},
    "en": {"app_title": "Community digital twin"},
}


# --- the page context of every map page ------------------------------------------------------------------------
def page_lang() -> str:
    """The language of the page asked for: ?lang=zh|en, else the DEFAULT_LANG setting, else Chinese."""
    lang = request.args.get("lang") or current_app.config.get("DEFAULT_LANG") or "zh"
    return lang if lang in LANGS else "zh"


@lru_cache(maxsize=1)
def vocab_tables() -> dict:
    """Every vocabulary as code → [zh, en] for scripts (Twin.label)."""
    tables = {
        "property_states": vocab.PROPERTY_STATES,
        "building_uses": vocab.BUILDING_USES,
        "grid_types": vocab.GRID_TYPES,
        "incident_sources": vocab.INCIDENT_SOURCES,
        "incident_stages": vocab.INCIDENT_STAGES,
        "escalation_levels": vocab.ESCALATION_LEVELS,
        "incident_categories": vocab.INCIDENT_CATEGORIES,
        "six_nos": vocab.SIX_NOS,
    }
    return {name: {code: list(entry[:2]) for code, entry in table.items()} for name, table in tables.items()}


def page_config(lang: str) -> dict:
    """What base.html hands to scripts as Twin.config: language, refresh, base map, vocabularies, strings."""
    cfg = current_app.config
    return {
        "lang": lang,
        "refreshSeconds": max(1, int(cfg.get("REFRESH_SECONDS") or 30)),
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


def map_bounds(twin) -> np.ndarray:
    """(minx, miny, maxx, maxy) a map page opens on: the communities, else the buildings."""
    return twin.frame("communities" if "communities" in twin.layers else "buildings").total_bounds


# --- the page --------------------------------------------------------------------------------------------------
@bp.get("/dashboard")
def page():
    """The wall dashboard (full screen, Chinese by default, ?lang=en; ?transport=geojson for the baseline)."""
    bounds = map_bounds(get_twin())
    transport = "geojson" if request.args.get("transport") == "geojson" else "binary"
    extra = {
        "bbox": [round(float(v), 6) for v in bounds],
        "transport": transport,
        "factors": list(risk.FACTORS),
        "levels": list(risk.LEVELS),
    }
    return render_template("dashboard.html", page_extra=extra)


# --- cached encodings ------------------------------------------------------------------------------------------
def _cache() -> VersionCache:
    app = current_app
    if "dashboard_cache" not in app.extensions:
        app.extensions["dashboard_cache"] = VersionCache(size=16)
    return app.extensions["dashboard_cache"]


def _static_version(twin, *names) -> tuple:
    return tuple(twin.layers[n].version for n in names if n in twin.layers)


def _minute(twin) -> pd.Timestamp:
    service = twin.incidents
    now = service.now() if service is not None else pd.Timestamp.now(tz="UTC")
    return now.floor("min")


def _incident_version(twin):
    return getattr(twin.incidents, "version", None)


@bp.get("/api/dashboard/buildings.bin")
def buildings_bin():
    """Building footprints and their static attributes in the compact TWB1 transport."""
    twin = get_twin()
    version = _static_version(twin, "buildings", "compounds", "households")
    return send(_cache().get("buildings.bin", version, lambda: Blob.of(encode_buildings(twin), "b", version)))


@bp.get("/api/dashboard/buildings.geojson")
def buildings_geojson():
    """The same buildings as plain GeoJSON (the baseline the compact transport is measured against)."""
    twin = get_twin()
    version = _static_version(twin, "buildings", "compounds", "households")
    return send(
        _cache().get(
            "buildings.geojson",
            version,
            lambda: Blob.of(buildings_geojson_text(twin), "bg", version, mimetype="application/geo+json"),
        )
    )


@bp.get("/api/dashboard/risk.bin")
def risk_bin():
    """Risk score, level and top factors of every building (in buildings.bin order), TWB1."""
    twin = get_twin()
    scores = risk.score(twin, weights=current_app.config.get("RISK_WEIGHTS"))
    return send(_cache().get("risk.bin", scores.key, lambda: Blob.of(encode_risk(twin, scores), "r", scores.key)))


@bp.get("/api/dashboard/incidents.bin")
def incidents_bin():
    """Open incidents and those of the last INCIDENT_DAYS days: position, stage, overdue, category, time."""
    twin = get_twin()
    key = (_incident_version(twin), _minute(twin).value)
    return send(_cache().get("incidents.bin", key, lambda: Blob.of(encode_incidents(twin, key[1]), "i", key)))


@bp.get("/api/dashboard/grids.json")
def grids_json():
    """Grid outlines (paths), codes, names and label points."""
    twin = get_twin()
    version = _static_version(twin, "grids")
    return send(
        _cache().get(
            "grids.json", version, lambda: Blob.of(grids_text(twin), "g", version, mimetype="application/json")
        )
    )


@bp.get("/api/dashboard/kpis")
def kpis_view():
    """The KPI panel's figures (see kpis())."""
    twin = get_twin()
    key = (_incident_version(twin), _minute(twin).value)
    return send(
        _cache().get(
            "kpis",
            key,
            lambda: Blob.of(dumps(kpis(twin, pd.Timestamp(key[1], tz="UTC"))), "k", key, mimetype="application/json"),
        )
    )


# --- encoders --------------------------------------------------------------------------------------------------
def building_attributes(twin) -> pd.DataFrame:
    """Per building (frame order): name, compound, floors, households, height, state, decade and care bins."""
    b = twin.frame("buildings")
    c = twin.frame("compounds")
    comp = c.set_index("compound_id")
    pos = pd.Index(c["compound_id"]).get_indexer(b["compound_id"])
    state = b["compound_id"].map(comp["state"]).map({s: i for i, s in enumerate(STATES)})
    year = pd.to_numeric(b["build_year"], errors="coerce")
    year = year.fillna(pd.to_numeric(b["compound_id"].map(comp["build_year"]), errors="coerce"))
    decade = np.where(year.isna(), NONE, np.digitize(year.fillna(0).to_numpy(), DECADE_EDGES))
    households = pd.to_numeric(b["households"], errors="coerce").fillna(0).to_numpy()
    floors = pd.to_numeric(b["floors"], errors="coerce").fillna(1).to_numpy()
    height = pd.to_numeric(b["height_m"], errors="coerce")
    height = height.fillna(pd.Series(floors * 3.0, index=b.index)).to_numpy()
    return pd.DataFrame(
        {
            "name": b["name"].fillna(b["building_id"]).astype(str).to_numpy(),
            "compound": pos,
            "floors": floors,
            "households": households,
            "height": height,
            "state": state.fillna(NONE).to_numpy(dtype=np.int64),
            "decade": decade,
            "care": care_bins(twin, households),
        }
    )


def care_bins(twin, households: np.ndarray) -> np.ndarray:
    """Special-care density bin per building: 0 when fewer than 3 such households (never shown), else by share."""
    b = twin.frame("buildings")
    if "households" not in twin.layers:
        return np.zeros(len(b), dtype=np.int64)
    h = twin.frame("households")
    flags = np.zeros(len(h), dtype=bool)
    for col in ("elderly_alone", "key_group"):
        if col in h:
            flags |= h[col].fillna(False).astype(bool).to_numpy()
    n = h.loc[flags, "building_id"].value_counts().reindex(b["building_id"], fill_value=0).to_numpy()
    share = n / np.maximum(households, 1)
    bins = 1 + np.digitize(share, CARE_EDGES)
    return np.where(n < SUPPRESS_BELOW, 0, bins)


def compound_names(twin) -> list[str]:
    """Name of each compound (frame order, as building_attributes' "compound" positions), else its id."""
    c = twin.frame("compounds")
    return c["name"].fillna(c["compound_id"]).astype(str).tolist()


def encode_buildings(twin) -> bytes:
    """buildings.bin: footprints (outer rings, quantized: transport.quantized_rings) + attributes + name tables."""
    b = twin.frame("buildings")
    coords, starts = outer_rings(b.geometry.values)
    origin = origin_of(coords)
    a = building_attributes(twin)
    header = {
        "layer": "buildings",
        "count": len(b),
        "origin": origin,
        "quantum": QUANTUM,
        "names": a["name"].tolist(),
        "compounds": compound_names(twin),
        "states": list(STATES),
        "decades": len(DECADE_EDGES) + 1,
        "care_edges": list(CARE_EDGES),
    }
    rings = quantized_rings(coords, starts, origin)
    arrays = {
        **(rings if rings is not None else {"positions": offsets(coords, origin), "starts": starts}),
        "height": a["height"].to_numpy(dtype=np.float32),
        "floors": np.clip(a["floors"], 0, 65535).astype(np.uint16),
        "households": np.clip(a["households"], 0, 65535).astype(np.uint16),
        "state": a["state"].to_numpy().astype(np.uint8),
        "decade": a["decade"].astype(np.uint8),
        "care": a["care"].astype(np.uint8),
        "compound": a["compound"].astype(np.int32),
    }
    return pack(header, arrays, {"positions": 2, "ring_first": 2, "ring_steps": 2})


def buildings_geojson_text(twin) -> str:
    """The buildings as a GeoJSON FeatureCollection with the same attributes buildings.bin carries."""
    b = twin.frame("buildings")
    a = building_attributes(twin)
    names = compound_names(twin)
    geoms = shapely.to_geojson(shapely.transform(b.geometry.values, lambda xy: np.round(xy, 7))).tolist()
    feats = []
    for i, row in enumerate(a.itertuples(index=False)):
        props = {
            "name": row.name,
            "compound": names[row.compound] if row.compound >= 0 else None,
            "floors": int(row.floors),
            "households": int(row.households),
            "height": round(float(row.height), 1),
            "state": STATES[row.state] if row.state != NONE else None,
            "decade": int(row.decade),
            "care": int(row.care),
        }
        feats.append(f'{{"type":"Feature","geometry":{geoms[i]},"properties":{dumps(props)}}}')
    return feature_collection(feats, {"layer": "buildings", "states": list(STATES)})


def encode_risk(twin, scores) -> bytes:
    """risk.bin: per building score (uint8), level, and top-3 factor codes and points; counts per level."""
    b = twin.frame("buildings")
    r = scores.buildings.reindex(b["building_id"])
    n = len(b)
    factor_ix = {f: i for i, f in enumerate(risk.FACTORS)}
    codes = np.full((n, 3), NONE, dtype=np.uint8)
    points = np.zeros((n, 3), dtype=np.uint8)
    for i, factors in enumerate(r["factors"].tolist()):
        for j, (code, pts) in enumerate((factors or [])[:3]):
            codes[i, j] = factor_ix[code]
            points[i, j] = min(255, int(round(pts)))
    level_ix = {lv: i for i, lv in enumerate(risk.LEVELS)}
    level = r["level"].map(level_ix).fillna(0).to_numpy().astype(np.uint8)
    counts = {lv: int((level == i).sum()) for lv, i in level_ix.items()}
    header = {
        "layer": "risk",
        "count": n,
        "levels": list(risk.LEVELS),
        "factors": list(risk.FACTORS),
        "by_level": counts,
        "at": scores.now.isoformat(),
    }
    arrays = {
        "score": np.clip(np.round(r["score"].fillna(0).to_numpy()), 0, 100).astype(np.uint8),
        "level": level,
        "factor": codes.ravel(),
        "points": points.ravel(),
    }
    return pack(header, arrays, {"factor": 3, "points": 3})


def shown_incidents(twin, now: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray]:
    """Incidents on the map at `now`: every open one and those reported in the last INCIDENT_DAYS days.

    Care incidents (SOS, visits) are left off this public map: their place points at a household. KPIs count them.
    """
    service = twin.incidents
    if service is None:
        return pd.DataFrame(columns=["lon", "lat", "stage", "category", "reported_at"]), np.zeros(0, dtype=bool)
    pos = np.union1d(service.open_positions(), service.positions(start=now - pd.Timedelta(days=INCIDENT_DAYS)))
    frame = service.rows(pos)
    has_xy = frame["lon"].notna().to_numpy() & frame["lat"].notna().to_numpy()
    public = may_see_incidents(
        PUBLIC, frame["category"].to_numpy(dtype=object), frame["grid_code"].to_numpy(dtype=object)
    )
    keep = has_xy & public
    return frame[keep], service.overdue(pos[keep], now)


def encode_incidents(twin, now_ns: int) -> bytes:
    """incidents.bin: position offsets, stage, overdue flag, category and report time (epoch seconds)."""
    now = pd.Timestamp(now_ns, tz="UTC")
    sub, overdue = shown_incidents(twin, now)
    coords = sub[["lon", "lat"]].to_numpy(dtype=np.float64)
    origin = origin_of(coords)
    stage_ix = {s: i for i, s in enumerate(STAGES)}
    cat_ix = {c: i for i, c in enumerate(CATEGORIES)}
    reported = pd.to_datetime(sub["reported_at"], utc=True)
    header = {
        "layer": "incidents",
        "count": len(sub),
        "origin": origin,
        "stages": list(STAGES),
        "categories": list(CATEGORIES),
        "days": INCIDENT_DAYS,
        "at": now.isoformat(),
        "overdue": int(overdue.sum()),
    }
    arrays = {
        "positions": offsets(coords, origin),
        "stage": sub["stage"].map(stage_ix).fillna(0).to_numpy().astype(np.uint8),
        "overdue": overdue.astype(np.uint8),
        "category": sub["category"].map(cat_ix).fillna(NONE).to_numpy().astype(np.uint8),
        "reported": (reported.astype("int64") // 10**9).clip(lower=0).to_numpy().astype(np.uint32),
    }
    return pack(header, arrays, {"positions": 2})


def grids_text(twin) -> str:
    """grids.json: {"grids": [{code, name, type, community, paths: [[[lon, lat], ...]], label: [lon, lat]}]}."""
    if "grids" not in twin.layers:
        return dumps({"grids": []})
    g = twin.frame("grids")
    out = []
    labels = shapely.point_on_surface(g.geometry.values)
    for row, geom, lab in zip(g.itertuples(index=False), g.geometry.values, labels):
        paths = []
        for part in shapely.get_parts(geom):
            if part.geom_type == "Polygon":
                paths.append(np.round(np.asarray(part.exterior.coords)[:, :2], 6).tolist())
        out.append(
            {
                "code": row.grid_code,
                "name": row.name,
                "type": getattr(row, "type", None),
                "community": row.community_id,
                "paths": paths,
                "label": [round(lab.x, 6), round(lab.y, 6)] if lab is not None and not lab.is_empty else None,
            }
        )
    return dumps({"grids": out})


# --- KPIs ------------------------------------------------------------------------------------------------------
def kpis(twin, now: pd.Timestamp) -> dict:
    """The KPI panel's figures (twin.incidents.kpis) with the app's hotspot rule."""
    return incident_kpis(twin.incidents, now, hotspot_rule())
