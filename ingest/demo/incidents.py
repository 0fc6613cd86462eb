"""A year of work orders: categories, sources and places per DOMAIN.md, stage times under the "三个一" limits."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from twin.vocab import INCIDENT_CATEGORIES

from .names import person_names, phones

log = logging.getLogger(__name__)

# Incidents per household per year relative to a company-managed compound: the hotspots are unmanaged compounds.
STATE_RATE = {"company": 0.6, "fallback": 1.3, "welfare": 1.2, "self": 1.1, "unmanaged": 2.6}
OLD_RATE = 1.25  # old compounds (before 2000) report more: failing pipes, roofs, drains

CATEGORIES = list(INCIDENT_CATEGORIES)
# Base mix and the mix in unmanaged/fallback compounds (weights, normalised below).
MIX = {
    "garbage": (14, 22),
    "illegal_structure": (4, 8),
    "flying_line_charging": (5, 9),
    "fire_hazard": (3, 5),
    "subsidence": (1, 2),
    "roof_leak": (3, 7),
    "heating_pipe": (5, 7),
    "elevator": (4, 1),
    "water_leak": (4, 5),
    "drain": (5, 8),
    "manhole": (2, 3),
    "lighting": (5, 5),
    "parking": (12, 6),
    "neighbour_dispute": (7, 6),
    "fee_arrears": (6, 3),
    "security": (3, 3),
    "petition": (1, 2),
    "sos": (2, 2),
    "care_visit": (6, 6),
}
INDOOR = {
    "roof_leak",
    "heating_pipe",
    "elevator",
    "water_leak",
    "neighbour_dispute",
    "fee_arrears",
    "sos",
    "care_visit",
    "fire_hazard",
    "flying_line_charging",
}
PRIORITY = {
    "sos": 9,
    "fire_hazard": 7,
    "subsidence": 6,
    "security": 6,
    "flying_line_charging": 6,
    "elevator": 5,
    "manhole": 5,
    "water_leak": 4,
    "heating_pipe": 4,
    "petition": 4,
    "roof_leak": 3,
    "drain": 3,
}
SOURCES = ["hotline_12345", "hotline_local", "patrol", "app", "camera", "sensor", "visit"]
SOURCE_P = np.array([0.30, 0.10, 0.25, 0.20, 0.08, 0.02, 0.05])
CAMERA_SEEN = {"garbage", "parking", "illegal_structure", "flying_line_charging"}
LEVELS = np.array(["grid", "community", "department"], dtype=object)
HARD = {"subsidence", "heating_pipe", "petition", "water_leak"}  # often need a department
# Share of the last PENDING_DAYS' work orders still unresolved at the year's end, by level: hard matters handed to
# departments wait weeks for works or funds, so the dashboard opens on a few open and overdue orders.
PENDING_DAYS = 60
PENDING_P = {"department": 0.35, "community": 0.05, "grid": 0.0}
HOUR_P = np.array([1, 0.5, 0.3, 0.3, 0.4, 1, 3, 6, 9, 10, 9, 7, 5, 6, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2], float)
LOCAL = "Asia/Shanghai"


def generate(
    rng: np.random.Generator,
    n: int,
    end: pd.Timestamp,
    compounds: pd.DataFrame,
    buildings: pd.DataFrame,
    households: pd.DataFrame,
    years: int = 1,
) -> pd.DataFrame:
    """`n` incidents in the `years` years before `end` (metric x/y columns plus the incidents schema fields).

    compounds: metric geometry, state, old, households; buildings (sorted by compound): metric geometry,
    compound position `cpos`, households, floors, building_id, name. grid_code is left for the caller to fill
    from the final (rounded) grids.
    """
    comp_w = (
        compounds["households"].to_numpy()
        * compounds["state"].map(STATE_RATE).to_numpy()
        * np.where(compounds["old"].to_numpy(), OLD_RATE, 1.0)
    )
    ci = rng.choice(len(compounds), n, p=comp_w / comp_w.sum())
    bi = _building_in_compound(rng, ci, buildings)
    hot = compounds["state"].isin(["unmanaged", "fallback"]).to_numpy()[ci]
    cat = _categories(rng, hot)
    floors = buildings["floors"].to_numpy()[bi]
    cat[(cat == "elevator") & (floors < 8)] = "water_leak"  # no lifts in walk-up blocks

    reported = _report_times(rng, n, end, years)
    heating = np.isin(reported.tz_convert(LOCAL).month, [11, 12, 1, 2, 3])
    cat[(cat == "heating_pipe") & ~heating & (rng.random(n) < 0.8)] = "drain"

    x, y, bi = _places(rng, cat, ci, bi, compounds, buildings)
    order = np.argsort(reported.as_unit("s").asi8, kind="stable")
    reported, cat, ci, bi, x, y = reported[order], cat[order], ci[order], bi[order], x[order], y[order]

    source = _sources(rng, cat)
    level = _levels(rng, cat)
    times = _stage_times(rng, reported, level, end)
    stage = np.select(
        [times[k].notna().to_numpy() for k in ("closed_at", "resolved_at", "on_site_at", "accepted_at")],
        ["closed", "resolved", "on_site", "accepted"],
        "reported",
    ).astype(object)
    rating = _ratings(rng, times, stage)
    comm = compounds["community_id"].to_numpy()[ci]
    hh_id, contact_name, contact_phone = _contacts(rng, cat, source, bi, buildings, households)
    priority = np.array([PRIORITY.get(c, 2) for c in cat]) + (level != "grid")
    labels = np.array([INCIDENT_CATEGORIES[c][0] for c in CATEGORIES], dtype=object)
    where = compounds["name"].to_numpy()[ci] + buildings["name"].to_numpy()[bi]
    desc = where + "：" + labels[pd.Index(CATEGORIES).get_indexer(cat)]
    frame = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "incident_id": [f"GD{k:07d}" for k in range(1, n + 1)],
            "category": cat,
            "source": source,
            "description": desc,
            "stage": stage,
            "level": level,
            "priority": np.minimum(priority, 9).astype(int),
            "reported_at": reported,
            **{k: times[k] for k in ("accepted_at", "on_site_at", "resolved_at", "closed_at")},
            "rating": rating,
            "grid_code": None,
            "community_id": comm,
            "compound_id": compounds["compound_id"].to_numpy()[ci],
            "building_id": buildings["building_id"].to_numpy()[bi],
            "household_id": hh_id,
            "media_url": None,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "contact_email": None,
        }
    )
    log.info("generated %d incidents", n)
    return frame


def _building_in_compound(rng, ci, buildings):
    """A building of each incident's compound, weighted by households (plus one, so non-residential count too)."""
    cpos = buildings["cpos"].to_numpy()
    w = np.cumsum(buildings["households"].to_numpy() + 1.0)
    ncomp = int(cpos.max()) + 1
    start = np.searchsorted(cpos, np.arange(ncomp), side="left")
    stop = np.searchsorted(cpos, np.arange(ncomp), side="right")
    lo = np.where(start > 0, w[start - 1], 0.0)
    hi = w[stop - 1]
    u = lo[ci] + rng.random(len(ci)) * (hi[ci] - lo[ci])
    bi = np.searchsorted(w, u, side="right")
    return np.clip(bi, start[ci], stop[ci] - 1)


