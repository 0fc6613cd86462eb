"""Alerts for open work-queue and wall pages: new incidents, SOS, newly overdue ones; short polling on a counter.

Why short polling: waitress serves with a bounded pool of THREADS threads, and a server-sent-event stream or a long
poll holds one thread per open page for as long as it is open; 50 wall screens and clerks' pages would take every
thread and starve every other request. A poll here answers from memory in well under a millisecond (a sequence
number compared with the caller's `since`), so 50 pages polling every ALERT_POLL_SECONDS cost a few requests a
second and hold no thread between them. New incidents are found by comparing the incident table's length with a
cursor; newly overdue ones by re-checking the open incidents at most once a second, by whichever poll comes first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np
from flask import Blueprint, current_app, jsonify, request

from twin.errors import InvalidInput
from twin.incidents.timeliness import timeliness
from twin.times import iso

from . import get_twin
from .auth import current_principal, require
from .http import parse_int

log = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__)

KEEP = 1000  # alerts kept in memory for pages that missed a few polls
OVERDUE_CHECK_S = 1.0
MAX_NEW_PER_REFRESH = 500  # an import of many incidents is one summary, not thousands of toasts


class AlertFeed:
    """A numbered stream of alerts about one incident service, refreshed by the polls themselves."""

    def __init__(self, service):
        self.service = service
        self.seq = 0
        self.events: deque = deque(maxlen=KEEP)
        self._lock = threading.Lock()
        self._cursor = len(service)
        self._version = service.version
        self._open_version = None
        self._open_pos = np.zeros(0, dtype=np.int64)
        self._overdue: set | None = None
        self._checked = 0.0

    def poll(self) -> int:
        """Bring the stream up to date if something may have changed (never waits for another poll doing so)."""
        due = time.monotonic() - self._checked >= OVERDUE_CHECK_S
        if (due or self.service.version != self._version) and self._lock.acquire(blocking=False):
            try:
                self._refresh(due)
            finally:
                self._lock.release()
        return self.seq

    def since(self, seq: int, principal) -> list[dict]:
        """Alerts after `seq` that `principal` may see (staff limited to grids: those grids only)."""
        grids = principal.grids if principal.role == "staff" else None
        return [e for e in list(self.events) if e["seq"] > seq and (grids is None or e["grid_code"] in grids)]

    def _refresh(self, check_overdue: bool) -> None:
        s = self.service
        self._version = s.version
        n = len(s)
        if n > self._cursor:
            first = max(self._cursor, n - MAX_NEW_PER_REFRESH)
            rows = s.table.frame(np.arange(first, n))
            for r in rows.to_dict("records"):
                self._add("sos" if r["category"] == "sos" else "new", r)
            self._cursor = n
        if check_overdue:
            self._checked = time.monotonic()
            self._check_overdue(n)

    def _check_overdue(self, n: int) -> None:
        s = self.service
        if self._open_version != s.version:  # the open set changes only with a write
            self._open_pos = s.open_positions()
            self._open_pos = self._open_pos[self._open_pos < n]
            self._open_version = s.version
        rows = s.table.frame(self._open_pos)
        late = rows[timeliness(rows, s.deadlines, s.now())["overdue"].to_numpy(dtype=bool)] if len(rows) else rows
        ids = set(late["incident_id"])
        if self._overdue is not None:
            for r in late[~late["incident_id"].isin(self._overdue)].to_dict("records"):
                self._add("overdue", r)
        self._overdue = ids

    def _add(self, kind: str, r: dict) -> None:
        self.seq += 1
        self.events.append(
            {
                "seq": self.seq,
                "kind": kind,
                "incident_id": r["incident_id"],
                "category": r["category"],
                "stage": r["stage"],
                "grid_code": r["grid_code"],
                "building_id": r["building_id"],
                "reported_at": iso(r["reported_at"], self.service.timezone, "seconds"),
                "lon": r["lon"],
                "lat": r["lat"],
            }
        )


@bp.record_once
def _start(state) -> None:
    """Start the feed with the app, so an incident reported before the first poll still raises its alert."""
    twin = state.app.extensions.get("twin")
    if getattr(twin, "incidents", None) is not None:
        state.app.extensions["alert_feed"] = AlertFeed(twin.incidents)


def feed() -> AlertFeed | None:
    """The app's alert feed (made on first use); None for a twin without incidents."""
    ext = current_app.extensions
    if "alert_feed" not in ext and get_twin().incidents is not None:
        ext["alert_feed"] = AlertFeed(get_twin().incidents)
    return ext.get("alert_feed")


@bp.get("/api/alerts")
@require("staff", "admin")
def alerts():
    """{seq, alerts}: the caller's alerts after ?since=SEQ (none without since: a page starts at the current seq)."""
    unknown = set(request.args) - {"since", "lang"}
    if unknown:
        raise InvalidInput(
            f"unknown parameter(s) {', '.join(sorted(unknown))}; use since", parameter=sorted(unknown)[0]
        )
    f = feed()
    seq = f.poll() if f is not None else 0
    since = parse_int(request.args, "since", seq, 0, None)
    resp = jsonify({"seq": seq, "alerts": f.since(since, current_principal()) if since < seq else []})
    resp.headers["Cache-Control"] = "no-store"
    return resp
