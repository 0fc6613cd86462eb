"""Duplicate reports: open incidents of the same category within a radius are candidates; staff close a report as a
duplicate of another, and the link is kept both ways (a table, and a history event on each incident)."""

from __future__ import annotations

import logging
import threading

import numpy as np

from twin.errors import Conflict, InvalidInput

from . import lifecycle
from .timeliness import DONE_RANK

log = logging.getLogger(__name__)


def candidates(
    service,
    category: str,
    lon: float,
    lat: float,
    radius_m: float,
    exclude=None,
    before=None,
    may_see=None,
    earlier=(),
) -> list:
    """Open incidents of `category` within `radius_m` of (lon, lat), nearest first: [(incident_id, metres)].

    `exclude` leaves one id out (the report itself); `before` keeps only those reported before that time, and the
    `earlier` ids (filed before it in the same batch, at the same instant);
    `may_see(categories, grid_codes) -> bools` (the caller's view) keeps only those it passes.
    Asked of the live rtree (its ids are positions), so it costs what lies around the point, not the open set:
    rebuilding an open-set table per data version cost every report O(open incidents).
    """
    pos, metres = service.index.radius(float(lon), float(lat), float(radius_m), distances=True)
    fig = service.figures
    keep = pos < len(fig)  # indexed, not yet in the figures: an insert under way
    pos, metres = pos[keep], metres[keep]
    keep = fig.rank(pos) < DONE_RANK
    keep &= fig.column("category", pos) == fig.books["category"].code.get(category, -2)  # codes, not text
    ids = service.table.cols["incident_id"][pos]
    if before is not None:
        late = keep & (fig.column("reported_at", pos) >= before.value)
        if earlier and late.any():  # filed at the same instant, but earlier in its batch: it counts
            late[late] = [i not in earlier for i in ids[late].tolist()]
        keep &= ~late
    if may_see is not None and keep.any():
        keep[keep] = np.asarray(may_see(fig.values("category", pos[keep]), fig.values("grid_code", pos[keep])), bool)
    if exclude is not None:
        keep &= ids != exclude
    ids, metres = ids[keep], metres[keep]
    order = np.argsort(metres, kind="stable")
    return [(ids[i], round(float(metres[i]), 1)) for i in order]


class DuplicateLinks:
    """Which incident was closed as a duplicate of which: durable in the incident store, mirrored in memory."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self.original: dict[str, str] = store.duplicate_links()

    def refresh(self) -> None:
        """Read the links again (another process may have closed a report as a duplicate)."""
        links = self.store.duplicate_links()
        with self._lock:
            self.original = links

    def copies(self, original_id: str) -> list[str]:
        """The incidents closed as duplicates of `original_id`."""
        return sorted(k for k, v in self.original.items() if v == original_id)

    def link(self, service, incident_id: str, original_id: str, actor: str, note: str | None = None) -> dict:
        """Close `incident_id` as a duplicate of `original_id` (followed to its own original) in one transaction."""
        original_id = self.original.get(original_id, original_id)
        if original_id == incident_id:
            raise InvalidInput("an incident cannot be a duplicate of itself", field="of")
        service.get(incident_id)
        orig = service.get(original_id)
        if incident_id in self.original:
            raise Conflict(f"{incident_id} is already a duplicate of {self.original[incident_id]}", id=incident_id)

        with service._lock, self._lock:
            now = service.now()
            linked = {
                "at": now,
                "actor": actor,
                "action": "duplicate_linked",
                "from_stage": orig["stage"],
                "to_stage": orig["stage"],
                "note": note,
                "detail": {"duplicate": incident_id},
            }
            row = self.store.close_duplicate(
                incident_id, original_id, lambda r: lifecycle.duplicate(r, original_id, actor, now, note), linked
            )
            i = service.table.update(incident_id, row)
            service.figures.update(i, row)
            service._writes += 1
            self.original[incident_id] = original_id
        log.info("incident %s closed as a duplicate of %s by %s", incident_id, original_id, actor)
        return service.get(incident_id)
