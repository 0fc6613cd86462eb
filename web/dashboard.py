"""The wall dashboard: the page, its KPIs and its map data; also the page context every map page's base uses.

Map data is encoded once per data version (web/transport.py) and kept in app.extensions["dashboard_cache"]:
    /api/dashboard/buildings.bin      footprints + static attributes (TWB1), per buildings/compounds/households version
    /api/dashboard/buildings.geojson  the same as plain GeoJSON (the baseline bench/dashboard.py measures against)
    /api/dashboard/risk.bin           risk score, level and top factors per building, per risk.score key
    /api/dashboard/incidents.bin      open incidents and those of the last INCIDENT_DAYS days
                                      (per incidents version+minute)
    /api/dashboard/timeline.bin       the year of incidents the map may draw, for the time bar (web/timeline.py)
    /api/dashboard/grids.json         grid outlines, codes and label points, per grids version
    /api/dashboard/kpis               the KPI panel's figures, per incidents version+minute
Nothing here carries personal data: counts of special-care households below 3 are not shown (twin.access).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, current_app, render_template, request

from twin import risk, vocab
from twin.access import PUBLIC, SUPPRESS_BELOW, may_see_incidents
from twin.incidents.kpis import kpis as incident_kpis
from twin.incidents.timeliness import DONE_STAGES, timeliness
from twin.times import now_of

from . import get_twin, http
from .auth import current_principal
from .geojson import VersionCache, dumps, feature_collection
from .reports import hotspot_rule
from .timeline import encode_timeline
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
DECADES = tuple(d for d in vocab.BUILD_DECADES if d != "unknown")  # "unknown" travels as NONE
CARE_EDGES = vocab.CARE_EDGES

PAGE_STRINGS = {
    "zh": {"app_title": "社区数字孪生"},
    "en": {"app_title": "Community digital twin"},
}


# --- the page context of every map page ------------------------------------------------------------------------
def page_lang() -> str:
    """The language of the page asked for: ?lang=zh|en, else the DEFAULT_LANG setting, else Chinese."""
    lang = request.args.get("lang") or current_app.config.get("DEFAULT_LANG") or "zh"
    return lang if lang in LANGS else "zh"


def page_config(lang: str) -> dict:
    """What base.html hands to scripts as Twin.config: language, refresh, base map, vocabularies, strings."""
    cfg = current_app.config
    return {
        "lang": lang,
        "refreshSeconds": max(1, int(cfg.get("REFRESH_SECONDS") or 30)),
        "tileUrl": cfg.get("TILE_URL") or "",
        "tileCrs": (cfg.get("TILE_CRS") or "wgs84").lower(),
        "vocab": vocab.tables(),
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
    now = now_of(service)
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
    personal = current_principal().sees_all_personal  # others get elderly counts of 1-2 coarsened (twin.risk)
    scores = risk.score(twin, personal=personal)
    return send(_cache().get("risk.bin", scores.key, lambda: Blob.of(encode_risk(twin, scores), "r", scores.key)))


@bp.get("/api/dashboard/incidents.bin")
def incidents_bin():
    """Open incidents and those of the last INCIDENT_DAYS days: position, stage, overdue, category, time."""
    twin = get_twin()
    p = current_principal()  # staff see the care incidents (SOS, visits) of their grids too
    key = (_incident_version(twin), _minute(twin).value, p.role, tuple(sorted(p.grids or ())))
    return send(_cache().get("incidents.bin", key, lambda: Blob.of(encode_incidents(twin, key[1], p), "i", key)))


@bp.get("/api/dashboard/timeline.bin")
def timeline_bin():
    """The year of incidents the map may draw, with the times of their stages, for the time bar (web/timeline.py)."""
    twin = get_twin()
    key = (_incident_version(twin), _minute(twin).value)
    return send(_cache().get("timeline.bin", key, lambda: Blob.of(timeline_blob(twin, key[1]), "t", key)))


def timeline_blob(twin, now_ns: int) -> bytes:
    """timeline.bin of the incidents the public map may draw (web/timeline.py)."""
    service = twin.incidents
    frame = service.frame() if service is not None else None
    if frame is None:
        frame = pd.DataFrame(columns=["lon", "lat", "stage", "category", "grid_code", "reported_at"])
    has_xy = frame["lon"].notna().to_numpy() & frame["lat"].notna().to_numpy()
    return encode_timeline(service, frame[has_xy & public_incidents(frame)], pd.Timestamp(now_ns, tz="UTC"))


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
    decade = pd.Index(DECADES).get_indexer(b["build_decade"]) if "build_decade" in b else np.full(len(b), -1)
    decade = np.where(decade < 0, NONE, decade)
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
    grid_codes = twin.frame("grids")["grid_code"].astype(str).tolist() if "grids" in twin.layers else []
    gpos = pd.Index(grid_codes).get_indexer(b["grid_code"].astype(str)) if "grid_code" in b else np.full(len(b), -1)
    grid_ix = np.where(gpos < 0, 65535, gpos).astype(np.uint16)
    header = {
        "layer": "buildings",
        "count": len(b),
        "origin": origin,
        "quantum": QUANTUM,
        "names": a["name"].tolist(),
        "ids": b["building_id"].astype(str).tolist(),  # for the drill-down (GET /api/buildings/{id}/units)
        "grids": grid_codes,  # the "grid" array indexes this list (the tooltip names the grid and its worker)
        "compounds": compound_names(twin),
        "states": list(STATES),
    }
    rings = quantized_rings(coords, starts, origin)
    arrays = {
        "grid": grid_ix,
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
    ids = b["building_id"].to_numpy()
    grids = b["grid_code"].where(b["grid_code"].notna(), None).tolist() if "grid_code" in b else [None] * len(b)
    geoms = shapely.to_geojson(shapely.transform(b.geometry.values, lambda xy: np.round(xy, 7))).tolist()
    feats = []
    for i, row in enumerate(a.itertuples(index=False)):
        props = {
            "id": str(ids[i]),
            "name": row.name,
            "compound": names[row.compound] if row.compound >= 0 else None,
            "floors": int(row.floors),
            "households": int(row.households),
            "height": round(float(row.height), 1),
            "state": STATES[row.state] if row.state != NONE else None,
            "decade": int(row.decade),
            "care": int(row.care),
            "grid": grids[i],
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


def shown_incidents(twin, now: pd.Timestamp, principal=PUBLIC) -> tuple[pd.DataFrame, np.ndarray]:
    """Incidents on the map at `now`: every open one and those reported in the last INCIDENT_DAYS days, open ones
    first (the page draws resolved and closed ones only when zoomed in).

    Care incidents (SOS, visits) are left off the public map (their place points at a household) and shown to
    staff of their grid. KPIs count them all (hidden_counts() says how many the map leaves off).
    """
    service = twin.incidents
    if service is None:
        return pd.DataFrame(columns=["lon", "lat", "stage", "category", "reported_at"]), np.zeros(0, dtype=bool)
    pos = np.union1d(service.open_positions(), service.positions(start=now - pd.Timedelta(days=INCIDENT_DAYS)))
    frame = service.rows(pos)
    has_xy = frame["lon"].notna().to_numpy() & frame["lat"].notna().to_numpy()
    sub = frame[has_xy & public_incidents(frame, principal)]
    sub = sub.iloc[np.argsort(sub["stage"].isin(DONE_STAGES).to_numpy(), kind="stable")]
    overdue = np.zeros(len(sub), dtype=bool)
    open_sub = ~sub["stage"].isin(DONE_STAGES).to_numpy()
    if open_sub.any():
        t = timeliness(sub[open_sub], service.deadlines, now)
        overdue[open_sub] = t["overdue"].to_numpy(dtype=bool)
        sub = sub.assign(next_due=t["next_due"], late_since=_missed_due(t))
    return sub, overdue


def _missed_due(t: pd.DataFrame) -> pd.Series:
    """The due time an overdue incident missed (NaT when it is not overdue)."""
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns, UTC]")
    for limit in ("accept", "on_site", "resolve"):
        hit = (t["overdue_limit"] == limit).to_numpy()
        out[hit] = t.loc[hit, f"{limit}_due"]
    return out


def _epoch(values) -> np.ndarray:
    """Epoch seconds of UTC times (0 for none), as uint32."""
    ts = pd.to_datetime(pd.Series(values), utc=True)
    return (ts.astype("int64") // 10**9).where(ts.notna(), 0).clip(lower=0).to_numpy().astype(np.uint32)


def public_incidents(frame: pd.DataFrame, principal=PUBLIC) -> np.ndarray:
    """Which incidents the map may draw for `principal` (the public: not the care categories; twin.access)."""
    return may_see_incidents(
        principal, frame["category"].to_numpy(dtype=object), frame["grid_code"].to_numpy(dtype=object)
    )


def suppressed(n: int) -> int | None:
    """`n`, or None when it is a small count (1 or 2) that is not shown."""
    return None if 0 < n < SUPPRESS_BELOW else int(n)


def hidden_counts(twin, now: pd.Timestamp, principal=PUBLIC) -> dict:
    """Open and overdue incidents the KPIs count but the map does not draw: care incidents and those without a
    place (small counts suppressed)."""
    service = twin.incidents
    if service is None or not len(frame := service.frame()):
        return {"open": 0, "overdue": 0}
    is_open = ~frame["stage"].isin(DONE_STAGES).to_numpy()
    has_xy = frame["lon"].notna().to_numpy() & frame["lat"].notna().to_numpy()
    off = frame[is_open & ~(has_xy & public_incidents(frame, principal))]
    overdue = int(timeliness(off, service.deadlines, now)["overdue"].sum()) if len(off) else 0
    return {"open": suppressed(len(off)), "overdue": suppressed(overdue)}


def encode_incidents(twin, now_ns: int, principal=PUBLIC) -> bytes:
    """incidents.bin: position offsets, stage, overdue flag, category and report time (epoch seconds), open ones
    first (header "open" of them); header "hidden": what the KPIs count that the map does not draw."""
    now = pd.Timestamp(now_ns, tz="UTC")
    sub, overdue = shown_incidents(twin, now, principal)
    coords = sub[["lon", "lat"]].to_numpy(dtype=np.float64)
    origin = origin_of(coords)
    stage_ix = {s: i for i, s in enumerate(STAGES)}
    cat_ix = {c: i for i, c in enumerate(CATEGORIES)}
    reported = pd.to_datetime(sub["reported_at"], utc=True)
    header = {
        "layer": "incidents",
        "count": len(sub),
        "open": int((~sub["stage"].isin(DONE_STAGES)).sum()),
        "origin": origin,
        "stages": list(STAGES),
        "categories": list(CATEGORIES),
        "days": INCIDENT_DAYS,
        "at": now.isoformat(),
        "overdue": int(overdue.sum()),
        "ids": sub["incident_id"].astype(str).tolist(),
        "hidden": hidden_counts(twin, now, principal),
    }
    bpos = pd.Index(twin.frame("buildings")["building_id"]).get_indexer(sub["building_id"])
    arrays = {
        "positions": offsets(coords, origin),
        "stage": sub["stage"].map(stage_ix).fillna(0).to_numpy().astype(np.uint8),
        "overdue": overdue.astype(np.uint8),
        "category": sub["category"].map(cat_ix).fillna(NONE).to_numpy().astype(np.uint8),
        "reported": (reported.astype("int64") // 10**9).clip(lower=0).to_numpy().astype(np.uint32),
        "building": bpos.astype(np.int32),  # position in buildings.bin, -1 for none
        "due": _epoch(sub["next_due"] if "next_due" in sub else [None] * len(sub)),  # next deadline, 0 for none
        "late_since": _epoch(sub["late_since"] if "late_since" in sub else [None] * len(sub)),
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
