"""The quarterly six-nos (六无) rating of every compound, computed from the incidents reported in it.

Rule: each "no" is tied to the incident categories whose fourth field in twin.vocab.INCIDENT_CATEGORIES names it
(e.g. no_fire_hazard ← fire_hazard, flying_line_charging). A compound fails a "no" when at least one incident of
those categories was reported inside it (its compound_id) during the quarter, whatever its stage now: the rating
asks whether the problem occurred, how fast it was handled is judged by the on-time rates. A compound passes the
rating (优美小区 candidate) when it fails none of the six.
"""
from __future__ import annotations

import logging

import pandas as pd

from twin.vocab import INCIDENT_CATEGORIES, SIX_NOS, label

from .periods import Period

log = logging.getLogger(__name__)

# "no" → the categories that break it.
CATEGORIES_OF = {no: tuple(code for code, entry in INCIDENT_CATEGORIES.items() if entry[3] == no) for no in SIX_NOS}


def six_nos(service, quarter: Period) -> dict:
    """Every compound's six-nos rating for `quarter`, with the incidents behind each failed "no"."""
    frame = service.select(start=quarter.start_utc, end=quarter.end_utc)
    compounds = service.twin.layer("compounds").frame
    no_of = {code: entry[3] for code, entry in INCIDENT_CATEGORIES.items() if entry[3]}
    hits = frame[frame["category"].isin(list(no_of)) & frame["compound_id"].notna()]
    hits = hits.sort_values(["reported_at", "incident_id"], kind="stable")
    behind: dict = {}
    for cid, no, iid in zip(hits["compound_id"], hits["category"].map(no_of), hits["incident_id"]):
        behind.setdefault((cid, no), []).append(str(iid))
    rows = []
    for rec in compounds.itertuples(index=False):
        nos = {no: {"passed": (rec.compound_id, no) not in behind,
                    "incident_ids": behind.get((rec.compound_id, no), [])} for no in SIX_NOS}
        failed = [no for no, v in nos.items() if not v["passed"]]
        rows.append({"compound_id": rec.compound_id, "name": getattr(rec, "name", None),
                     "community_id": getattr(rec, "community_id", None), "state": getattr(rec, "state", None),
                     "passed": not failed, "failed": failed, "nos": nos})
    return {"quarter": quarter.to_dict(), "rule": {no: list(cats) for no, cats in CATEGORIES_OF.items()},
            "compounds": rows,
            "summary": {"compounds": len(rows), "passed": sum(r["passed"] for r in rows),
                        "failed_by_no": {no: sum(not r["nos"][no]["passed"] for r in rows) for no in SIX_NOS}}}


CSV_COLUMNS = ("quarter", "compound_id", "compound_name", "community_id", "no", "no_name", "passed",
               "incidents", "incident_ids", "compound_passed")


def six_nos_rows(rating: dict, lang: str = "zh") -> pd.DataFrame:
    """The rating as one tidy table: one row per compound and "no" (passed 1/0, incident count and ids)."""
    tag = rating["quarter"]["label"]
    rows = [(tag, c["compound_id"], c["name"], c["community_id"], no, label(SIX_NOS, no, lang), int(v["passed"]),
             len(v["incident_ids"]), ";".join(v["incident_ids"]), int(c["passed"]))
            for c in rating["compounds"] for no, v in c["nos"].items()]
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))
