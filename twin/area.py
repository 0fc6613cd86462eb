"""What is in an area: buildings, floor area, people, special care, property states, build decades, compounds,
incidents and risk — answered from the spatial indexes, with edge-straddling buildings counted by a rule.

Straddle rules (parameter `rule`):
  centroid  a building counts wholly when its representative point (shapely point_on_surface, the point its
            households and grid are placed at) lies in the area (boundary included), else not at all;
  area      a building counts by the share of its footprint area inside the area, computed in the metric CRS;
            its floor area, households, people and special-care counts are weighted by the same share.
Incidents are points and count when they lie in the area (boundary included), reported within [start, end].
`query` returns an AreaAnswer holding every figure unsuppressed; `figures(answer, principal)` is what a caller
may see (counts of 1-2 suppressed for public and planner callers; household detail for staff in their grids).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from .access import PUBLIC, SUPPRESS_BELOW, Principal, protect, suppress
from .analytics import analytics, report_summary
from .area_input import Area
from .arrowfile import positions_in
from .errors import InvalidInput
from .heap import release
from .incidents.deadlines import LIMITS
from .incidents.timeliness import NAT
from .times import iso_utc, to_utc

log = logging.getLogger(__name__)

RULES = ("centroid", "area")
WHOLE_SHARE = 0.9999  # a compound this much inside counts as wholly inside (rounding of projected areas)
TOP_RISK = 10
PEOPLE = ("households", "population", "elderly_alone", "floating", "key_group")
HOUSEHOLD_DETAIL = (
    "household_id",
    "building_id",
    "unit",
    "floor",
    "room",
    "size",
    "elderly_alone",
    "floating",
    "key_group",
    "name",
    "phone",
    "grid_code",
    "compound_id",
    "community_id",
)
OVERDUE_FIELDS = (
    "incident_id",
    "category",
    "stage",
    "level",
    "reported_at",
    "grid_code",
    "compound_id",
    "building_id",
    "overdue_limit",
    "next_due",
)


# --- per-twin arrays built once (keyed by layer versions) -----------------------------------------------------
@dataclass
class AreaIndex:
    """Arrays over the twin's buildings and households that every area query reuses."""

    key: tuple
    points_tree: shapely.STRtree  # buildings' representative points
    footprint_m2: np.ndarray
    floors: np.ndarray
    people: dict  # name -> per-building sums over its households (PEOPLE)
    hh_order: np.ndarray  # household positions grouped by building position
    hh_start: np.ndarray  # hh_order[hh_start[b]:hh_start[b + 1]] are building b's households
    hh_count: np.ndarray  # households per building
    state: tuple  # (code per building, names): property state of its compound ("none" when it has none)
    decade: tuple  # (code per building, names in order): "1980s" etc. ("unknown" when no build year)
    boundary_metric: object  # the street's outline in the metric CRS (None when it has no communities)
    ids: np.ndarray  # building_id, name and compound_id per building (object arrays: no per-query conversion)
    id_rank: np.ndarray  # each building_id's place in their sorted order (ties broken by position)
    names: np.ndarray
    compound_ids: np.ndarray
    compound_columns: dict = field(default_factory=dict)  # compound_id, name, state, ... as object arrays
    risk_key: tuple | None = None  # the risk result `risk` was aligned from
    risk: tuple = ()


_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def area_index(twin) -> AreaIndex:
    """The AreaIndex of `twin`, built on first use and rebuilt when a static layer's version changes."""
    key = tuple(twin.layers[n].version for n in ("buildings", "households", "compounds") if n in twin.layers)
    with _LOCK:
        idx = _CACHE.get(twin)
        if idx is None or idx.key != key:
            idx = _build_index(twin, key)
            release(freeze=False)  # the build's scratch over every household
            _CACHE[twin] = idx
        return idx


