"""Open incidents in the order they should be handled: overdue first (longest overdue first), then by time left."""

from __future__ import annotations

import pandas as pd

from .timeliness import DONE_STAGES, LIMIT_TIME, timeliness


def by_urgency(service, frame: pd.DataFrame) -> pd.DataFrame:
    """The open incidents of `frame` with next_due, overdue, overdue_seconds and due_in_seconds, most urgent first."""
    frame = frame[~frame["stage"].isin(DONE_STAGES)]
    now = service.now()
    t = timeliness(frame, service.deadlines, now)
    out = frame.join(t[["next_due", "overdue", "overdue_limit"]])
    late_due = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    for limit in LIMIT_TIME:
        hit = (out["overdue_limit"] == limit).to_numpy()
        late_due[hit] = t.loc[hit, f"{limit}_due"]
    out["overdue_seconds"] = (now - late_due).dt.total_seconds()
    out["due_in_seconds"] = (out["next_due"] - now).dt.total_seconds()
    key = out["overdue_seconds"].fillna(-1).where(out["overdue"], -1)
    prio = -pd.to_numeric(out["priority"], errors="coerce").fillna(0)
    out = out.assign(_late=-key, _left=out["due_in_seconds"].fillna(float("inf")), _prio=prio)
    return out.sort_values(["_late", "_left", "_prio"], kind="stable").drop(columns=["_late", "_left", "_prio"])
