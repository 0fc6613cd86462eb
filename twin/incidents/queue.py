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

from .deadlines import LIMITS
from .timeliness import DONE_STAGES

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


@dataclass(frozen=True)
class Selection:
    """The queue in order: table positions, and per position overdue, next due (ns, NAT_NS when none) and the
    first limit missed. Frames are built only for the page asked for (page())."""

    service: object
    positions: np.ndarray
    overdue: np.ndarray
    next_due: np.ndarray
    overdue_limit: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    def page(self, number: int, size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rows of page `number` (1-based) and their next_due / overdue / overdue_limit."""
        sl = slice((number - 1) * size, number * size)
        rows = self.service.table.frame(self.positions[sl])
        due = pd.Series(self.next_due[sl].view("M8[ns]"), index=rows.index).dt.tz_localize("UTC")
        t = pd.DataFrame(
            {"next_due": due, "overdue": self.overdue[sl], "overdue_limit": self.overdue_limit[sl]}, index=rows.index
        )
        return rows, t


NAT_NS = np.iinfo("int64").min


def _isin(values: np.ndarray, allowed) -> np.ndarray:
    """Hash-based membership of an object array (np.isin sorts object arrays: far slower on a year of rows)."""
    return pd.Series(values, dtype=object, copy=False).isin(list(allowed)).to_numpy()


def _coded_in(fig, column: str, n: int, allowed) -> np.ndarray:
    """Whether the first `n` incidents' coded `column` holds one of `allowed` (compared as codes, not text)."""
    book = fig.books[column]
    codes = [book.code[v] for v in allowed if v in book.code]
    return np.isin(fig.column(column, slice(0, n)), np.asarray(codes, dtype=np.int32))


def select(service, p: Principal, f: Filters) -> Selection:
    """The incidents `p` may work that pass `f`, in queue order; time limits computed for open ones only."""
    if p.role not in ("staff", "admin"):
        raise Forbidden("the work queue is for staff and admins", role=p.role)
    table = service.table
    fig = service.figures
    n = min(table.n, len(fig))
    cols = table.cols
    mask = np.ones(n, dtype=bool)
    if p.role == "staff" and p.grids is not None:
        mask &= _coded_in(fig, "grid_code", n, p.grids)
    for col, values in (("stage", f.stages), ("category", f.categories), ("grid_code", f.grids), ("source", f.sources)):
        if values is not None:
            mask &= _coded_in(fig, col, n, values)
    reported = fig.column("reported_at", slice(0, n))
    if f.start is not None:
        mask &= reported >= f.start.value
    if f.end is not None:
        mask &= reported < f.end.value
    pos = np.flatnonzero(mask)
    if f.q and len(pos):
        q = f.q.casefold()
        ids = pd.Series(cols["incident_id"][pos], copy=False).str.casefold().str.contains(q, regex=False)
        text = service.rows(pos, ["description"])["description"]  # closed ones' text is read from the store
        desc = pd.Series(text.to_numpy(dtype=object), copy=False).str.casefold().str.contains(q, regex=False)
        pos = pos[(ids.fillna(False) | desc.fillna(False)).to_numpy(dtype=bool)]
    overdue, next_due, limit = due_state(service, pos)
    if f.overdue is not None:
        keep = overdue == f.overdue
        pos, overdue, next_due, limit = pos[keep], overdue[keep], next_due[keep], limit[keep]
    order = sort_order(service, pos, overdue, next_due, f.sort)
    return Selection(service, pos[order], overdue[order], next_due[order], limit[order])


def due_state(service, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(overdue, next_due ns, overdue_limit) at table positions `pos`, from timeliness() of the open ones only: a
    resolved or closed incident is never overdue and has no next due time (timeliness says so), and a district's
    year holds far more done incidents than open ones."""
    overdue = np.zeros(len(pos), dtype=bool)
    next_due = np.full(len(pos), NAT_NS, dtype=np.int64)
    limit = np.full(len(pos), None, dtype=object)
    is_open = service.is_open(pos)
    if is_open.any():
        t = service.figures.judge(pos[is_open], service.deadlines, service.now())
        overdue[is_open] = t["overdue"]
        next_due[is_open] = t["next_due"]
        limit[is_open] = np.array([None, *LIMITS], dtype=object)[t["overdue_limit"].astype(np.int64) + 1]
    return overdue, next_due, limit


def sort_order(service, pos: np.ndarray, overdue: np.ndarray, next_due: np.ndarray, sort: str) -> np.ndarray:
    """Order of `pos` in the queue: urgency = overdue first, then time left to the next limit, then done ones newest
    first (ties: higher priority, then older report); or newest / oldest report first."""
    cols = service.table.cols
    reported = service.figures.column("reported_at", pos)
    if sort == "newest":
        return np.argsort(-reported, kind="stable")
    if sort == "oldest":
        return np.argsort(reported, kind="stable")
    is_open = service.is_open(pos)
    due = np.where(is_open & (next_due != NAT_NS), next_due, np.iinfo("int64").max)
    band = np.where(overdue, 0, np.where(is_open, 1, 2))
    priority = -np.nan_to_num(cols["priority"][pos].astype("float64"), nan=0.0)
    recent = np.where(band == 2, -reported, reported)
    return np.lexsort((recent, priority, due, band))