def _build_index(twin, key) -> AreaIndex:
    b = twin.frame("buildings")
    layer = twin.layer("buildings")
    n = len(b)
    rep = shapely.point_on_surface(b.geometry.values)
    floors = pd.to_numeric(b["floors"], errors="coerce").fillna(1).to_numpy(dtype=float)
    people = {k: np.zeros(n) for k in PEOPLE}
    hh_order, hh_start = np.zeros(0, dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    if "households" in twin.layers and len(twin.frame("households")):
        h = twin.frame("households")
        bpos = positions_in(h["building_id"], b["building_id"])
        people["households"] = np.bincount(bpos, minlength=n).astype(float)
        people["population"] = np.bincount(bpos, weights=_num(h, "size"), minlength=n)
        for flag in ("elderly_alone", "floating", "key_group"):
            people[flag] = np.bincount(bpos, weights=_flag(h, flag), minlength=n)
        hh_order = np.argsort(bpos, kind="stable")
        hh_start = np.searchsorted(bpos[hh_order], np.arange(n + 1))
    state = np.full(n, "none", dtype=object)
    if "compounds" in twin.layers and "compound_id" in b.columns:
        c = twin.frame("compounds")
        states = dict(zip(c["compound_id"], c["state"]))
        state = np.array(
            [states.get(cid, "none") if isinstance(cid, str) else "none" for cid in b["compound_id"]], dtype=object
        )
    decade = b["build_decade"].to_numpy(dtype=object) if "build_decade" in b else np.full(n, "unknown", dtype=object)
    log.info("area index built over %d buildings", n)
    boundary = twin.crs.to_metric(twin.boundary) if twin.boundary is not None else None
    if boundary is not None:
        shapely.prepare(boundary)
    ids = _objects(b["building_id"])
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[np.argsort(ids, kind="stable")] = np.arange(n)
    return AreaIndex(
        key,
        shapely.STRtree(rep),
        shapely.area(layer.index.metric),
        floors,
        people,
        hh_order,
        hh_start,
        np.diff(hh_start),
        _coded(state),
        _coded(decade, sort=True),
        boundary,
        ids,
        id_rank,
        _objects(b["name"]),
        _objects(b["compound_id"]),
        _compound_columns(twin),
    )


COMPOUND_FIELDS = ("compound_id", "name", "state", "community_id", "build_year")


def _compound_columns(twin) -> dict:
    if "compounds" not in twin.layers:
        return {}
    c = twin.frame("compounds")
    return {k: _objects(c[k]) if k in c.columns else np.full(len(c), None, dtype=object) for k in COMPOUND_FIELDS}


def _coded(values, sort: bool = False) -> tuple[np.ndarray, list]:
    """(code per value, the distinct values): codes in order of first appearance, or of the values when `sort`."""
    names = sorted(set(values)) if sort else list(dict.fromkeys(values))
    lookup = {v: i for i, v in enumerate(names)}
    return np.array([lookup[v] for v in values], dtype=np.int64), names


def _objects(column) -> np.ndarray:
    """A column as a numpy object array with None for missing values."""
    return column.astype(object).where(column.notna(), None).to_numpy(dtype=object)


def _num(frame, col) -> np.ndarray:
    return pd.to_numeric(frame[col], errors="coerce").fillna(0).to_numpy(dtype=float)


def _flag(frame, col) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame))
    return frame[col].fillna(False).astype(bool).to_numpy(dtype=float)


# --- the straddle rule ----------------------------------------------------------------------------------------
def building_weights(twin, area: Area, rule: str = "centroid") -> tuple[np.ndarray, np.ndarray]:
    """Positions of the buildings counted in `area` and the weight of each (1 under `centroid`, share under `area`)."""
    if rule not in RULES:
        raise InvalidInput(f"rule must be one of {', '.join(RULES)}, not {rule!r}", parameter="rule")
    idx = area_index(twin)
    if rule == "centroid":
        pos = np.sort(idx.points_tree.query(area.geom, predicate="intersects"))
        return pos, np.ones(len(pos))
    layer = twin.layer("buildings")
    cand = layer.index.intersects(area.geom)
    if not len(cand):
        return cand, np.zeros(0)
    metric = layer.index.metric[cand]
    shapely.prepare(area.metric)
    inside = shapely.contains(area.metric, metric)
    w = np.ones(len(cand))
    edge = ~inside
    if edge.any():
        part = shapely.area(shapely.intersection(metric[edge], area.metric))
        fp = idx.footprint_m2[cand[edge]]
        w[edge] = np.divide(part, fp, out=np.zeros_like(part), where=fp > 0)
    w = np.clip(w, 0.0, 1.0)
    keep = w > 0
    return cand[keep], w[keep]


