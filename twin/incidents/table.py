"""The in-memory incident table: growable column arrays, appended and updated in place, snapshotted per version."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .store import COLUMNS, INT_FIELDS, TIME_FIELDS

log = logging.getLogger(__name__)

NAT = np.iinfo("int64").min


class LiveTable:
    """Incident rows as one numpy array per column (positions never change), so writes cost O(1)."""

    def __init__(self, frame: pd.DataFrame):
        n = len(frame)
        cap = max(1024, int(n * 1.25))
        self.n = n
        self.cols: dict[str, np.ndarray] = {}
        for c in COLUMNS:
            if c in TIME_FIELDS:
                arr = np.full(cap, NAT, dtype="int64")
                arr[:n] = pd.to_datetime(frame[c], utc=True).to_numpy(dtype="datetime64[ns]").view("int64")
            elif c in INT_FIELDS or c in ("lon", "lat"):
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
        """Add one incident; return its position."""
        if self.n == len(self.cols["incident_id"]):
            self._grow()
        i = self.n
        self._set(i, record)
        self.pos[record["incident_id"]] = i
        self.n += 1
        return i

    def update(self, incident_id: str, changes: dict) -> int:
        """Change some fields of one incident in place; return its position."""
        i = self.pos[incident_id]
        self._set(i, changes)
        return i

    def _set(self, i: int, values: dict) -> None:
        for c, v in values.items():
            if c not in self.cols:
                continue
            missing = v is None or v is pd.NaT or v is pd.NA
            if c in TIME_FIELDS:
                self.cols[c][i] = NAT if missing else pd.Timestamp(v).value
            elif c in INT_FIELDS or c in ("lon", "lat"):
                self.cols[c][i] = np.nan if missing else float(v)
            else:
                self.cols[c][i] = None if missing else v

    def _grow(self) -> None:
        for c, arr in self.cols.items():
            extra = np.full(
                len(arr), NAT if c in TIME_FIELDS else (None if arr.dtype == object else np.nan), dtype=arr.dtype
            )
            self.cols[c] = np.concatenate([arr, extra])

    def frame(self, positions=None, columns=None) -> pd.DataFrame:
        """A copy of the rows (all, or at `positions`; every column, or `columns`), datetimes tz-aware UTC, ints
        nullable, index = position."""
        sel = slice(0, self.n) if positions is None else np.asarray(positions, dtype=np.int64)
        index = pd.RangeIndex(self.n) if positions is None else pd.Index(sel)
        data = {}
        for c in COLUMNS if columns is None else columns:
            arr = self.cols[c][sel]
            if c in TIME_FIELDS:
                data[c] = pd.Series(arr.astype("int64", copy=True).view("M8[ns]"), index=index).dt.tz_localize("UTC")
            elif c in INT_FIELDS:
                data[c] = pd.Series(pd.array(arr, dtype="Float64").astype("Int64"), index=index)
            elif c in ("lon", "lat"):
                data[c] = pd.Series(arr.copy(), index=index)
            else:
                data[c] = pd.Series(arr.copy(), index=index, dtype=object)
        return pd.DataFrame(data, copy=False)

    def row(self, incident_id: str) -> dict:
        """One incident as a plain dict (Timestamps or None, ints or None)."""
        i = self.pos[incident_id]
        out = {}
        for c in COLUMNS:
            v = self.cols[c][i]
            if c in TIME_FIELDS:
                out[c] = None if v == NAT else pd.Timestamp(int(v), tz="UTC")
            elif c in INT_FIELDS:
                out[c] = None if np.isnan(v) else int(v)
            elif c in ("lon", "lat"):
                out[c] = float(v)
            else:
                out[c] = v
        return out
