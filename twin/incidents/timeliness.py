"""Due times and overdue state of incidents, computed from the clock on demand and never stored.

The rule is written once, in `judge()`, on plain arrays (nanoseconds since the epoch, stage ranks, seconds allowed
per incident): `timeliness()` applies it to a frame, twin.incidents.figures to its coded columns. "Open" is
`is_open()`: not yet resolved or closed.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.times import to_utc, utc_series
from twin.vocab import INCIDENT_STAGES

from .deadlines import LIMITS, Deadlines

log = logging.getLogger(__name__)

STAGE_RANK = {s: i for i, s in enumerate(INCIDENT_STAGES)}
# The stage that meets each limit, and the timestamp column recording when.
LIMIT_STAGE = {"accept": "accepted", "on_site": "on_site", "resolve": "resolved"}
LIMIT_TIME = {"accept": "accepted_at", "on_site": "on_site_at", "resolve": "resolved_at"}
DONE_STAGES = ("resolved", "closed")
OPEN_STAGES = tuple(s for s in INCIDENT_STAGES if s not in DONE_STAGES)
DONE_RANK = STAGE_RANK["resolved"]  # every stage ranked below it is open (an unknown stage ranks 0: open)
NAT = np.iinfo("int64").min


def is_open(stages) -> np.ndarray:
    """True for each incident not yet resolved or closed (the one definition of "open")."""
    return ~pd.Series(np.asarray(stages, dtype=object)).isin(DONE_STAGES).to_numpy()


def stage_ranks(stages) -> np.ndarray:
    """Rank of each stage in the lifecycle (unknown stages rank 0, like "reported")."""
    return pd.Series(np.asarray(stages, dtype=object)).map(STAGE_RANK).fillna(0).to_numpy(dtype=np.int64)


def judge(reported: np.ndarray, rank: np.ndarray, seconds: dict, times: dict, now_ns: int) -> dict:
    """The timeliness rule on arrays: per limit its due time and met state; overdue, its first limit, next due.

    reported and times[limit] are int64 nanoseconds (NAT for none), rank the stage rank, seconds[limit] the
    seconds allowed. Returns {"<limit>_due": ns, "met_<limit>": int8 (1 met, 0 missed, -1 undecided),
    "overdue": bool, "overdue_limit": int8 index into LIMITS (-1 none), "next_due": ns (NAT none)}.
    """
    n = len(reported)
    open_ = rank < DONE_RANK
    out: dict = {}
    overdue = np.zeros(n, dtype=bool)
    overdue_limit = np.full(n, -1, dtype=np.int8)
    next_due = np.full(n, NAT, dtype=np.int64)
    for j, limit in enumerate(LIMITS):
        due = reported + np.round(np.asarray(seconds[limit], dtype=np.float64) * 1e9).astype(np.int64)
        when = times[limit]
        timed = when != NAT
        reached = timed | (rank >= STAGE_RANK[LIMIT_STAGE[limit]])
        past = due < now_ns
        met = np.full(n, -1, dtype=np.int8)
        met[~reached & past] = 0
        met[timed] = (when[timed] <= due[timed]).astype(np.int8)
        late = open_ & ~reached & past
        overdue_limit[late & ~overdue] = j
        overdue |= late
        pending = open_ & ~reached & (next_due == NAT)
        next_due[pending] = due[pending]
        out[f"{limit}_due"] = due
        out[f"met_{limit}"] = met
    out.update(overdue=overdue, overdue_limit=overdue_limit, next_due=next_due)
    return out


def _ns(column: pd.Series) -> np.ndarray:
    return pd.to_datetime(column, utc=True).to_numpy(dtype="datetime64[ns]").view("int64")


def timeliness(frame: pd.DataFrame, deadlines, now) -> pd.DataFrame:
    """Per incident: accept/on_site/resolve/next due, overdue (bool), overdue_limit, met_accept/on_site/resolve.

    Every limit is measured from `reported_at`. A limit is met when its stage was reached by its due time;
    `met_*` is NA while undecided (not reached and not yet due, or reached with no time recorded). An incident
    is overdue when it is not resolved and a limit it has not reached is past due; `overdue_limit` names the
    first such limit and `next_due` is the due time of the first limit not yet reached (NaT once resolved).
    """
    d = Deadlines.parse(deadlines)
    n = len(frame)
    cats = frame["category"] if n else pd.Series([], dtype=object)
    seconds = {lim: d.column(cats, lim) if n else np.zeros(0) for lim in LIMITS}
    reported = _ns(frame["reported_at"]) if n else np.zeros(0, dtype=np.int64)
    times = {lim: _ns(frame[LIMIT_TIME[lim]]) if n else np.zeros(0, dtype=np.int64) for lim in LIMITS}
    rank = stage_ranks(frame["stage"]) if n else np.zeros(0, dtype=np.int64)
    r = judge(reported, rank, seconds, times, to_utc(now).value)
    out = pd.DataFrame(index=frame.index)
    for lim in LIMITS:
        out[f"{lim}_due"] = utc_series(r[f"{lim}_due"], frame.index)
    out["next_due"] = utc_series(r["next_due"], frame.index)
    out["overdue"] = r["overdue"]
    names = np.array([None, *LIMITS], dtype=object)
    out["overdue_limit"] = pd.Series(names[r["overdue_limit"].astype(np.int64) + 1], index=frame.index, dtype=object)
    for lim in LIMITS:
        met = r[f"met_{lim}"]
        out[f"met_{lim}"] = pd.array(np.where(met < 0, None, met == 1), dtype="boolean")
    return out[
        [
            "accept_due",
            "on_site_due",
            "resolve_due",
            "next_due",
            "overdue",
            "overdue_limit",
            "met_accept",
            "met_on_site",
            "met_resolve",
        ]
    ]