def _categories(rng, hot):
    base = np.array([MIX[c][0] for c in CATEGORIES], float)
    worse = np.array([MIX[c][1] for c in CATEGORIES], float)
    cats = np.array(CATEGORIES, dtype=object)
    out = cats[rng.choice(len(cats), len(hot), p=base / base.sum())]
    alt = cats[rng.choice(len(cats), len(hot), p=worse / worse.sum())]
    out[hot] = alt[hot]
    return out


def _report_times(rng, n, end, years: int = 1):
    """Report times over the 365 × `years` days before `end`, busier in daytime (local time)."""
    day = rng.integers(0, 365 * years, n)
    hour = rng.choice(24, n, p=HOUR_P / HOUR_P.sum())
    sec = rng.integers(0, 3600, n)
    start = end.tz_convert(LOCAL).normalize() - pd.Timedelta(days=365 * years)
    offs = day.astype("int64") * 86400 + hour * 3600 + sec
    return pd.DatetimeIndex(start + pd.to_timedelta(offs, unit="s")).tz_convert("UTC")


def _places(rng, cat, ci, bi, compounds, buildings):
    """Indoor matters inside the building; outdoor ones in the compound near it (building re-chosen as nearest)."""
    b = shapely.bounds(buildings.geometry.to_numpy()[bi])
    indoor = np.isin(cat, list(INDOOR))
    n = len(cat)
    ux, uy = rng.uniform(0.1, 0.9, n), rng.uniform(0.1, 0.9, n)
    x = b[:, 0] + ux * (b[:, 2] - b[:, 0])
    y = b[:, 1] + uy * (b[:, 3] - b[:, 1])
    ang = rng.uniform(0, 2 * np.pi, n)
    reach = np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2 + rng.uniform(3, 15, n)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    ox, oy = cx + reach * np.cos(ang), cy + reach * np.sin(ang)
    comp = compounds.geometry.to_numpy()
    shapely.prepare(comp)
    outdoor = ~indoor & shapely.contains_xy(comp[ci], ox, oy)
    builds = buildings.geometry.to_numpy()
    outdoor &= ~shapely.contains_xy(builds[bi], ox, oy)
    x, y = np.where(outdoor, ox, x), np.where(outdoor, oy, y)
    if outdoor.any():
        tree = shapely.STRtree(builds)
        near = tree.query_nearest(shapely.points(ox[outdoor], oy[outdoor]), return_distance=False, all_matches=False)
        nb = near[1][np.argsort(near[0], kind="stable")]
        same = buildings["cpos"].to_numpy()[nb] == ci[outdoor]
        bi = bi.copy()
        bi[np.flatnonzero(outdoor)[same]] = nb[same]
    return x, y, bi


