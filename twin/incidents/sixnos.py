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

import pandas as pd

from twin.vocab import INCIDENT_CATEGORIES, SIX_NOS, label

from .hotspots import MIN_COUNT, RADIUS_M, check_params, hotspots
from .periods import Period
from .reports import iso
from .timeliness import DONE_STAGES, timeliness

log = logging.getLogger(__name__)

# "no" → the categories that break it.
CATEGORIES_OF = {no: tuple(code for code, entry in INCIDENT_CATEGORIES.items() if entry[3] == no) for no in SIX_NOS}
NO_OF = {code: entry[3] for code, entry in INCIDENT_CATEGORIES.items() if entry[3]}
# Why an incident stands behind a failed "no".
REASONS = {
    "late": ("超时办结", "Resolved after its limit"),
    "open_overdue": ("超时未办结", "Unresolved past its limit"),
    "repeat": ("重复发生", "Repeat hotspot"),
}


def six_nos(service, quarter: Period, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT) -> dict:
    """Every compound's six-nos rating for `quarter`, with the incidents behind each failed "no" and their reasons."""
    radius_m, min_count = check_params(radius_m, min_count)
    as_of = min(quarter.end_utc, service.now())
    frame = service.select(start=quarter.start_utc, end=quarter.end_utc)
    hits = frame[frame["category"].isin(list(NO_OF)) & frame["compound_id"].notna()]
    hits = hits.sort_values(["reported_at", "incident_id"], kind="stable")
    reasons = causes(hits, service.deadlines, as_of, service.twin.crs, radius_m, min_count)
    behind: dict = {}
    for cid, no, iid in zip(hits["compound_id"], hits["category"].map(NO_OF), hits["incident_id"]):
        if str(iid) in reasons:
            behind.setdefault((cid, no), []).append(str(iid))
    rows = []
    for rec in service.twin.layer("compounds").frame.itertuples(index=False):
        nos = {}
        for no in SIX_NOS:
            ids = behind.get((rec.compound_id, no), [])
            nos[no] = {"passed": not ids, "incident_ids": ids, "reasons": {i: reasons[i] for i in ids}}
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
        "as_of": iso(as_of, tz),
        "complete": bool(quarter.end_utc <= as_of),
        "rule": {no: list(cats) for no, cats in CATEGORIES_OF.items()},
        "hotspot_rule": {"radius_m": radius_m, "min_count": min_count},
        "reasons": {code: {"zh": zh, "en": en} for code, (zh, en) in REASONS.items()},
        "compounds": rows,
        "summary": summary(rows),
    }


def causes(hits: pd.DataFrame, deadlines, as_of, crs, radius_m: float, min_count: int) -> dict:
    """incident id → its reasons (subset of REASONS, in that order) for the incidents that fail a "no"."""
    out: dict = {}
    if not len(hits):
        return out
    due = timeliness(hits, deadlines, as_of)["resolve_due"]
    resolved = pd.to_datetime(hits["resolved_at"], utc=True)
    # resolved by as_of; a done stage with no recorded time (imported data) cannot be judged late
    done = (resolved <= as_of) | (resolved.isna() & hits["stage"].isin(DONE_STAGES))
    late = done & (resolved > due)
    open_overdue = ~done & (due < as_of)
    # hotspots() never joins two categories; keying the category by compound keeps each hotspot inside one compound
    keyed = hits.assign(category=hits["compound_id"].astype(str) + "/" + hits["category"].astype(str))
    repeat = {i for h in hotspots(keyed, crs, radius_m, min_count) for i in h["incident_ids"]}
    for iid, is_late, is_open in zip(hits["incident_id"].astype(str), late, open_overdue):
        why = ["late"] * bool(is_late) + ["open_overdue"] * bool(is_open) + ["repeat"] * (iid in repeat)
        if why:
            out[iid] = why
    return out


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