# --- the answer ---------------------------------------------------------------------------------------------
@dataclass
class AreaAnswer:
    """Every figure of one area query, unsuppressed, plus the rows behind them (positions into the layers)."""

    area: Area
    rule: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    summary: dict
    building_pos: np.ndarray
    weights: np.ndarray
    household_pos: np.ndarray
    household_weights: np.ndarray
    compounds: list = field(default_factory=list)
    overdue: list = field(default_factory=list)  # rows of OVERDUE_FIELDS, times as ISO texts (overdue_list)
    risk_top: list = field(default_factory=list)


def query(
    twin, area: Area, *, rule: str = "centroid", start=None, end=None, now=None, personal: bool = True
) -> AreaAnswer:
    """Everything in `area`: buildings, people, property states, decades, compounds, incidents and risk.

    `personal=False` for callers who may not see every household: incident figures leave care incidents to their
    protected counts, and risk coarsens elderly counts (twin.incidents.reports.summary_for, twin.risk.score).
    """
    start, end = _period(start, end)
    idx = area_index(twin)
    sql = analytics(twin, ("buildings", "households")) if rule == "centroid" else None
    if sql is not None:  # PostgreSQL: which buildings and households count, and their people, by SQL
        got = sql.area_people(area.geom.wkt)
        pos, w, hpos = got["buildings"], np.ones(len(got["buildings"])), got["households"]
        hw, people = np.ones(len(hpos)), {k: _r(got["people"][k]) for k in PEOPLE}
    else:
        pos, w = building_weights(twin, area, rule)
        counts = idx.hh_count[pos]
        hpos = idx.hh_order[_ranges(idx.hh_start[pos], counts)] if len(idx.hh_order) else np.zeros(0, dtype=np.int64)
        hw = np.repeat(w, counts) if len(idx.hh_order) else np.zeros(0)
        people = {k: _r((idx.people[k][pos] * w).sum()) for k in PEOPLE}
    summary = {
        "area": {
            **area.describe(),
            "area_m2": _area_m2(area),
            "in_street_m2": _in_street_m2(idx, area),
            "bbox": [round(v, 7) for v in area.geom.bounds] if not area.geom.is_empty else None,
        },
        "rule": rule,
        "period": {"start": iso_utc(start), "end": iso_utc(end)},
        "buildings": {
            "count": _r(w.sum()),
            "footprint_m2": _r((idx.footprint_m2[pos] * w).sum(), 1),
            "floor_area_m2": _r((idx.footprint_m2[pos] * idx.floors[pos] * w).sum(), 1),
        },
        "people": people,
        "property_states": _mix(idx.state, pos, w, idx.people["households"][pos]),
        "build_decades": _mix(idx.decade, pos, w, idx.people["households"][pos], sort=True),
    }
    answer = AreaAnswer(area, rule, start, end, summary, pos, w, hpos, hw)
    answer.compounds = compounds_touched(twin, area)
    summary["compounds"] = {
        "count": len(answer.compounds),
        "whole": sum(1 for c in answer.compounds if c["whole"]),
        "partly": sum(1 for c in answer.compounds if not c["whole"]),
    }
    risk_now = now
    if now is None and twin.incidents is not None:  # one reading of the clock serves incidents and risk
        now = twin.incidents.now()
        risk_now = to_utc(now).floor("min")  # as twin.risk.score reads the clock itself
    _add_incidents(twin, answer, now, personal)
    _add_risk(twin, answer, risk_now, personal)
    return answer


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges [starts[i], starts[i] + counts[i]) without a Python loop."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    return offsets + np.arange(total)


