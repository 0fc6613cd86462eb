"""Risk of every building, compound and grid: a 0-100 score, a level, and the factors that make it up.

A building's score is the sum of its factor points, capped at 100. Each factor is either a fact about the
building (its compound's property state, its age, elderly living alone) or a count of incidents at it (open,
overdue, fire hazards and flying-line charging in the last WINDOW days, repeats of one category); counts earn
`each` points per incident up to `max`. Every factor's points grow with its count, so adding an incident never
lowers a score. A compound's or grid's factor points are the household-weighted mean of its buildings' points
(so it reads as "the risk of a typical home there"), and its score is their sum, capped at 100.

Weights come from the RISK_WEIGHTS setting (JSON, overlaid on DEFAULT_WEIGHTS below); see docs/dashboard.md.
Results are cached per twin for (incidents version, static layer versions, weights, minute of `now`).
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .access import coarse_counts
from .errors import InvalidInput
from .incidents.timeliness import is_open
from .settings import json_setting
from .times import now_of, to_utc

log = logging.getLogger(__name__)

LEVELS = ("low", "medium", "high", "critical")

DEFAULT_WEIGHTS: dict = {
    # points by the property-management state of the building's compound
    "property_state": {"unmanaged": 30, "fallback": 12, "self": 10, "welfare": 8, "company": 0},
    # no owners' committee in the compound: nobody to call when something breaks
    "no_owners_committee": 4,
    # build age: 0 points up to from_years, rising linearly to `points` at full_years and beyond
    "build_age": {"points": 15, "from_years": 20, "full_years": 50},
    # households of elderly people living alone in the building
    "elderly_alone": {"each": 4, "max": 12},
    # incidents at the building: open now, overdue now, and in the last window_days by category
    "open_incidents": {"each": 3, "max": 12},
    "overdue_incidents": {"each": 8, "max": 24},
    "fire_hazard": {"each": 10, "max": 20},
    "flying_line_charging": {"each": 8, "max": 16},
    # every incident beyond the first of the same category at the building within the window
    "repeat_incidents": {"each": 5, "max": 15},
    "window_days": 90,
    # lower bounds of the levels above low
    "levels": {"medium": 25, "high": 50, "critical": 75},
}

# Factor codes, in the order they are listed when points tie.
FACTORS = (
    "property_state",
    "no_owners_committee",
    "build_age",
    "elderly_alone",
    "open_incidents",
    "overdue_incidents",
    "fire_hazard",
    "flying_line_charging",
    "repeat_incidents",
)
COUNTED = FACTORS[FACTORS.index("elderly_alone") :]  # the factors that count people or incidents
TOP_FACTORS = 4


@dataclass(frozen=True)
class RiskScores:
    """Scores of every building, compound and grid (DataFrames indexed by id: score, level, factors, ...)."""

    buildings: pd.DataFrame
    compounds: pd.DataFrame
    grids: pd.DataFrame
    weights: dict
    now: pd.Timestamp
    key: tuple


def parse_weights(raw=None) -> dict:
    """DEFAULT_WEIGHTS overlaid by `raw` (the RISK_WEIGHTS setting: JSON text or a dict); InvalidInput if malformed."""
    w = copy.deepcopy(DEFAULT_WEIGHTS)
    if not raw:
        return w
    raw = json_setting("RISK_WEIGHTS", raw, dict, "object overriding entries of the defaults")
    for key, value in raw.items():
        if key not in w:
            raise InvalidInput(f"RISK_WEIGHTS: unknown entry {key!r}; known: {', '.join(w)}")
        if isinstance(w[key], dict):
            if not isinstance(value, dict):
                raise InvalidInput(f"RISK_WEIGHTS[{key!r}] must be an object like {json.dumps(w[key])}")
            for k, v in value.items():
                if k not in w[key]:
                    raise InvalidInput(f"RISK_WEIGHTS[{key!r}]: unknown entry {k!r}; known: {', '.join(w[key])}")
                w[key][k] = _number(v, f"RISK_WEIGHTS[{key!r}][{k!r}]")
        else:
            w[key] = _number(value, f"RISK_WEIGHTS[{key!r}]")
    lv = w["levels"]
    if not 0 < lv["medium"] < lv["high"] < lv["critical"] <= 100:
        raise InvalidInput("RISK_WEIGHTS levels must rise: 0 < medium < high < critical <= 100")
    if w["build_age"]["full_years"] <= w["build_age"]["from_years"]:
        raise InvalidInput("RISK_WEIGHTS build_age: full_years must be above from_years")
    if w["window_days"] <= 0:
        raise InvalidInput("RISK_WEIGHTS window_days must be positive")
    return w


def _number(v, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1000:
        raise InvalidInput(f"{where} must be a number from 0 to 1000, not {v!r}")
    return float(v)


def level_of(scores, weights: dict) -> np.ndarray:
    """The level (low/medium/high/critical) of each score."""
    lv = weights["levels"]
    s = np.asarray(scores, dtype=float)
    return np.asarray(LEVELS, dtype=object)[np.digitize(s, [lv["medium"], lv["high"], lv["critical"]])]


# --- the model on plain frames -------------------------------------------------------------------------------
def building_points(
    buildings: pd.DataFrame,
    compounds: pd.DataFrame,
    households: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    overdue: np.ndarray | None,
    now,
    weights: dict,
    coarse: bool = False,
) -> pd.DataFrame:
    """Points of every factor for every building (rows aligned with `buildings`, one column per factor).

    `coarse`: for callers who may not see every household, 1-2 elderly living alone count as none
    (twin.access.coarse_counts), so no score or factor divides back to a suppressed count.

    `incidents` needs building_id, category, stage, reported_at; `overdue` is a bool per incident row (from
    twin.incidents.timeliness), or None when no incident is overdue.
    """
    w = weights
    now = to_utc(now)
    ids = pd.Index(buildings["building_id"])
    comp = compounds.set_index("compound_id") if len(compounds) else compounds
    comp_of = buildings["compound_id"]
    pts = pd.DataFrame(0.0, index=ids, columns=list(FACTORS))

    state = comp_of.map(comp["state"]) if len(comp) else pd.Series(None, index=buildings.index)
    pts["property_state"] = state.map(w["property_state"]).fillna(0.0).to_numpy(dtype=float)
    if len(comp) and "has_owners_committee" in comp:
        has = comp_of.map(comp["has_owners_committee"])
        pts["no_owners_committee"] = np.where(has.eq(False).to_numpy(dtype=bool), w["no_owners_committee"], 0.0)

    year = pd.to_numeric(buildings["build_year"], errors="coerce")
    if len(comp) and "build_year" in comp:
        year = year.fillna(pd.to_numeric(comp_of.map(comp["build_year"]), errors="coerce"))
    age = now.year - year.to_numpy(dtype=float)
    a = w["build_age"]
    frac = np.clip((age - a["from_years"]) / (a["full_years"] - a["from_years"]), 0.0, 1.0)
    pts["build_age"] = np.nan_to_num(frac * a["points"], nan=0.0)

    counts = pd.DataFrame(0, index=ids, columns=list(COUNTED))
    if households is not None and len(households) and "elderly_alone" in households:
        eld = households.loc[households["elderly_alone"].fillna(False).astype(bool), "building_id"].value_counts()
        counts["elderly_alone"] = eld.reindex(ids, fill_value=0).to_numpy()
        if coarse:
            counts["elderly_alone"] = coarse_counts(counts["elderly_alone"].to_numpy())
    if incidents is not None and len(incidents):
        inc = incidents[incidents["building_id"].notna()]
        open_ = is_open(inc["stage"])
        counts["open_incidents"] = _count(inc.loc[open_, "building_id"], ids)
        if overdue is not None:
            od = np.asarray(overdue, dtype=bool)[incidents["building_id"].notna().to_numpy()]
            counts["overdue_incidents"] = _count(inc.loc[od & open_, "building_id"], ids)
        since = now - pd.Timedelta(days=float(w["window_days"]))
        reported = pd.to_datetime(inc["reported_at"], utc=True)
        recent = inc[(reported >= since).to_numpy() & (reported <= now).to_numpy()]
        counts["fire_hazard"] = _count(recent.loc[recent["category"] == "fire_hazard", "building_id"], ids)
        counts["flying_line_charging"] = _count(
            recent.loc[recent["category"] == "flying_line_charging", "building_id"], ids
        )
        per_cat = recent.groupby(["building_id", "category"], observed=True).size()
        repeats = (per_cat - 1).clip(lower=0).groupby(level=0).sum()
        counts["repeat_incidents"] = repeats.reindex(ids, fill_value=0).to_numpy()
    for f in COUNTED:
        pts[f] = np.minimum(counts[f].to_numpy(dtype=float) * w[f]["each"], w[f]["max"])
    pts.attrs["counts"] = counts
    return pts


def _count(values: pd.Series, ids: pd.Index) -> np.ndarray:
    return values.value_counts().reindex(ids, fill_value=0).to_numpy()


def table(points: pd.DataFrame, weights: dict, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """score, level and factors (top contributors first, [code, points]) from per-factor points."""
    p = points[list(FACTORS)].to_numpy(dtype=float)
    score = np.minimum(np.round(p.sum(axis=1), 1), 100.0)
    order = np.argsort(-p, axis=1, kind="stable")[:, :TOP_FACTORS]
    names = np.asarray(FACTORS, dtype=object)
    factors = [[[names[j], round(float(row[j]), 1)] for j in o if row[j] > 0] for row, o in zip(p, order)]
    out = pd.DataFrame({"score": score, "level": level_of(score, weights), "factors": factors}, index=points.index)
    if extra is not None:
        out = out.join(extra)
    return out


def aggregate(points: pd.DataFrame, groups: pd.Series, households: pd.Series, ids: pd.Index) -> pd.DataFrame:
    """Household-weighted mean of building factor points per group (rows for every id in `ids`)."""
    wts = pd.to_numeric(households, errors="coerce").fillna(0).clip(lower=1).to_numpy(dtype=float)
    keyed = points[list(FACTORS)].multiply(wts, axis=0)
    keyed.index = groups.to_numpy()
    sums = keyed.groupby(level=0).sum()
    tot = pd.Series(wts, index=groups.to_numpy()).groupby(level=0).sum()
    mean = sums.div(tot, axis=0).reindex(ids).fillna(0.0)
    mean.index = ids
    return mean


def score_frames(buildings, compounds, grids, households, incidents, overdue, now, weights, coarse=False) -> tuple:
    """(buildings, compounds, grids) risk tables from plain frames; see the module docstring."""
    pts = building_points(buildings, compounds, households, incidents, overdue, now, weights, coarse)
    b_extra = pd.DataFrame(
        {
            "compound_id": buildings["compound_id"].to_numpy(),
            "grid_code": buildings.get("grid_code", pd.Series(None, index=buildings.index)).to_numpy(),
        },
        index=pts.index,
    )
    b = table(pts, weights, b_extra)
    hh = buildings["households"].to_numpy()
    out = [b]
    for frame, id_field, group_field in ((compounds, "compound_id", "compound_id"), (grids, "grid_code", "grid_code")):
        ids = pd.Index(frame[id_field]) if frame is not None and len(frame) else pd.Index([], dtype=object)
        groups = buildings[group_field] if group_field in buildings else pd.Series(None, index=buildings.index)
        known = groups.notna().to_numpy()
        mean = aggregate(pts[known], groups[known], pd.Series(hh[known]), ids)
        maxs = b.loc[known, "score"].groupby(groups[known].to_numpy()).max().reindex(ids).fillna(0.0)
        n = groups[known].value_counts().reindex(ids, fill_value=0)
        extra = pd.DataFrame({"max_building_score": maxs.to_numpy(), "buildings": n.to_numpy()}, index=ids)
        out.append(table(mean, weights, extra))
    return tuple(out)


# --- on a twin, cached -------------------------------------------------------------------------------------
_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def score(twin, now=None, weights=None, personal: bool = True) -> RiskScores:
    """Risk of every building, compound and grid of `twin` at `now` (default: the incident clock, to the minute);
    `personal=False` for callers who may not see every household (elderly counts coarsened, see building_points).

    Weights default to the twin's RISK_WEIGHTS setting, so the wall, the planner and `twin query` score alike.
    """
    if weights is None:
        weights = getattr(twin, "settings", {}).get("RISK_WEIGHTS")
    w, w_text = _weights(weights)
    service = getattr(twin, "incidents", None)
    if now is None:
        now = now_of(service).floor("min")
    now = to_utc(now)
    versions = tuple(
        twin.layers[n].version for n in ("buildings", "compounds", "grids", "households") if n in twin.layers
    )
    key = (getattr(service, "version", None), versions, w_text, now.value, personal)
    with _lock:
        hit = _cache.get(twin, {}).get(personal)
    if hit is not None and hit.key == key:
        return hit
    incidents, overdue = incidents_with_overdue(service, now, now - pd.Timedelta(days=float(w["window_days"])))
    b, c, g = score_frames(
        twin.frame("buildings"),
        twin.frame("compounds"),
        twin.frame("grids") if "grids" in twin.layers else None,
        twin.frame("households") if "households" in twin.layers else None,
        incidents,
        overdue,
        now,
        w,
        coarse=not personal,
    )
    result = RiskScores(b, c, g, w, now, key)
    with _lock:
        _cache.setdefault(twin, {})[personal] = result
    log.debug("risk scored: %d buildings, %d compounds, %d grids", len(b), len(c), len(g))
    return result


_parsed: dict = {}  # setting text -> (weights, their JSON): parsed once, not on every score() call


def _weights(raw) -> tuple[dict, str]:
    """The weights of `raw` (parsed weights, a partial dict, or the setting's text) and their JSON (the cache key)."""
    if not (raw is None or isinstance(raw, str)):
        w = raw if isinstance(raw, dict) and "levels" in raw else parse_weights(raw)
        return w, json.dumps(w, sort_keys=True)
    hit = _parsed.get(raw)
    if hit is None:
        w = parse_weights(raw)
        hit = (w, json.dumps(w, sort_keys=True))
        with _lock:
            if len(_parsed) > 16:
                _parsed.clear()
            _parsed[raw] = hit
    return hit


def incidents_with_overdue(service, now, since=None) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """The incidents the model counts at `now` (the open ones and, with `since`, those reported from then on;
    every one without it) and their overdue flags (the service's rule)."""
    if service is None:
        return None, None
    pos = (
        np.arange(len(service))
        if since is None
        else np.union1d(service.open_positions(), service.positions(start=since))
    )
    if not len(pos):
        return service.rows(pos), None
    return service.rows(pos), service.overdue(pos, now)
