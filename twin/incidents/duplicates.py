"""Duplicate reports: open incidents of the same category within a radius are candidates; staff close a report as a
duplicate of another, and the link is kept both ways (a table, and a history event on each incident)."""

from __future__ import annotations

import logging
import threading

import numpy as np

from twin.errors import Conflict, InvalidInput

from . import lifecycle
from .timeliness import DONE_STAGES

log = logging.getLogger(__name__)

SCHEMA = "CREATE TABLE IF NOT EXISTS duplicates (incident_id TEXT PRIMARY KEY, original_id TEXT NOT NULL)"


def candidates(service, category: str, lon: float, lat: float, radius_m: float, exclude=None, before=None) -> list:
    """Open incidents of `category` within `radius_m` of (lon, lat), nearest first: [(incident_id, metres)].

    `exclude` leaves one id out (the report itself); `before` keeps only those reported before that time.
    """
    pos = service.index.radius(float(lon), float(lat), float(radius_m))
    table = service.table
    pos = pos[pos < table.n]
    if not len(pos):
        return []
    cols = table.cols
    keep = (cols["category"][pos] == category) & ~np.isin(cols["stage"][pos], DONE_STAGES)
    if exclude is not None:
        keep &= cols["incident_id"][pos] != exclude
    if before is not None:
        keep &= cols["reported_at"][pos] < before.value
    pos = pos[keep]
    if not len(pos):
        return []
    crs = service.twin.crs
    x, y = crs.xy(cols["lon"][pos].astype(float), cols["lat"][pos].astype(float))
    x0, y0 = crs.xy(float(lon), float(lat))
    metres = np.hypot(np.asarray(x) - x0, np.asarray(y) - y0)
    order = np.argsort(metres, kind="stable")
    return [(cols["incident_id"][pos[i]], round(float(metres[i]), 1)) for i in order]


class DuplicateLinks:
    """Which incident was closed as a duplicate of which: durable in the incident store, mirrored in memory."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        with store.transaction() as db:
            db.execute(SCHEMA)
        with store._lock:
            rows = store._db.execute("SELECT incident_id, original_id FROM duplicates").fetchall()
        self.original: dict[str, str] = {r[0]: r[1] for r in rows}

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
        store = self.store

        def change(row):
            changes, event = lifecycle.duplicate(row, original_id, actor, now, note)
            # the same transaction (store.update holds it on this connection): the link and the original's event
            store._db.execute(
                "INSERT INTO duplicates (incident_id, original_id) VALUES (?, ?)", (incident_id, original_id)
            )
            store._write_event(
                store._db,
                original_id,
                {
                    "at": now,
                    "actor": actor,
                    "action": "duplicate_linked",
                    "from_stage": orig["stage"],
                    "to_stage": orig["stage"],
                    "note": note,
                    "detail": {"duplicate": incident_id},
                },
            )
            return changes, event

        with service._lock, self._lock:
            now = service.now()
            row = store.update(incident_id, change)
            service.table.update(incident_id, row)
            service._writes += 1
            self.original[incident_id] = original_id
        log.info("incident %s closed as a duplicate of %s by %s", incident_id, original_id, actor)
        return service.get(incident_id)