def _mix(coded: tuple, pos: np.ndarray, w: np.ndarray, households: np.ndarray, sort: bool = False) -> dict:
    """code → {"buildings": weighted count, "households": weighted households} over the counted buildings at `pos`
    (codes in order of first appearance among them, or sorted when `sort`)."""
    if not len(pos):
        return {}
    codes, names = coded[0][pos], coded[1]
    b = np.bincount(codes, weights=w, minlength=len(names))
    h = np.bincount(codes, weights=households * w, minlength=len(names))
    present, first = np.unique(codes, return_index=True)
    order = present if sort else present[np.argsort(first)]
    return {str(names[c]): {"buildings": _r(b[c]), "households": _r(h[c])} for c in order.tolist()}


def compounds_touched(twin, area: Area) -> list[dict]:
    """Compounds sharing area with `area`: id, name, state, the share of the compound inside, whether whole."""
    if "compounds" not in twin.layers:
        return []
    layer = twin.layer("compounds")
    cand = layer.index.intersects(area.geom)
    if not len(cand):
        return []
    metric = layer.index.metric[cand]
    whole_m2 = shapely.area(metric)
    part_m2 = whole_m2.copy()  # a compound wholly inside is inside whole: only the others are cut
    shapely.prepare(area.metric)
    cut = ~shapely.contains(area.metric, metric)
    part_m2[cut] = shapely.area(shapely.intersection(metric[cut], area.metric))
    share = np.divide(part_m2, whole_m2, out=np.zeros_like(part_m2), where=whole_m2 > 0)
    cols = area_index(twin).compound_columns
    out = []
    for i, p in enumerate(cand):
        if share[i] <= 0:
            continue  # touches the edge only
        out.append(
            {
                **{k: v[p] for k, v in cols.items()},
                "build_year": _int(cols["build_year"][p]),
                "share": round(float(min(share[i], 1.0)), 4),
                "whole": bool(share[i] >= WHOLE_SHARE),
                "area_inside_m2": round(float(part_m2[i]), 1),
            }
        )
    out.sort(key=lambda c: (-c["share"], str(c["compound_id"])))
    return out


def _add_incidents(twin, answer: AreaAnswer, now, personal: bool = True) -> None:
    service = twin.incidents
    if service is None:
        answer.summary["incidents"] = None
        return
    from .incidents.reports import drop_care, summary_for

    now = service.now() if now is None else pd.Timestamp(now)
    pos = service.positions(geom=answer.area.geom, start=answer.start, end=answer.end)
    sql = analytics(twin, incidents=True)
    if sql is not None:  # PostgreSQL: the counts by SQL, the time limits judged here
        s = report_summary(service, sql, pos, answer.start, answer.end, now, personal, answer.area.geom.wkt)[0]
    else:
        s = summary_for(service, pos, now, personal)
    if not personal:
        pos, _ = drop_care(service, pos)
    if s["overdue"]:  # only open incidents can be overdue: the list needs their due times alone
        answer.overdue = overdue_list(service, pos[service.is_open(pos)], now)
    s["now"] = iso_utc(now)
    answer.summary["incidents"] = s


def overdue_list(service, live, now) -> list[dict]:
    """The overdue ones of the open incidents at `live` at `now` as rows of OVERDUE_FIELDS, oldest first."""
    fig = service.figures
    t = fig.judge(live, service.deadlines, now)
    late = t["overdue"]
    reported = fig.column("reported_at", live[late])
    order = np.argsort(reported, kind="quicksort")  # the order of sort_values("reported_at")
    at = live[late][order]
    cols = {
        "incident_id": service.ids(at),
        **{c: fig.values(c, at).tolist() for c in ("category", "stage", "level")},
        "reported_at": _iso_ns(reported[order]),
        **{c: fig.values(c, at).tolist() for c in ("grid_code", "compound_id", "building_id")},
        "overdue_limit": np.asarray(LIMITS, dtype=object)[t["overdue_limit"][late][order]].tolist(),
        "next_due": _iso_ns(t["next_due"][late][order]),
    }
    return [dict(zip(OVERDUE_FIELDS, row)) for row in zip(*(cols[c] for c in OVERDUE_FIELDS))]


