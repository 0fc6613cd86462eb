"""Incident figures from compact coded columns kept per write: counts, on-time rates, open and overdue.

FigureIndex holds, for every incident at the position it has in the service (the live spatial index's ids), its
stage, category, source, level and places as small integer codes, its five times as int64 nanoseconds and its
rating; the set of open incidents is kept apart, and the report-time order is an index (a sorted array), so a
period is two binary searches. Every figure is plain array arithmetic over the positions asked for:

    summary(pos, now)        -- SELECT count(*), count(*) FILTER (WHERE stage NOT IN done), ... GROUP BY stage, ...
    counts(pos, column)      -- SELECT column, count(*) ... GROUP BY column
    between(start, end)      -- WHERE reported_at >= start AND reported_at < end   (index on reported_at)
    open_positions()         -- WHERE stage NOT IN ('resolved', 'closed')         (partial index)

so a SQL backend can answer the same calls with the queries beside them; overdue is judged from the clock by
twin.incidents.timeliness.judge() at every call and never stored.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import pandas as pd

from twin.times import to_utc
from twin.vocab import ESCALATION_LEVELS, INCIDENT_CATEGORIES, INCIDENT_SOURCES, INCIDENT_STAGES

from .deadlines import LIMITS, Deadlines
from .timeliness import DONE_RANK, LIMIT_TIME, NAT, judge

log = logging.getLogger(__name__)

CODED = {
    "stage": INCIDENT_STAGES,
    "category": INCIDENT_CATEGORIES,
    "source": INCIDENT_SOURCES,
    "level": ESCALATION_LEVELS,
    "grid_code": (),
    "community_id": (),
    "compound_id": (),
    "building_id": (),
}
TIMES = ("reported_at", "accepted_at", "on_site_at", "resolved_at", "closed_at")
VOCABS = {"stage": INCIDENT_STAGES, "category": INCIDENT_CATEGORIES, "source": INCIDENT_SOURCES}


class Codebook:
    """Text values ↔ small integer codes (vocabulary codes first, others as they come; None is -1)."""

    def __init__(self, known=()):
        self.values: list = list(known)
        self.code: dict = {v: i for i, v in enumerate(self.values)}
        self._table = np.array([None], dtype=object)  # values + None, rebuilt when values grew (they only grow)

    def encode(self, value) -> int:
        """The code of `value` (a new one when unseen); -1 for a missing value."""
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return -1
        c = self.code.get(value)
        if c is None:
            c = self.code[value] = len(self.values)
            self.values.append(value)
        return c

    def encode_many(self, values) -> np.ndarray:
        """Codes of many values at once."""
        codes, uniques = pd.factorize(pd.Series(values))  # distinct values in order of appearance; missing -1
        book = np.array([self.encode(v) for v in uniques], dtype=np.int32)
        return np.where(codes < 0, -1, book[codes] if len(book) else -1).astype(np.int32)

    def decode(self, codes) -> np.ndarray:
        """Values of codes (None for -1)."""
        table = self._table
        if len(table) != len(self.values) + 1:
            table = self._table = np.array([*self.values, None], dtype=object)
        return table[np.asarray(codes, dtype=np.int64)]  # -1 picks the trailing None


class FigureIndex:
    """Coded columns of every incident (positions = service positions), the open set and the report-time order."""

    def __init__(self, frame: pd.DataFrame):
        n = len(frame)
        cap = max(1024, int(n * 1.25))
        self.n = n
        self.books = {c: Codebook(v) for c, v in CODED.items()}
        self.cols: dict[str, np.ndarray] = {}
        for c in CODED:
            arr = np.full(cap, -1, dtype=np.int32)
            if n and c in frame:
                arr[:n] = self.books[c].encode_many(frame[c])
            self.cols[c] = arr
        for c in TIMES:
            arr = np.full(cap, NAT, dtype=np.int64)
            if n and c in frame:
                arr[:n] = pd.to_datetime(frame[c], utc=True).to_numpy(dtype="datetime64[ns]").view("int64")
            self.cols[c] = arr
        rating = np.zeros(cap, dtype=np.int8)
        if n and "rating" in frame:
            rating[:n] = pd.to_numeric(frame["rating"], errors="coerce").fillna(0).to_numpy(dtype=np.int8)
        self.cols["rating"] = rating
        self._open = set(np.flatnonzero(self.rank(slice(0, n)) < DONE_RANK).tolist())
        self._lock = threading.RLock()
        self._order: np.ndarray | None = None  # positions by report time (first _order_n of the buffer)
        self._order_t: np.ndarray | None = None  # their report times, so a range is two binary searches
        self._order_n = 0
        self._order_gen = 0  # changes when an insertion moves positions already in the order
        self._open_cache: np.ndarray | None = None
        self._between: dict = {}  # (start, end) → (order generation, lo, hi, positions)
        self._secs: dict = {}
        self.serial = 0  # counts writes; changed[i] is the serial of the last write to position i
        self.changed = np.zeros(cap, dtype=np.int64)
        log.debug("incident figures: %d incidents indexed, %d open", n, len(self._open))

    def __len__(self) -> int:
        return self.n

    # --- writes ------------------------------------------------------------------------------------------------
    def append(self, record: dict) -> int:
        """Add one incident at the next position; return it."""
        with self._lock:
            if self.n == len(self.cols["stage"]):
                self._grow()
            i = self.n
            self._set(i, record)
            self.n += 1
            self._stamp(i)
            if self._order is not None:
                self._place(i, int(self.cols["reported_at"][i]))
            return i

    def _place(self, i: int, t: int) -> None:
        """Put position `i` (report time `t`) into the order: at the end, or shifted in before later reports."""
        k = self._order_n
        if k == len(self._order):
            grow = max(k, 1024)
            self._order = np.concatenate([self._order, np.zeros(grow, dtype=np.int64)])
            self._order_t = np.concatenate([self._order_t, np.zeros(grow, dtype=np.int64)])
        at = k if not k or t >= self._order_t[k - 1] else int(np.searchsorted(self._order_t[:k], t, side="right"))
        if at < k:  # reported before the latest (a clock behind, an import): shift the later ones by one
            self._order[at + 1 : k + 1] = self._order[at:k].copy()
            self._order_t[at + 1 : k + 1] = self._order_t[at:k].copy()
            self._order_gen += 1
        self._order[at], self._order_t[at] = i, t
        self._order_n = k + 1

    def update(self, i: int, changes: dict) -> None:
        """Change some fields of the incident at position `i`."""
        with self._lock:
            self._set(i, changes)
            self._stamp(i)

    def _stamp(self, i: int) -> None:
        self.serial += 1
        self.changed[i] = self.serial

    def changed_since(self, pos, serial: int) -> bool:
        """Whether any incident at `pos` was written after the write numbered `serial` (see `self.serial`)."""
        pos = np.asarray(pos, dtype=np.int64)
        return bool(len(pos)) and int(self.changed[pos].max()) > serial

    def _set(self, i: int, values: dict) -> None:
        for c, v in values.items():
            if c in CODED:
                self.cols[c][i] = self.books[c].encode(v)
            elif c in TIMES:
                self.cols[c][i] = NAT if v is None or v is pd.NaT else pd.Timestamp(v).value
            elif c == "rating":
                self.cols[c][i] = 0 if v is None or v is pd.NA or pd.isna(v) else int(v)
        if "stage" in values:
            if self.rank(i) < DONE_RANK:
                self._open.add(i)
            else:
                self._open.discard(i)
            self._open_cache = None

    def _grow(self) -> None:
        for c, arr in self.cols.items():
            fill = NAT if c in TIMES else (0 if c == "rating" else -1)
            self.cols[c] = np.concatenate([arr, np.full(len(arr), fill, dtype=arr.dtype)])
        self.changed = np.concatenate([self.changed, np.zeros(len(self.changed), dtype=np.int64)])

    # --- selections --------------------------------------------------------------------------------------------
    def open_positions(self) -> np.ndarray:
        """Positions of the open incidents, ascending."""
        with self._lock:
            if self._open_cache is None:
                self._open_cache = np.array(sorted(self._open), dtype=np.int64)
            return self._open_cache

    def _sorted(self) -> np.ndarray:
        """Positions in report-time order (the index on reported_at), rebuilt only after an out-of-order write."""
        with self._lock:
            if self._order is None:
                self._order = np.argsort(self.cols["reported_at"][: self.n], kind="stable").astype(np.int64)
                self._order_t = self.cols["reported_at"][self._order]
                self._order_n = self.n
                self._order_gen += 1
            return self._order[: self._order_n]

    def between(self, start=None, end=None) -> np.ndarray:
        """Positions of incidents reported in [start, end) (either open-ended when None), ascending.

        The answer for the same bounds is kept: writes in report order only append positions larger than every
        earlier one, so the kept answer grows by its sorted tail instead of being sorted again.
        """
        with self._lock:
            order = self._sorted()
            times = self._order_t[: self._order_n]
            lo = 0 if start is None else int(np.searchsorted(times, to_utc(start).value, side="left"))
            hi = len(order) if end is None else int(np.searchsorted(times, to_utc(end).value, side="left"))
            key = (None if start is None else to_utc(start).value, None if end is None else to_utc(end).value)
            kept = self._between.get(key)
            if kept is not None and kept[0] == self._order_gen and kept[1] == lo and kept[2] <= hi:
                out = kept[3] if kept[2] == hi else np.concatenate([kept[3], np.sort(order[kept[2] : hi])])
            else:
                out = np.sort(order[lo:hi])
            self._between[key] = (self._order_gen, lo, hi, out)
            if len(self._between) > 8:  # a few live ranges (today, this month, this quarter, a report)
                self._between.pop(next(iter(self._between)))
            return out

    def reported_range(self) -> tuple:
        """(earliest, latest) report time as tz-aware UTC Timestamps, (None, None) when there is none."""
        with self._lock:
            n = len(self._sorted())
            t = self._order_t[:n]
            first = int(np.searchsorted(t, NAT, side="right"))  # missing times sort first
            if first >= n:
                return None, None
            return pd.Timestamp(int(t[first]), tz="UTC"), pd.Timestamp(int(t[-1]), tz="UTC")

    # --- figures -----------------------------------------------------------------------------------------------
    def rank(self, pos):
        """Lifecycle rank of the incidents at `pos` (stage codes are ranks; an unknown or missing stage ranks 0)."""
        code = self.cols["stage"][pos]
        return np.where((code >= 0) & (code < len(INCIDENT_STAGES)), code, 0)

    def column(self, name: str, pos) -> np.ndarray:
        """The raw (coded) column `name` at positions `pos`."""
        return self.cols[name][pos]

    def values(self, name: str, pos) -> np.ndarray:
        """The decoded values of a coded column at positions `pos` (None where missing)."""
        return self.books[name].decode(self.cols[name][pos])

    def seconds(self, deadlines: Deadlines, limit: str, pos) -> np.ndarray:
        """Seconds allowed for `limit` to each incident at `pos` (per its category)."""
        book = self.books["category"]
        key = (id(deadlines), limit, len(book.values))
        table = self._secs.get(key)
        if table is None or table[0] is not deadlines:
            cats = pd.Series([*book.values, ""], dtype=object)
            table = self._secs[key] = (deadlines, deadlines.column(cats, limit))
        return table[1][self.cols["category"][pos]]  # code -1 picks the trailing "" (the default limits)

    def judge(self, pos, deadlines, now) -> dict:
        """twin.incidents.timeliness.judge() for the incidents at `pos` at `now`."""
        d = Deadlines.parse(deadlines)
        pos = np.asarray(pos, dtype=np.int64)
        return judge(
            self.cols["reported_at"][pos],
            self.rank(pos),
            {lim: self.seconds(d, lim, pos) for lim in LIMITS},
            {lim: self.cols[LIMIT_TIME[lim]][pos] for lim in LIMITS},
            to_utc(now).value,
        )

    def overdue(self, pos, deadlines, now) -> np.ndarray:
        """Whether each incident at `pos` is overdue at `now` (only open ones can be)."""
        pos = np.asarray(pos, dtype=np.int64)
        out = np.zeros(len(pos), dtype=bool)
        live = self.rank(pos) < DONE_RANK
        if live.any():
            out[live] = self.judge(pos[live], deadlines, now)["overdue"]
        return out

    def counts(self, pos, column: str, vocab=None) -> dict:
        """code → count of `column` over `pos` (every vocabulary code present, zero included; others by count)."""
        book = self.books[column]
        n = np.bincount(self.cols[column][pos] + 1, minlength=len(book.values) + 1)[1:]
        out = {code: int(n[book.code[code]]) if code in book.code else 0 for code in vocab} if vocab is not None else {}
        extra = [(int(-n[i]), str(v)) for i, v in enumerate(book.values) if n[i] and v not in out]
        for neg, code in sorted(extra):
            out[code] = -neg
        return out

    def summary(self, pos, deadlines, now) -> dict:
        """Counts, on-time rates per limit, closure rate and mean rating of the incidents at `pos`.

        open = not yet resolved or closed; closure_rate = (resolved + closed) / total; on_time[limit] = share of
        decided incidents that met the limit (None when none is decided); mean_rating over rated incidents.
        """
        pos = np.asarray(pos, dtype=np.int64)
        total = len(pos)
        t = self.judge(pos, deadlines, now)
        done = int((self.rank(pos) >= DONE_RANK).sum())
        ratings = self.cols["rating"][pos]
        rated = ratings[ratings > 0]
        return {
            "total": total,
            "open": total - done,
            "overdue": int(t["overdue"].sum()),
            **{f"by_{c}": self.counts(pos, c, VOCABS[c]) for c in ("stage", "category", "source")},
            "on_time": {lim: rate(t[f"met_{lim}"]) for lim in LIMITS},
            "closure_rate": round(done / total, 4) if total else None,
            "mean_rating": round(float(rated.mean()), 3) if len(rated) else None,
        }


def rate(met: np.ndarray):
    """Share of met (1) among decided (≥ 0) values, rounded to 4 places; None when nothing is decided."""
    decided = int((met >= 0).sum())
    return round(int((met == 1).sum()) / decided, 4) if decided else None
