"""The work queue (工单台): incidents a staff member may work, filtered and sorted by urgency, one page at a time.

Filtering runs on the in-memory column arrays (numpy masks), so a district's year of incidents pages quickly; time
limits are computed only for the open incidents that pass the filters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.access import Principal
from twin.errors import Forbidden, InvalidInput
from twin.vocab import INCIDENT_CATEGORIES, INCIDENT_SOURCES, INCIDENT_STAGES

from .timeliness import DONE_STAGES, timeliness

log = logging.getLogger(__name__)

OPEN = tuple(s for s in INCIDENT_STAGES if s not in DONE_STAGES)
SORTS = ("urgency", "newest", "oldest")
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
Q_MAX = 100


@dataclass(frozen=True)
class Filters:
    """What the queue shows: stages, categories, grids, sources (None = any), overdue, reported period, text."""

    stages: tuple | None = OPEN
    categories: tuple | None = None
    grids: tuple | None = None
    sources: tuple | None = None
    overdue: bool | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    q: str | None = None
    sort: str = "urgency"

    def __post_init__(self):
        checks = (("stages", "stage", INCIDENT_STAGES), ("categories", "category", INCIDENT_CATEGORIES),
                  ("sources", "source", INCIDENT_SOURCES))  # fmt: skip
        for attr, param, vocab in checks:
            bad = sorted(set(getattr(self, attr) or ()) - set(vocab))
            if bad:
                raise InvalidInput(f"unknown {param} {bad[0][:40]!r}; one of {', '.join(vocab)}", parameter=param)
        if self.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", parameter="sort")
        if self.q is not None and len(self.q) > Q_MAX:
            raise InvalidInput(f"q is at most {Q_MAX} characters", parameter="q")


def may_work(p: Principal, grid_code) -> bool:
    """Whether `p` may see and act on incidents of `grid_code` in the queue (staff of that grid, or admin)."""
    return p.role == "admin" or (p.role == "staff" and (p.grids is None or grid_code in p.grids))


def check_may_work(p: Principal, row: dict) -> None:
    """Forbidden unless `p` may work this incident."""
    if not may_work(p, row.get("grid_code")):
        raise Forbidden(f"incident {row['incident_id']} is outside your grids", id=row["incident_id"])


def select(service, p: Principal, f: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The incidents `p` may work that pass `f`, sorted (rows, their timeliness); nothing is copied but the result."""
    if p.role not in ("staff", "admin"):
        raise Forbidden("the work queue is for staff and admins", role=p.role)
    table = service.table
    n = table.n
    cols = table.cols
    mask = np.ones(n, dtype=bool)
    if p.role == "staff" and p.grids is not None:
        mask &= np.isin(cols["grid_code"][:n], list(p.grids))
    for col, values in (("stage", f.stages), ("category", f.categories), ("grid_code", f.grids), ("source", f.sources)):
        if values is not None:
            mask &= np.isin(cols[col][:n], list(values))
    reported = cols["reported_at"][:n]
    if f.start is not None:
        mask &= reported >= f.start.value
    if f.end is not None:
        mask &= reported < f.end.value
    pos = np.flatnonzero(mask)
    if f.q:
        q = f.q.casefold()
        ids, desc = cols["incident_id"][pos], cols["description"][pos]
        hit = [q in i.casefold() or (d is not None and q in d.casefold()) for i, d in zip(ids, desc)]
        pos = pos[np.asarray(hit, dtype=bool)] if len(pos) else pos
    rows = table.frame(pos)
    t = due_state(service, rows)
    if f.overdue is not None:
        keep = t["overdue"].to_numpy(dtype=bool) == f.overdue
        rows, t = rows[keep], t[keep]
    order = sort_order(rows, t, f.sort)
    return rows.iloc[order], t.iloc[order]


def due_state(service, rows: pd.DataFrame) -> pd.DataFrame:
    """next_due, overdue, overdue_limit of `rows`, computed by timeliness() for the open ones only: a resolved or
    closed incident is never overdue and has no next due time (timeliness says so), and a district's year holds
    far more done incidents than open ones."""
    out = pd.DataFrame(
        {
            "next_due": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns, UTC]"),
            "overdue": np.zeros(len(rows), dtype=bool),
            "overdue_limit": pd.Series(None, index=rows.index, dtype=object),
        }
    )
    is_open = ~rows["stage"].isin(DONE_STAGES).to_numpy()
    if is_open.any():
        t = timeliness(rows[is_open], service.deadlines, service.now())
        for col in out.columns:
            out.loc[is_open, col] = t[col].to_numpy()
    return out


def sort_order(rows: pd.DataFrame, t: pd.DataFrame, sort: str) -> np.ndarray:
    """Positions in queue order: urgency = overdue first, then time left to the next limit, then done ones newest
    first (ties: higher priority, then older report); or newest / oldest report first."""
    reported = rows["reported_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    if sort == "newest":
        return np.argsort(-reported, kind="stable")
    if sort == "oldest":
        return np.argsort(reported, kind="stable")
    overdue = t["overdue"].to_numpy(dtype=bool)
    is_open = ~rows["stage"].isin(DONE_STAGES).to_numpy()
    due = t["next_due"].to_numpy(dtype="datetime64[ns]").view("int64")
    due = np.where(is_open & (due != np.iinfo("int64").min), due, np.iinfo("int64").max)
    band = np.where(overdue, 0, np.where(is_open, 1, 2))
    priority = -rows["priority"].astype("float64").fillna(0).to_numpy()
    recent = np.where(band == 2, -reported, reported)
    return np.lexsort((recent, priority, due, band))