def _add_risk(twin, answer: AreaAnswer, now, personal: bool = True) -> None:
    try:
        from . import risk
    except ImportError:  # the risk model is optional for a twin without it
        answer.summary["risk"] = None
        return
    scores = risk.score(twin, now=now, personal=personal)
    idx = area_index(twin)
    score, level, factors, level_code = _risk_arrays(idx, scores, risk.LEVELS)
    pos, w = answer.building_pos, answer.weights
    per_level = np.bincount(level_code[pos] + 1, weights=w, minlength=len(risk.LEVELS) + 1)[1:]  # -1: no level
    by_level = {lv: _r(v) for lv, v in zip(risk.LEVELS, per_level.tolist())}
    s = score[pos]
    order = np.lexsort((idx.id_rank[pos], -np.where(np.isnan(s), -1.0, s)))[:TOP_RISK]
    top = [
        {
            "building_id": idx.ids[p],
            "name": idx.names[p],
            "compound_id": idx.compound_ids[p],
            "score": round(float(score[p]), 1),
            "level": level[p],
            "factors": list(factors[p])[:4],
            "weight": round(float(w[i]), 4),
        }
        for i, p in ((i, pos[i]) for i in order)
        if not np.isnan(score[p])
    ]
    answer.risk_top = top
    answer.summary["risk"] = {"by_level": by_level, "top": top}


def _risk_arrays(idx: AreaIndex, scores, levels) -> tuple:
    """Risk score, level, factors and level code (index into `levels`, -1 none) per building in frame order, aligned
    once per risk result (its key)."""
    with _LOCK:
        if idx.risk_key != scores.key:
            table = scores.buildings.reindex(idx.ids)
            level = table["level"].to_numpy(dtype=object)
            code = {lv: i for i, lv in enumerate(levels)}
            idx.risk = (
                table["score"].to_numpy(dtype=float),
                level,
                table["factors"].to_numpy(dtype=object),
                np.array([code.get(lv, -1) if isinstance(lv, str) else -1 for lv in level], dtype=np.int64),
            )
            idx.risk_key = scores.key
        return idx.risk


# --- what a caller may see -------------------------------------------------------------------------------------
def figures(twin, answer: AreaAnswer, principal: Principal = PUBLIC, *, households: bool = True) -> dict:
    """The answer as `principal` may see it: suppressed people counts for public/planner, household detail for
    staff (households in their grids) and admin (all); `households=False` leaves the list out."""
    out = _copy(answer.summary)
    hide = not sees_every_household(twin, answer, principal)
    out["suppressed"] = hide
    out["compounds_list"] = answer.compounds
    if hide:  # the small-count rule with random rounding (twin.access.protect), drawn per set of households
        key = records_key(answer)
        out["people"] = {k: protect(v, "people", k, key) for k, v in out["people"].items()}
        for mix in ("property_states", "build_decades"):
            for code, v in out[mix].items():
                v["households"] = protect(v["households"], mix, code, key)
    if households and principal.sees_personal:
        out["households"] = household_rows(twin, answer, principal)
    out["overdue_incidents"] = overdue_rows(answer)
    return out


def sees_every_household(twin, answer: AreaAnswer, principal: Principal) -> bool:
    """Whether `principal` may see every household the answer counts: only then are its people figures exact
    (staff limited to some grids get the protected figures of an area reaching beyond them)."""
    if principal.sees_all_personal:
        return True
    if not principal.sees_personal:
        return False
    if not len(answer.household_pos):
        return True
    h = twin.frame("households")
    if "grid_code" not in h.columns:
        return False
    grids = h["grid_code"].iloc[answer.household_pos].to_numpy(dtype=object)  # the counted rows, not the column
    return bool(np.isin(grids, list(principal.grids)).all())


