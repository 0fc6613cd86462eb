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
    service, category: str, lon: float, lat: float, radius_m: float, exclude=None, before=None, may_see=None
) -> list:
    """Open incidents of `category` within `radius_m` of (lon, lat), nearest first: [(incident_id, metres)].

    `exclude` leaves one id out (the report itself); `before` keeps only those reported before that time;
    `may_see(categories, grid_codes) -> bools` (the caller's view) keeps only those it passes.
    """
    row = {"category": category, "lon": lon, "lat": lat, "incident_id": exclude, "reported_at": before}
    return candidates_many(service, [row], radius_m, may_see)[0]


def candidates_many(service, rows: list[dict], radius_m: float, may_see=None) -> list[list]:
    """candidates() of each of `rows` (reports in filing order: category, lon, lat, incident_id, reported_at) in one
    vectorised pass: the open incidents of its category within `radius_m`, reported before it (an earlier row filed
    at the same instant counts, the row itself and later ones do not), nearest first.

    Asked of the live index (its ids are positions), so it costs what lies around the points, not the open set:
    rebuilding an open-set table per data version cost every report O(open incidents).
    """
    lons = [float(r["lon"]) for r in rows]
    k, pos, metres = service.index.radius_many(lons, [float(r["lat"]) for r in rows], float(radius_m))
    fig = service.figures
    keep = pos < len(fig)  # indexed, not yet in the figures: an insert under way
    k, pos, metres = k[keep], pos[keep], metres[keep]
    book = fig.books["category"].code
    wanted = np.array([book.get(r["category"], -2) for r in rows], dtype=np.int64)  # codes, not text
    keep = (fig.rank(pos) < DONE_RANK) & (fig.column("category", pos) == wanted[k])
    ids = service.table.cols["incident_id"][pos]
    own = np.array([r.get("incident_id") for r in rows], dtype=object)
    keep &= ids != own[k]
    no_limit = np.iinfo("int64").max
    before = np.array([no_limit if r.get("reported_at") is None else r["reported_at"].value for r in rows])
    late = keep & (fig.column("reported_at", pos) >= before[k])
    if late.any():  # reported at the same instant or after: only an earlier row of the same batch counts
        rank = {r.get("incident_id"): j for j, r in enumerate(rows)}
        late[late] = [rank.get(i, len(rows)) >= j for i, j in zip(ids[late].tolist(), k[late].tolist())]
        keep &= ~late
    if may_see is not None and keep.any():
        keep[keep] = np.asarray(may_see(fig.values("category", pos[keep]), fig.values("grid_code", pos[keep])), bool)
    k, ids, metres = k[keep], ids[keep], metres[keep]
    out: list[list] = [[] for _ in rows]
    for j, i, m in zip(*(a[np.lexsort((metres, k))].tolist() for a in (k, ids, metres))):  # stable: ties by id
        out[j].append((i, round(m, 1)))
    return out


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
