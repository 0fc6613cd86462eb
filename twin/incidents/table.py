"""The in-memory incident table: growable column arrays, appended and updated in place, snapshotted per version.

Stage, category, source, level, places, times and rating live once, coded, in the FigureIndex the table is given;
the table itself keeps the id, the household, the priority and the position of each incident, and the free text
(description, contacts, media) of the open ones only: a closed incident's text is read from the store when asked
for, so memory grows with the open incidents, not with years of closed history.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.times import utc_series

from .figures import CODED, TIMES, FigureIndex
from .store import COLUMNS, INT_FIELDS
from .timeliness import DONE_RANK, STAGE_RANK

log = logging.getLogger(__name__)

NAT = np.iinfo("int64").min
FIGURE_COLUMNS = (*CODED, *TIMES, "rating")
OWN = tuple(c for c in COLUMNS if c not in FIGURE_COLUMNS)
NUMERIC = ("priority", "lon", "lat")
TEXT = ("description", "media_url", "contact_name", "contact_phone", "contact_email")  # open incidents' only
ARRAYS = tuple(c for c in OWN if c not in TEXT)


class LiveTable:
    """Incident rows as one numpy array per column (positions never change), so writes cost O(1)."""

    def __init__(self, frame: pd.DataFrame, figures: FigureIndex, texts=None):
        """`texts(ids, columns) -> {id: tuple}` reads closed incidents' text from the store (None: keep all)."""
        n = len(frame)
        cap = max(1024, int(n * 1.25))
        self.n = n
        self.figures = figures
        self.texts = texts
        self.cols: dict[str, np.ndarray] = {}
        for c in ARRAYS:
            if c in NUMERIC:
                arr = np.full(cap, np.nan)
                arr[:n] = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            else:
                arr = np.full(cap, None, dtype=object)
                arr[:n] = frame[c].astype(object).where(frame[c].notna(), None).to_numpy(dtype=object)
            self.cols[c] = arr
        self.pos = IdPositions(self, n)
        kept = np.arange(n) if texts is None else np.flatnonzero(figures.rank(slice(0, n)) < DONE_RANK)
        values = [frame[c].take(kept).to_numpy(dtype=object) for c in TEXT] if n else [[] for _ in TEXT]
        self._all_text: tuple[int, list[np.ndarray]] | None = None  # every incident's text, once a full frame asked
        self.text: dict[int, tuple] = {
            i: tuple(None if _missing(v) else v for v in row) for i, row in zip(kept.tolist(), zip(*values))
        }

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
            missing = _missing(v)
            if c in NUMERIC:
                self.cols[c][i] = np.nan if missing else float(v)
            else:
                self.cols[c][i] = None if missing else v
        if any(c in values for c in TEXT):
            old = self.text.get(i, (None,) * len(TEXT))
            self.text[i] = tuple(
                (None if _missing(values[c]) else values[c]) if c in values else o for c, o in zip(TEXT, old)
            )
        if self.texts is not None and self._done(i, values):
            self.text.pop(i, None)  # closed: the store keeps its text

    def _done(self, i: int, values: dict) -> bool:
        if "stage" in values:  # the table is written before the figures
            return STAGE_RANK.get(values["stage"], 0) >= DONE_RANK
        return i < len(self.figures) and int(self.figures.rank(i)) >= DONE_RANK

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
            elif c in TEXT:
                continue
            else:
                data[c] = pd.Series(self.cols[c][sel].copy(), index=index, dtype=object)
        wanted = [c for c in (COLUMNS if columns is None else columns) if c in TEXT]
        if wanted:
            texts = self._every_text(wanted) if positions is None else self._texts(sel, wanted)
            data.update({c: pd.Series(texts[k], index=index, dtype=object) for k, c in enumerate(wanted)})
        order = list(COLUMNS if columns is None else columns)
        return pd.DataFrame({c: data[c] for c in order}, copy=False)

    def _every_text(self, columns: list[str]) -> list[np.ndarray]:
        """Copies of the text `columns` of every incident. Kept once asked for (a full frame holds them anyway):
        an incident's text never changes after it is reported, so the next call reads only the incidents added
        since, not a million rows from the store."""
        n, arrays = self._all_text or (0, None)
        if n < self.n:
            tail = self._texts(np.arange(n, self.n), list(TEXT))
            arrays = tail if arrays is None else [np.concatenate([a, b]) for a, b in zip(arrays, tail)]
            self._all_text = (self.n, arrays)
        if arrays is None:  # no incident yet
            return [np.full(0, None, dtype=object) for _ in columns]
        return [arrays[TEXT.index(c)][: self.n].copy() for c in columns]

    def _texts(self, sel: np.ndarray, columns: list[str]) -> list[np.ndarray]:
        """The text `columns` at positions `sel`: the open incidents' from memory, the others from the store."""
        at = [TEXT.index(c) for c in columns]
        out = [np.full(len(sel), None, dtype=object) for _ in columns]
        missing = []
        for k, i in enumerate(sel.tolist()):
            row = self.text.get(i)
            if row is None:
                missing.append(k)
            else:
                for col, j in zip(out, at):
                    col[k] = row[j]
        if missing and self.texts is not None:
            ids = self.cols["incident_id"][sel[missing]].tolist()
            stored = self.texts(ids, columns)
            for k, iid in zip(missing, ids):
                row = stored.get(iid)
                if row is not None:
                    for col, v in zip(out, row):
                        col[k] = v
        return out

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
            elif c not in TEXT:
                out[c] = self.cols[c][i]
        texts = self._texts(np.array([i]), list(TEXT))
        out.update({c: texts[k][0] for k, c in enumerate(TEXT)})
        return {c: out[c] for c in COLUMNS}


