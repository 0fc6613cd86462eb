"""The in-memory incident table: growable column arrays, appended and updated in place, snapshotted per version.

Stage, category, source, level, places, times and rating live once, coded, in the FigureIndex the table is given;
the table itself keeps the id, the free text, the priority and the position of each incident.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.times import utc_series

from .figures import CODED, TIMES, FigureIndex
from .store import COLUMNS, INT_FIELDS

log = logging.getLogger(__name__)

NAT = np.iinfo("int64").min
FIGURE_COLUMNS = (*CODED, *TIMES, "rating")
OWN = tuple(c for c in COLUMNS if c not in FIGURE_COLUMNS)
NUMERIC = ("priority", "lon", "lat")


class LiveTable:
    """Incident rows as one numpy array per column (positions never change), so writes cost O(1)."""

    def __init__(self, frame: pd.DataFrame, figures: FigureIndex):
        n = len(frame)
        cap = max(1024, int(n * 1.25))
        self.n = n
        self.figures = figures
        self.cols: dict[str, np.ndarray] = {}
        for c in OWN:
            if c in NUMERIC:
                arr = np.full(cap, np.nan)
                arr[:n] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            else:
                arr = np.full(cap, None, dtype=object)
                arr[:n] = frame[c].astype(object).where(frame[c].notna(), None).to_numpy(dtype=object)
            self.cols[c] = arr
        self.pos = {v: i for i, v in enumerate(self.cols["incident_id"][:n].tolist())}

    def __len__(self) -> int:
        return self.n

    def append(self, record: dict) -> int:
        """Add one incident's own columns (the FigureIndex takes the rest); return its position."""
        if self.n == len(self.cols["incident_id"]):
            self._grow()
        i = self.n
        self._set(i, record)
        self.pos[record["incident_id"]] = i
        self.n += 1
        return i

    def update(self, incident_id: str, changes: dict) -> int:
        """Change some own fields of one incident in place; return its position."""
        i = self.pos[incident_id]
        self._set(i, changes)
        return i

    def _set(self, i: int, values: dict) -> None:
        for c, v in values.items():
            if c not in self.cols:
                continue
            missing = v is None or v is pd.NaT or v is pd.NA
            if c in NUMERIC:
                self.cols[c][i] = np.nan if missing else float(v)
            else:
                self.cols[c][i] = None if missing else v

    def _grow(self) -> None:
        for c, arr in self.cols.items():
            extra = np.full(len(arr), None if arr.dtype == object else np.nan, dtype=arr.dtype)
            self.cols[c] = np.concatenate([arr, extra])

    def frame(self, positions=None, columns=None) -> pd.DataFrame:
        """A copy of the rows (all, or at `positions`; every column, or `columns`), datetimes tz-aware UTC, ints
        nullable, index = position."""
        sel = np.arange(self.n) if positions is None else np.asarray(positions, dtype=np.int64)
        index = pd.RangeIndex(self.n) if positions is None else pd.Index(sel)
        fig = self.figures
        data = {}
        for c in COLUMNS if columns is None else columns:
            if c in TIMES:
                ns = fig.column(c, sel).astype("int64", copy=True)
                data[c] = utc_series(ns, index)
            elif c == "rating":
                r = fig.column(c, sel)
                data[c] = pd.Series(pd.array(np.where(r > 0, r, np.nan), dtype="Float64").astype("Int64"), index=index)
            elif c in CODED:
                data[c] = pd.Series(fig.values(c, sel), index=index, dtype=object)
            elif c in INT_FIELDS:
                data[c] = pd.Series(pd.array(self.cols[c][sel], dtype="Float64").astype("Int64"), index=index)
            elif c in NUMERIC:
                data[c] = pd.Series(self.cols[c][sel].copy(), index=index)
            else:
                data[c] = pd.Series(self.cols[c][sel].copy(), index=index, dtype=object)
        return pd.DataFrame(data, copy=False)

    def row(self, incident_id: str) -> dict:
        """One incident as a plain dict (Timestamps or None, ints or None)."""
        i = self.pos[incident_id]
        fig = self.figures
        out = {}
        for c in COLUMNS:
            if c in TIMES:
                v = int(fig.column(c, i))
                out[c] = None if v == NAT else pd.Timestamp(v, tz="UTC")
            elif c == "rating":
                v = int(fig.column(c, i))
                out[c] = v if v > 0 else None
            elif c in CODED:
                code = int(fig.column(c, i))
                out[c] = fig.books[c].values[code] if code >= 0 else None
            elif c in INT_FIELDS:
                v = self.cols[c][i]
                out[c] = None if np.isnan(v) else int(v)
            elif c in NUMERIC:
                out[c] = float(self.cols[c][i])
            else:
                out[c] = self.cols[c][i]
        return out