def records_key(answer: AreaAnswer) -> str:
    """A digest of the households an answer counts and their weights: the same households, the same draw."""
    order = np.argsort(answer.household_pos, kind="stable")
    data = answer.household_pos[order].astype(np.int64).tobytes()
    data += np.round(answer.household_weights[order], 4).astype(np.float64).tobytes()
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def household_rows(twin, answer: AreaAnswer, principal: Principal) -> list[dict]:
    """Households counted in the area that `principal` may see in detail (their grids), with their weight."""
    if not principal.sees_personal or not len(answer.household_pos):
        return []
    h = twin.frame("households").iloc[answer.household_pos]
    allowed = (
        np.array([principal.may_see_grid(g) for g in h["grid_code"]], dtype=bool)
        if "grid_code" in h.columns
        else np.full(len(h), principal.role == "admin")
    )
    cols = [c for c in HOUSEHOLD_DETAIL if c in h.columns]
    rows = pd.DataFrame(h.loc[allowed, cols]).astype(object).where(lambda d: d.notna(), None)
    rows["weight"] = np.round(answer.household_weights[allowed], 4)
    return rows.to_dict("records")


def overdue_rows(answer: AreaAnswer) -> list[dict]:
    """The overdue incidents in the area (no personal fields), oldest first."""
    return [dict(r) for r in answer.overdue or ()]


def _suppress(v):
    """suppress() for possibly fractional counts (the area rule): values in (0, SUPPRESS_BELOW) hidden."""
    if v is None or v == int(v):
        return suppress(None if v is None else int(v))
    return None if 0 < v < SUPPRESS_BELOW else v


def _copy(d):
    if isinstance(d, dict):
        return {k: _copy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_copy(v) for v in d]
    return d


# --- small helpers ---------------------------------------------------------------------------------------------
def parse_period(start: str | None, end: str | None) -> tuple:
    """The period [start, end) of `from`/`to` texts (dates or RFC 3339 times, UTC); a date `to` includes its day."""
    s, e = _period(start or None, end or None)
    if e is not None and len(str(end).strip()) == 10:  # a whole day: up to the next midnight
        e = e + pd.Timedelta(days=1)
    return s, e


def _period(start, end):
    s = None if start is None else _utc(start)
    e = None if end is None else _utc(end)
    if s is not None and e is not None and s > e:
        raise InvalidInput("the period ends before it starts", start=iso_utc(s), end=iso_utc(e))
    return s, e


def _utc(ts) -> pd.Timestamp:
    try:
        return to_utc(ts)
    except (ValueError, TypeError):
        raise InvalidInput(f"{ts!r} is not a date or time (use 2026-03-01 or 2026-03-01T08:00:00Z)") from None


def _iso_ns(ns) -> list:
    """iso_utc() of many int64 nanosecond times at once (None for a missing one)."""
    ns = np.asarray(ns, dtype=np.int64)
    text = np.datetime_as_string(ns.view("M8[ns]").astype("M8[s]"), unit="s").tolist()
    return [None if v == NAT else f"{t}Z" for v, t in zip(ns.tolist(), text)]


def _r(v, nd: int = 4):
    """A count as an int when whole, else rounded to `nd` places (the area rule gives fractions)."""
    v = float(v)
    return int(round(v)) if abs(v - round(v)) < 1e-9 else round(v, nd)


def _int(v):
    return None if v is None or pd.isna(v) else int(v)


def _area_m2(area: Area) -> float:
    """Area of `area` in m² in the metric CRS (geodesic when the projection breaks down far from the street)."""
    a = float(shapely.area(area.metric))
    if not np.isfinite(a):
        from pyproj import Geod

        a = abs(Geod(ellps="WGS84").geometry_area_perimeter(area.geom)[0])
    return round(a, 1)


def _in_street_m2(idx: AreaIndex, area: Area) -> float:
    """Area of the part of `area` inside the street, in m²."""
    if idx.boundary_metric is None:
        return _area_m2(area)
    if not idx.boundary_metric.intersects(area.metric):
        return 0.0
    if idx.boundary_metric.contains(area.metric):
        return _area_m2(area)
    return round(float(shapely.area(shapely.intersection(idx.boundary_metric, area.metric))), 1)