class IdPositions:
    """Incident id → position, answered as a dict would (`in`, `[]`, get, a new id set): the ids loaded at start are
    found by binary search in the table's id column through a sorted int32 order (4 bytes an incident; a dict entry
    and its int cost about 60), the ids added since in a small dict. Ids and positions never change."""

    def __init__(self, table: LiveTable, n: int):
        self._table, self._n, self._added = table, n, {}
        ids = table.cols["incident_id"][:n]
        ascending = n < 2 or bool((ids[1:] > ids[:-1]).all())  # the usual case: ids grow with time
        self._order = None if ascending else _text_order(ids)

    def get(self, incident_id, default=None):
        """The position of `incident_id`, else `default`."""
        found = self._added.get(incident_id)
        if found is not None or not self._n or not isinstance(incident_id, str):
            return default if found is None else found
        p = int(self.many([incident_id])[0])
        return default if p < 0 else p

    def many(self, incident_ids) -> np.ndarray:
        """The position of each of `incident_ids` (-1 for an unknown id), in their order."""
        keys = np.asarray(list(incident_ids), dtype=object)
        out = np.array([self._added.get(k, -1) if isinstance(k, str) else -1 for k in keys.tolist()], dtype=np.int64)
        ask = np.flatnonzero((out < 0) & np.array([isinstance(k, str) for k in keys.tolist()], dtype=bool))
        if self._n and len(ask):
            ids = self._table.cols["incident_id"][: self._n]
            k = np.minimum(np.searchsorted(ids, keys[ask], sorter=self._order), self._n - 1)
            p = k if self._order is None else self._order[k].astype(np.int64)
            out[ask] = np.where(ids[p] == keys[ask], p, -1)
        return out

    def __contains__(self, incident_id) -> bool:
        return self.get(incident_id) is not None

    def __getitem__(self, incident_id) -> int:
        p = self.get(incident_id)
        if p is None:
            raise KeyError(incident_id)
        return p

    def __setitem__(self, incident_id, position: int) -> None:
        self._added[incident_id] = position

    def __len__(self) -> int:
        return self._n + len(self._added)


def _text_order(ids: np.ndarray) -> np.ndarray:
    """The int32 order sorting `ids` (text) as Python compares text (Arrow sorts UTF-8 bytes: the same order)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.sort_indices(pa.array(ids, type=pa.large_string())).to_numpy().astype(np.int32)


def _missing(v) -> bool:
    return v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and np.isnan(v))
