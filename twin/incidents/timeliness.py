"""Due times and overdue state of incidents, computed from the clock on demand and never stored."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.times import to_utc
from twin.vocab import INCIDENT_STAGES

from .deadlines import LIMITS, Deadlines

log = logging.getLogger(__name__)

STAGE_RANK = {s: i for i, s in enumerate(INCIDENT_STAGES)}
# The stage that meets each limit, and the timestamp column recording when.
LIMIT_STAGE = {"accept": "accepted", "on_site": "on_site", "resolve": "resolved"}
LIMIT_TIME = {"accept": "accepted_at", "on_site": "on_site_at", "resolve": "resolved_at"}
DONE_STAGES = ("resolved", "closed")


def timeliness(frame: pd.DataFrame, deadlines, now) -> pd.DataFrame:
    """Per incident: accept/on_site/resolve/next due, overdue (bool), overdue_limit, met_accept/on_site/resolve.

    Every limit is measured from `reported_at`. A limit is met when its stage was reached by its due time;
    `met_*` is NA while undecided (not reached and not yet due, or reached with no time recorded). An incident
    is overdue when it is not resolved and a limit it has not reached is past due; `overdue_limit` names the
    first such limit and `next_due` is the due time of the first limit not yet reached (NaT once resolved).
    """
    d = Deadlines.parse(deadlines)
    now = to_utc(now)
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    reported = pd.to_datetime(frame["reported_at"], utc=True) if n else pd.Series([], dtype="datetime64[ns, UTC]")
    rank = frame["stage"].map(STAGE_RANK).fillna(0).to_numpy() if n else np.zeros(0)
    open_ = ~frame["stage"].isin(DONE_STAGES).to_numpy() if n else np.zeros(0, dtype=bool)
    overdue = np.zeros(n, dtype=bool)
    overdue_limit = np.full(n, None, dtype=object)
    next_due = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    for limit in LIMITS:
        secs = d.column(frame["category"], limit) if n else np.zeros(0)
        due = reported + pd.to_timedelta(secs, unit="s")
        due.index = frame.index
        when = pd.to_datetime(frame[LIMIT_TIME[limit]], utc=True) if n else due
        reached = when.notna().to_numpy() | (rank >= STAGE_RANK[LIMIT_STAGE[limit]])
        past = (due < now).to_numpy()
        met = pd.Series(pd.NA, index=frame.index, dtype="boolean")
        timed = when.notna().to_numpy()
        met.loc[timed] = (when[timed] <= due[timed]).to_numpy()  # .loc: a bare [] first tries the mask as a label
        met.loc[~reached & past] = False
        late = open_ & ~reached & past
        overdue_limit[late & ~overdue] = limit
        overdue |= late
        pending = open_ & ~reached & next_due.isna().to_numpy()
        next_due[pending] = due[pending]
        out[f"{limit}_due"] = due
        out[f"met_{limit}"] = met
    out["next_due"] = next_due
    out["overdue"] = overdue
    out["overdue_limit"] = pd.Series(overdue_limit, index=frame.index, dtype="object")
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
