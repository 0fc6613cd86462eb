"""The quarterly six-nos (六无) rating of every compound: does a problem persist, not was it ever reported.

Rule: each "no" is tied to the incident categories whose fourth field in twin.vocab.INCIDENT_CATEGORIES names it
(e.g. no_fire_hazard ← fire_hazard, flying_line_charging). Among the incidents of those categories reported inside
a compound (its compound_id) during the quarter, the compound fails the "no" when
  - one was resolved after its resolve limit ("late"), or was still unresolved past that limit ("open_overdue"),
    judged at the end of the quarter, or at the service's clock while the quarter runs; or
  - some of them form a repeat hotspot (twin.incidents.hotspots, same category and same place, within the compound)
    ("repeat"), however fast each was handled.
A compound passes the rating (优美小区 candidate) when it fails none of the six.

Why: a compound of a thousand households always has some clutter report, so "no report at all" would fail every
compound every quarter. The assessment asks whether problems persist: left unresolved, or coming back. Only the
resolve limit counts here (accept and on-site speed are judged by the on-time rates). Judging at the quarter's end
makes a finished quarter's rating final: what happens later (a late resolution, a new report) cannot change it.
An incident reopened later has no resolution time any more, so it counts as unresolved since it was reported.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.times import Period, iso
from twin.vocab import INCIDENT_CATEGORIES, SIX_NOS, label

from .hotspots import MIN_COUNT, RADIUS_M, check_params, group_order, labels
from .timeliness import DONE_RANK, NAT

log = logging.getLogger(__name__)

# "no" → the categories that break it.
CATEGORIES_OF = {no: tuple(code for code, entry in INCIDENT_CATEGORIES.items() if entry[3] == no) for no in SIX_NOS}
NO_OF = {code: entry[3] for code, entry in INCIDENT_CATEGORIES.items() if entry[3]}
SIX_NOS_LIST = list(SIX_NOS)
SIX_NOS_INDEX = {no: k for k, no in enumerate(SIX_NOS)}
# Why an incident stands behind a failed "no".
REASONS = {
    "late": ("超时办结", "Resolved after its limit"),
    "open_overdue": ("超时未办结", "Unresolved past its limit"),
    "repeat": ("重复发生", "Repeat hotspot"),
}


def six_nos(service, quarter: Period, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT) -> dict:
    """Every compound's six-nos rating for `quarter`, with the incidents behind each failed "no" and their reasons.

    A finished quarter's rating is kept (and shared: callers must not modify it) until one of its incidents is
    written again or one is added to it; a running quarter is judged at the clock, so it is made on every call.
    """
    radius_m, min_count = check_params(radius_m, min_count)
    fig = service.figures
    serial = fig.serial  # before reading: a write while the rating is made makes the next call make it again
    compounds = service.twin.layer("compounds").frame
    as_of = min(quarter.end_utc, service.now())
    inside = service.positions(start=quarter.start_utc, end=quarter.end_utc)
    key = (quarter.start_utc.value, quarter.end_utc.value, str(quarter.start.tz), radius_m, min_count)
    cache = service.memo.setdefault("six_nos", {})
    kept = cache.get(key)
    if (
        kept is not None
        and kept["as_of"] == as_of
        and kept["incidents"] == len(inside)
        and kept["compounds"] is compounds
        and kept["deadlines"] == service.deadlines
        and not fig.changed_since(inside, kept["serial"])
    ):
        return kept["rating"]
    rating = _rating(service, quarter, radius_m, min_count, compounds)
    if rating["complete"]:
        cache[key] = {
            "as_of": as_of,
            "incidents": len(inside),
            "compounds": compounds,
            "deadlines": service.deadlines,
            "serial": serial,
            "rating": rating,
        }
        if len(cache) > 8:
            cache.pop(next(iter(cache)))
    return rating


def _rating(service, quarter: Period, radius_m: float, min_count: int, compounds: pd.DataFrame) -> dict:
    j = judged(service, quarter, radius_m, min_count)
    behind, reasons = failures(service, j)
    rows = []
    for rec in compounds.itertuples(index=False):
        nos = {}
        for no in SIX_NOS:
            ids_ = behind.get((rec.compound_id, no), [])
            nos[no] = {"passed": not ids_, "incident_ids": ids_, "reasons": {i: reasons[i] for i in ids_}}
        failed = [no for no, v in nos.items() if not v["passed"]]
        rows.append(
            {
                "compound_id": rec.compound_id,
                "name": getattr(rec, "name", None),
                "community_id": getattr(rec, "community_id", None),
                "state": getattr(rec, "state", None),
                "passed": not failed,
                "failed": failed,
                "nos": nos,
            }
        )
    tz = quarter.start.tz
    return {
        "quarter": quarter.to_dict(),
        "as_of": iso(j["as_of"], tz),
        "complete": bool(quarter.end_utc <= j["as_of"]),
        "rule": {no: list(cats) for no, cats in CATEGORIES_OF.items()},
        "hotspot_rule": {"radius_m": radius_m, "min_count": min_count},
        "reasons": {code: {"zh": zh, "en": en} for code, (zh, en) in REASONS.items()},
        "compounds": rows,
        "summary": summary(rows),
    }


def no_codes(fig) -> np.ndarray:
    """Per category code (and -1 last), the index in SIX_NOS of the "no" it breaks (-1 for none)."""
    return np.array([SIX_NOS_INDEX.get(NO_OF.get(c), -1) for c in fig.books["category"].values] + [-1])


def failures(service, j: dict) -> tuple[dict, dict]:
    """From judged(): (compound_id, no) → ids of the incidents behind it (in j's order), and id → its reasons."""
    fig = service.figures
    flagged = np.flatnonzero(j["late"] | j["open_overdue"] | j["repeat"])
    ids = service.table.cols["incident_id"][j["pos"][flagged]].astype(str)
    why = sum(j[r][flagged].astype(np.int64) << k for k, r in enumerate(REASONS)) if len(flagged) else flagged
    # one list per combination of reasons, shared by the incidents that have it (made per call: a caller's own)
    combos = [[r for k, r in enumerate(REASONS) if bits >> k & 1] for bits in range(1 << len(REASONS))]
    reasons = dict(zip(ids.tolist(), [combos[b] for b in why.tolist()]))
    no_of_code = no_codes(fig)
    key = j["compound_code"][flagged].astype(np.int64) * len(SIX_NOS) + no_of_code[j["category_code"][flagged]]
    order = np.argsort(key, kind="stable")  # groups by compound and "no", j's order inside each
    key, ids = key[order], ids[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else flagged
    comps = fig.books["compound_id"].decode(key[starts] // len(SIX_NOS))
    behind = {
        (comp, SIX_NOS_LIST[int(k % len(SIX_NOS))]): part.tolist()
        for comp, k, part in zip(comps.tolist(), key[starts].tolist(), np.split(ids, starts[1:]) if len(key) else [])
    }
    return behind, reasons


def six_nos_summary(service, quarter: Period, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT) -> dict:
    """six_nos(...)["summary"] without building the per-compound rows (the dashboard's KPI), on coded columns."""
    radius_m, min_count = check_params(radius_m, min_count)
    j = judged(service, quarter, radius_m, min_count, ordered=False)
    fig = service.figures
    book = fig.books["compound_id"]
    compounds = np.array([book.code.get(c, -2) for c in service.twin.layer("compounds").frame["compound_id"]])
    no_of_code = no_codes(fig)
    bad = (j["late"] | j["open_overdue"] | j["repeat"]) & np.isin(j["compound_code"], compounds)
    comp, no = j["compound_code"][bad], no_of_code[j["category_code"][bad]]
    per_no = np.bincount(np.unique(comp.astype(np.int64) * len(SIX_NOS) + no) % len(SIX_NOS), minlength=len(SIX_NOS))
    return {
        "compounds": len(compounds),
        "passed": int((~np.isin(compounds, comp)).sum()),
        "failed_by_no": {n: int(per_no[k]) for k, n in enumerate(SIX_NOS)},
        "failed_by_reason": {r: len(np.unique(comp[j[r][bad]])) for r in REASONS},
    }


def judged(service, quarter: Period, radius_m: float, min_count: int, ordered: bool = True) -> dict:
    """The quarter's six-nos incidents (in a compound, of a "no" category; by report time, then id, when
    `ordered`) and their reasons as bool arrays: pos, compound, category, late, open_overdue, repeat, and as_of."""
    as_of = min(quarter.end_utc, service.now())
    fig = service.figures
    pos = service.positions(start=quarter.start_utc, end=quarter.end_utc)
    book = fig.books["category"]
    rated = [book.code[c] for c in NO_OF if c in book.code]
    pos = pos[np.isin(fig.column("category", pos), rated) & (fig.column("compound_id", pos) >= 0)]
    if ordered:
        ids = service.table.cols["incident_id"][pos].astype(str)
        pos = pos[np.lexsort((ids, fig.column("reported_at", pos)))]
    cat_code, comp_code = fig.column("category", pos), fig.column("compound_id", pos)
    t = fig.judge(pos, service.deadlines, as_of)
    due, resolved = t["resolve_due"], fig.column("resolved_at", pos)
    has = resolved != NAT
    # resolved by as_of; a done stage with no recorded time (imported data) cannot be judged late
    done = (has & (resolved <= as_of.value)) | (~has & (fig.rank(pos) >= DONE_RANK))
    late = done & has & (resolved > due)
    open_overdue = ~done & (due < as_of.value)
    repeat = repeats(service, quarter, pos, radius_m, min_count)
    return {
        "pos": pos,
        "compound_code": comp_code,
        "category_code": cat_code,
        "late": late,
        "open_overdue": open_overdue,
        "repeat": repeat,
        "as_of": as_of,
    }


def repeats(service, quarter: Period, pos, radius_m: float, min_count: int) -> np.ndarray:
    """Whether each incident at `pos` is in a repeat hotspot of its compound and category.

    Hotspots never join two groups (compound, category) and a group only grows (an incident's place, category and
    report time never change), so each group's members are kept per quarter and recomputed only when it grew.
    """
    key = (quarter.start_utc.value, quarter.end_utc.value, radius_m, min_count)
    cache = service.memo.setdefault("six_nos_repeats", {})
    groups = cache.get(key)
    if groups is None:
        groups = cache[key] = {}
        if len(cache) > 8:
            cache.pop(next(iter(cache)))
    fig = service.figures
    width = len(fig.books["category"].values) + 1
    group = fig.column("compound_id", pos).astype(np.int64) * width + fig.column("category", pos)
    uniq, sizes = np.unique(group, return_counts=True)
    big = sizes >= min_count
    dirty = [g for g, n in zip(uniq[big].tolist(), sizes[big].tolist()) if groups.get(g, (0,))[0] != n]
    if dirty:
        rows = np.isin(group, dirty)
        p, g = pos[rows], group[rows]
        order = group_order(g, fig.column("reported_at", p), service.table.cols["incident_id"][p])
        p, g = p[order], g[order]
        xy = service.xy(p)  # projected once, at intake
        label = labels(g, xy, fig.column("building_id", p), radius_m, min_count)
        starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
        ends = np.concatenate([starts[1:], [len(g)]])
        hot = label >= 0
        hot_p, before = p[hot], np.concatenate([[0], np.cumsum(hot)])  # hot members before each row
        for start, end in zip(starts.tolist(), ends.tolist()):
            groups[int(g[start])] = (end - start, hot_p[before[start] : before[end]])
    kept = [groups[g][1] for g in uniq[big].tolist()]
    return np.isin(pos, np.concatenate(kept)) if kept else np.zeros(len(pos), dtype=bool)


def summary(rows: list[dict]) -> dict:
    """Compounds rated and passed; compounds failing each "no", and failing any "no" for each reason."""

    def fails_for(row, reason):
        return any(reason in why for v in row["nos"].values() for why in v["reasons"].values())

    return {
        "compounds": len(rows),
        "passed": sum(r["passed"] for r in rows),
        "failed_by_no": {no: sum(not r["nos"][no]["passed"] for r in rows) for no in SIX_NOS},
        "failed_by_reason": {reason: sum(fails_for(r, reason) for r in rows) for reason in REASONS},
    }


CSV_COLUMNS = (
    "quarter",
    "compound_id",
    "compound_name",
    "community_id",
    "no",
    "no_name",
    "passed",
    "incidents",
    "incident_ids",
    "reasons",
    "compound_passed",
)


def six_nos_rows(rating: dict, lang: str = "zh") -> pd.DataFrame:
    """The rating as one tidy table: one row per compound and "no" (passed 1/0, incident count, ids and reasons).

    `reasons` lines up with `incident_ids` (both ;-separated); one incident's several reasons are joined by "+".
    """
    tag = rating["quarter"]["label"]
    rows = [
        (
            tag,
            c["compound_id"],
            c["name"],
            c["community_id"],
            no,
            label(SIX_NOS, no, lang),
            int(v["passed"]),
            len(v["incident_ids"]),
            ";".join(v["incident_ids"]),
            ";".join("+".join(v["reasons"][i]) for i in v["incident_ids"]),
            int(c["passed"]),
        )
        for c in rating["compounds"]
        for no, v in c["nos"].items()
    ]
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))
