"""Duplicate reports: open incidents of the same category within a radius are candidates; staff close a report as a
duplicate of another, and the link is kept both ways (a table, and a history event on each incident)."""

from __future__ import annotations

import logging
import threading
import weakref

import numpy as np

from twin.errors import Conflict, InvalidInput

from . import lifecycle

log = logging.getLogger(__name__)


def candidates(service, category: str, lon: float, lat: float, radius_m: float, exclude=None, before=None) -> list:
    """Open incidents of `category` within `radius_m` of (lon, lat), nearest first: [(incident_id, metres)].

    `exclude` leaves one id out (the report itself); `before` keeps only those reported before that time.
    Searched among the open incidents only (positions and metric coordinates kept per data version): a year's
    closed reports stacked at a busy spot would otherwise cost a spatial query each.
    """
    o = _open_set(service)
    keep = o["category"] == category
    if before is not None:
        keep &= o["reported"] < before.value
    if not keep.any():
        return []
    x0, y0 = service.twin.crs.xy(float(lon), float(lat))
    metres = np.hypot(o["x"][keep] - float(x0), o["y"][keep] - float(y0))
    ids = o["id"][keep]
    near = metres <= radius_m
    if exclude is not None:
        near &= ids != exclude
    order = np.argsort(metres[near], kind="stable")
    return [(ids[near][i], round(float(metres[near][i]), 1)) for i in order]


_OPEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_OPEN_LOCK = threading.Lock()


def _open_set(service) -> dict:
    """Id, category, report time and metric x/y of every open incident, per data version of `service`."""
    with _OPEN_LOCK:
        cached = _OPEN.get(service)
        version = service.version
        if cached is not None and cached[0] == version:
            return cached[1]
        cols = service.table.cols
        fig = service.figures
        pos = service.open_positions()
        x, y = service.twin.crs.xy(cols["lon"][pos].astype(float), cols["lat"][pos].astype(float))
        data = {
            "id": cols["incident_id"][pos],
            "category": fig.values("category", pos),
            "reported": fig.column("reported_at", pos),
            "x": np.asarray(x, dtype=float),
            "y": np.asarray(y, dtype=float),
        }
        _OPEN[service] = (version, data)
        return data


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