def _sources(rng, cat):
    n = len(cat)
    src = np.array(SOURCES, dtype=object)[rng.choice(len(SOURCES), n, p=SOURCE_P)]
    cam = np.isin(cat, list(CAMERA_SEEN)) & (rng.random(n) < 0.25)
    src[cam] = "camera"
    src[cat == "sos"] = "sensor"
    src[(cat == "water_leak") & (rng.random(n) < 0.4)] = "sensor"
    src[cat == "care_visit"] = "visit"
    src[(src == "camera") & ~np.isin(cat, list(CAMERA_SEEN | {"fire_hazard", "security"}))] = "patrol"
    return src


def _levels(rng, cat):
    hard = np.isin(cat, list(HARD))
    p_easy, p_hard = [0.84, 0.13, 0.03], [0.55, 0.25, 0.20]
    easy = LEVELS[rng.choice(3, len(cat), p=p_easy)]
    tough = LEVELS[rng.choice(3, len(cat), p=p_hard)]
    return np.where(hard, tough, easy)


def _stage_times(rng, reported, level, end):
    """Accepted ≤ 1 min, on site ≤ 1 h, resolved ≤ 1 day for most; a few stall, a few recent hard ones still wait.

    Times after `end` stay empty."""
    n = len(reported)
    slow = np.select([level == "department", level == "community"], [4.0, 2.0], 1.0)
    accept = rng.lognormal(np.log(20), 0.7, n)
    on_site = rng.lognormal(np.log(22 * 60), 0.6, n) * np.sqrt(slow)
    resolve = rng.lognormal(np.log(4 * 3600), 1.0, n) * slow
    close = rng.uniform(2 * 3600, 3 * 86400, n)
    stall = rng.random(n) < 0.006  # work orders that get stuck at some stage for weeks
    which = rng.integers(0, 3, n)
    accept = np.where(stall & (which == 0), accept * 3000, accept)
    on_site = np.where(stall & (which == 1), on_site * 200, on_site)
    resolve = np.where(stall & (which == 2), resolve * 60, resolve)
    t0 = reported.as_unit("s").asi8
    cum = np.cumsum(np.column_stack((accept, on_site, resolve, close)).round(), axis=1).astype("int64")
    end_s = int(end.timestamp())
    recent = t0 > end_s - PENDING_DAYS * 86400
    pending = recent & (rng.random(n) < np.array([PENDING_P[lv] for lv in level]))
    out = {}
    for j, name in enumerate(("accepted_at", "on_site_at", "resolved_at", "closed_at")):
        t = np.where(pending, end_s + 1, t0 + cum[:, j]) if j >= 2 else t0 + cum[:, j]
        ts = pd.to_datetime(t, unit="s", utc=True)
        out[name] = pd.Series(ts).where(t <= end_s)
    return out


def _ratings(rng, times, stage):
    n = len(stage)
    late = (times["resolved_at"] - times["on_site_at"]).dt.total_seconds().to_numpy() > 86400
    good = rng.choice(np.arange(1, 6), n, p=[0.01, 0.02, 0.05, 0.22, 0.70])
    poor = rng.choice(np.arange(1, 6), n, p=[0.08, 0.12, 0.25, 0.30, 0.25])
    r = np.where(late, poor, good).astype(float)
    r[stage != "closed"] = np.nan
    return pd.array(np.where(np.isnan(r), pd.NA, r), dtype="Int64")


def _contacts(rng, cat, source, bi, buildings, households):
    """Hotline and app reports of indoor matters name a household of the building and carry a contact."""
    n = len(cat)
    hh = buildings["households"].to_numpy()
    first = np.concatenate(([0], np.cumsum(hh)[:-1]))
    has = (hh[bi] > 0) & np.isin(cat, list(INDOOR)) & np.isin(source, ["hotline_12345", "hotline_local", "app"])
    pick = first[bi] + (rng.random(n) * np.maximum(hh[bi], 1)).astype(int)
    ids = households["household_id"].to_numpy()
    hid = np.where(has, ids[np.minimum(pick, len(ids) - 1)], None)
    contact = np.isin(source, ["hotline_12345", "hotline_local", "app"])
    names = np.where(contact, person_names(rng, n), None)
    tel = np.where(contact, phones(rng, n), None)
    return hid, names, tel
