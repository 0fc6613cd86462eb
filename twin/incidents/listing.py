"""Filtered, paged lists of incidents from the indexes (the open set, the report-time order, coded columns).

Only the asked page is turned into rows; the filters, the count and the order work on positions and codes, so a
list costs what the filtered set costs, not what the whole history costs. A SQL backend answers the same call
with WHERE on indexed columns, ORDER BY and LIMIT/OFFSET.
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pandas as pd

from twin.errors import InvalidInput
from twin.times import to_utc

from .timeliness import NAT

log = logging.getLogger(__name__)

STATUSES = ("open", "closed")
ORDERS = ("newest", "urgent")


def page(
    service,
    *,
    start=None,
    end=None,
    status: str | None = None,
    categories=None,
    grids=None,
    may_see: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    order: str = "newest",
    page: int = 1,
    size: int = 50,
    now=None,
) -> tuple[pd.DataFrame, int]:
    """One page of the incidents matching every filter, and how many match in all.

    start/end: reported in [start, end); status: "open" (not resolved or closed), "closed", or None for both;
    categories / grids: any of these codes; may_see(categories, grid_codes) → bool per incident: the caller's
    right to see it. order "newest": latest report first (then id, descending); "urgent": overdue first, then the
    nearest next due time, then the highest priority, then the oldest report (at `now`, default the clock).
    """
    if status not in (None, *STATUSES):
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    if order not in ORDERS:
        raise InvalidInput(f"order must be one of {', '.join(ORDERS)}", field="order")
    fig = service.figures
    if status == "open":
        pos = service.open_positions()
        t = fig.column("reported_at", pos)
        keep = np.ones(len(pos), dtype=bool)
        if start is not None:
            keep &= t >= to_utc(start).value
        if end is not None:
            keep &= t < to_utc(end).value
        pos = pos[keep]
    else:
        pos = service.positions(start=start, end=end)
        if status == "closed":
            pos = pos[~service.is_open(pos)]
    for column, wanted in (("category", categories), ("grid_code", grids)):
        if wanted is not None:
            book = fig.books[column]
            pos = pos[np.isin(fig.column(column, pos), [book.code[c] for c in wanted if c in book.code])]
    if may_see is not None and len(pos):
        pos = pos[service.visible(may_see, pos)]
    total = len(pos)
    lo, hi = (page - 1) * size, page * size
    ranked = _urgent(service, pos, now) if order == "urgent" else _newest(service, pos, hi)
    return service.rows(ranked[lo:hi]), total


def _newest(service, pos: np.ndarray, need: int) -> np.ndarray:
    """The first `need` of `pos` by report time then id, both descending (only the candidates are sorted)."""
    t = service.figures.column("reported_at", pos)
    if need < len(pos):
        cut = np.partition(t, len(pos) - need)[len(pos) - need]
        pos, t = pos[t >= cut], t[t >= cut]
    ids = service.table.cols["incident_id"][pos].astype(str)
    return pos[np.lexsort((ids, t))[::-1]]


def _urgent(service, pos: np.ndarray, now) -> np.ndarray:
    """`pos` ordered overdue first, then by next due time (none last), priority (highest first), report time."""
    fig = service.figures
    j = fig.judge(pos, service.deadlines, service.now() if now is None else now)
    due = np.where(j["next_due"] == NAT, np.iinfo("int64").max, j["next_due"])
    priority = np.nan_to_num(service.table.cols["priority"][pos], nan=0.0)
    return pos[np.lexsort((pos, fig.column("reported_at", pos), -priority, due, ~j["overdue"]))]
