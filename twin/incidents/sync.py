"""Several processes, one truth: a service takes in the incidents other processes wrote to its (shared) store.

Each store hands out a change token (SQLite: the last history row; PostgreSQL: the street office's version row,
bumped in every write transaction). At most every `sync_seconds` the service asks for the rows written after its
token and applies them to its in-memory table and index. The store leaves out the process's own writes (memory has
them; reading them back cost intake a third of its time), and only rows that differ from memory count as a write,
so a process's own writes do not change its version (ETag) twice.
"""

from __future__ import annotations

import threading
import time

import pandas as pd

from .store import COLUMNS


class Follower:
    """Pulls other processes' writes into one IncidentService, rate-limited; does nothing when seconds is None."""

    def __init__(self, service, store, seconds: float | None):
        self.service = service
        self.store = store
        self.seconds = seconds
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._token = store.changes_since(None)[0] if seconds is not None else None

    def follow(self) -> int:
        """Apply writes made elsewhere since the last look, if the interval has passed; return how many rows changed."""
        if self.seconds is None or time.monotonic() - self._last < self.seconds:
            return 0
        if not self._lock.acquire(blocking=False):  # another thread is already looking
            return 0
        try:
            self._last = time.monotonic()
            with self.service._lock:  # no own update may land between reading the rows and applying them
                self._token, rows = self.store.changes_since(self._token, mine=False)
                changed = self._apply(rows) if len(rows) else 0
                if changed:
                    self.service.duplicates.refresh()  # a report closed as a duplicate elsewhere
                return changed
        finally:
            self._lock.release()

    def _apply(self, rows: pd.DataFrame) -> int:
        svc = self.service
        changed = 0
        with svc._lock:
            table = svc.table
            known = [i for i in rows["incident_id"] if i in table.pos]
            same = set()
            if known:
                mem = table.frame([table.pos[i] for i in known]).reset_index(drop=True)
                new = rows.set_index("incident_id").loc[known].reset_index()[list(COLUMNS)]
                equal = (_canon(mem[list(COLUMNS)]) == _canon(new)).all(axis=1).to_numpy()
                same = {i for i, eq in zip(known, equal) if eq}
            for rec in rows.astype(object).where(rows.notna(), None).to_dict("records"):
                iid = rec["incident_id"]
                if iid in same:
                    continue
                if iid in table.pos:
                    pos = table.update(iid, rec)
                    svc.figures.update(pos, rec)
                else:
                    pos = table.append(rec)
                    svc.figures.append(rec)
                svc.index.insert(pos, rec["lon"], rec["lat"])  # adds, or moves an indexed point
                changed += 1
            svc._writes += changed
        return changed


def _canon(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as comparable text (times in ms, numbers as floats, missing as '')."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            out[c] = (pd.to_datetime(col, utc=True).astype("int64") // 1_000_000).where(col.notna(), -1).astype(str)
        elif c in ("lon", "lat") or str(col.dtype) in ("Int64", "float64"):
            out[c] = pd.to_numeric(col, errors="coerce").astype("float64").fillna(-1e300).map(repr)
        else:
            out[c] = col.astype(object).where(col.notna(), "").astype(str)
    return pd.DataFrame(out)
