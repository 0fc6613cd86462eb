"""Durable incident storage: SQLite in WAL mode, synchronous=FULL, one write transaction per change.

One implementation of twin.store.LiveStore (twin/postgres has the other). Times are stored as
integer milliseconds since the epoch (UTC); every stage change is a row of `history` written in the same
transaction as the incident row it changes, so the two never disagree, even after `kill -9`.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals

from twin.errors import NotFound
from twin.progress import Progress
from twin.store import LiveStore
from twin.times import utc_series

log = logging.getLogger(__name__)

TIME_FIELDS = ("reported_at", "accepted_at", "on_site_at", "resolved_at", "closed_at")
TEXT_FIELDS = (
    "incident_id",
    "category",
    "source",
    "description",
    "stage",
    "level",
    "grid_code",
    "community_id",
    "compound_id",
    "building_id",
    "household_id",
    "media_url",
    "contact_name",
    "contact_phone",
    "contact_email",
)
INT_FIELDS = ("priority", "rating")
COLUMNS = TEXT_FIELDS + INT_FIELDS + TIME_FIELDS + ("lon", "lat")
HISTORY_FIELDS = ("incident_id", "at", "actor", "action", "from_stage", "to_stage", "note", "detail")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS incidents (
    seq INTEGER PRIMARY KEY,
    {", ".join(f"{c} TEXT" for c in TEXT_FIELDS[1:])},
    incident_id TEXT NOT NULL UNIQUE,
    {", ".join(f"{c} INTEGER" for c in INT_FIELDS + TIME_FIELDS)},
    lon REAL NOT NULL, lat REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, from_stage TEXT, to_stage TEXT, note TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS history_incident ON history (incident_id, id);
CREATE TABLE IF NOT EXISTS care_checks (
    id INTEGER PRIMARY KEY, household_id TEXT NOT NULL, day TEXT NOT NULL, at INTEGER NOT NULL,
    answered INTEGER NOT NULL, actor TEXT NOT NULL, note TEXT
);
CREATE INDEX IF NOT EXISTS care_household_day ON care_checks (household_id, day);
CREATE TABLE IF NOT EXISTS care_visits (
    household_id TEXT NOT NULL, day TEXT NOT NULL, incident_id TEXT NOT NULL, PRIMARY KEY (household_id, day)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS duplicates (incident_id TEXT PRIMARY KEY, original_id TEXT NOT NULL);
"""


IncidentStore = LiveStore  # what the incident service needs from storage (twin.store declares it once)


def to_ms(ts) -> int | None:
    """Milliseconds since the epoch of a timestamp (None for missing)."""
    if ts is None or ts is pd.NaT or (isinstance(ts, float) and np.isnan(ts)):
        return None
    return int(pd.Timestamp(ts).value // 1_000_000)


def from_ms(ms) -> pd.Timestamp | None:
    """A tz-aware UTC timestamp from milliseconds since the epoch (None for missing)."""
    return None if ms is None else pd.Timestamp(int(ms), unit="ms", tz="UTC")


class SqliteIncidentStore:
    """Incidents, their history and care checks in one SQLite file (WAL, synchronous=FULL, one writer)."""

    def __init__(self, path: str | Path, synchronous: str = "FULL"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()  # one writer at a time in this process; BEGIN IMMEDIATE across processes
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)
        self.own = OwnWrites()  # history ids this connection wrote: a follower of the store needs not read them back
        self._events: list[int] = []  # history ids written by the open transaction
        self.snapshot_dir = self.path.parent / "snapshot"  # prepared incidents for a fast start (snapshot.py)

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self):
        """One write transaction holding the database's write lock; committed on success, rolled back on error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._events = []
            try:
                yield self._db
                mine = (min(self._events) - 1, max(self._events)) if self._events else None
                if mine:  # noted before COMMIT, under the lock changes_since takes too: no reader sees it unnoted
                    self.own.add(*mine)
                try:
                    self._db.execute("COMMIT")
                except BaseException:
                    if mine:
                        self.own.discard(*mine)
                    raise
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already (e.g. SQLITE_FULL)
                    self._db.execute("ROLLBACK")
                raise

    # --- incidents -------------------------------------------------------------------------------------------
    def count(self) -> int:
        """Number of stored incidents."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM incidents").fetchone()[0])

    def load(self) -> pd.DataFrame:
        """Every incident in insertion order, datetimes tz-aware UTC; read in chunks, with progress when long.

        Fields with few distinct values (stage, category, places, ...) come as categoricals, so a large store does
        not hold one string object per row and field while it is read.
        """
        parts: dict[str, list] = {c: [] for c in COLUMNS}
        with self._lock:
            total = int(self._db.execute("SELECT count(*) FROM incidents").fetchone()[0])
            cur = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM incidents ORDER BY seq")
            with Progress(total, "loading incidents", unit="incident") as bar:
                while rows := cur.fetchmany(LOAD_CHUNK):
                    for name, values in zip(COLUMNS, zip(*rows)):
                        parts[name].append(_column(name, values))
                    bar.update(len(rows))
        data = {}
        for name in COLUMNS:
            chunks = parts[name] or [_column(name, ())]
            if name in CODED_FIELDS:
                data[name] = pd.Series(union_categoricals(chunks, ignore_order=True))
            elif name in TIME_FIELDS:
                data[name] = utc_series(np.concatenate(chunks))
            elif name in INT_FIELDS:
                data[name] = pd.Series(pd.array(np.concatenate(chunks), dtype="Float64").astype("Int64"))
            elif all(isinstance(c, pa.Array) for c in chunks):
                data[name] = pa.chunked_array(chunks, type=pa.large_string()).to_pandas()  # as the snapshot reads
            else:
                data[name] = pd.Series(np.concatenate([np.asarray(c, dtype=object) for c in chunks]), dtype=object)
        return pd.DataFrame(data)

    def changes_since(self, token, mine: bool = True) -> tuple[int, pd.DataFrame]:
        """Incidents written after history row `token` (every write adds one; one writer, so ids commit in order);
        with mine=False only those other connections wrote."""
        with self._lock:
            last = int(self._db.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0])
            if token is None or int(token) >= last:
                return last, incident_frame([])
            spans = [(int(token), last)] if mine else self.own.others(int(token), last)
            if not spans:
                return last, incident_frame([])
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM incidents WHERE incident_id IN "
                f"(SELECT incident_id FROM history WHERE {' OR '.join(['(id > ? AND id <= ?)'] * len(spans))}) "
                "ORDER BY seq",
                [v for span in spans for v in span],
            ).fetchall()
        return last, incident_frame(rows)

    def _next_seq(self, db) -> int:
        return int(db.execute("SELECT coalesce(max(seq), 0) + 1 FROM incidents").fetchone()[0])

    def insert_groups(self, groups: list[list[Callable]]) -> list:
        """Insert several callers' groups of records in one transaction, each group all or none (a savepoint).

        Returns, per group, its records or the exception that rolled it back; one commit (one fsync) for all.
        """
        out: list = []
        with self.transaction() as db:
            for makes in groups:
                db.execute("SAVEPOINT grp")
                try:
                    records = []
                    for make in makes:
                        record, event = make(self._next_seq(db))
                        self._write_new(db, record, event)
                        records.append(record)
                except Exception as exc:  # noqa: BLE001 - this group's failure is handed to its caller
                    if not db.in_transaction:  # SQLite rolled the whole transaction back (disk full): all fail
                        raise
                    db.execute("ROLLBACK TO grp")
                    records = exc
                db.execute("RELEASE grp")
                out.append(records)
        return out

    def insert_many(self, records: Iterable[dict], actor: str, action: str = "import", meta: dict | None = None) -> int:
        """Insert many complete records (an import) and `meta` in one transaction; each gets one history row."""
        n = 0
        with self.transaction() as db:
            for key, value in (meta or {}).items():
                self.set_meta(db, key, value)
            for record in records:
                self._write_new(
                    db,
                    record,
                    {
                        "at": record.get("reported_at"),
                        "actor": actor,
                        "action": action,
                        "from_stage": None,
                        "to_stage": record.get("stage"),
                    },
                )
                n += 1
        return n

    def _write_new(self, db, record: dict, event: dict) -> None:
        db.execute(
            f"INSERT INTO incidents ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            [db_value(c, record.get(c)) for c in COLUMNS],
        )
        self._write_event(db, record["incident_id"], event)

    def _write_event(self, db, incident_id: str, event: dict) -> None:
        detail = event.get("detail")
        cur = db.execute(
            f"INSERT INTO history ({', '.join(HISTORY_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident_id,
                to_ms(event["at"]),
                event["actor"],
                event["action"],
                event.get("from_stage"),
                event.get("to_stage"),
                event.get("note"),
                json.dumps(detail, ensure_ascii=False) if detail else None,
            ),
        )
        self._events.append(cur.lastrowid)

    def _row(self, db, incident_id: str) -> dict:
        row = db.execute(f"SELECT {', '.join(COLUMNS)} FROM incidents WHERE incident_id = ?", (incident_id,)).fetchone()
        if row is None:
            raise NotFound(f"incident {incident_id!r} does not exist", id=str(incident_id))
        return {c: from_ms(row[c]) if c in TIME_FIELDS else row[c] for c in COLUMNS}

    def get(self, incident_id: str) -> dict:
        """One stored incident as a dict."""
        with self._lock:
            return self._row(self._db, incident_id)

    def texts(self, incident_ids, columns) -> dict:
        """incident id → tuple of the text `columns` of each stored one of `incident_ids` (a scan when many)."""
        cols = ", ".join(text_columns(columns))
        ids = list(dict.fromkeys(incident_ids))
        out = {}
        with self._lock:
            cur = self._db.cursor()
            cur.row_factory = None  # plain tuples: several times faster than sqlite3.Row over a million rows
            if len(ids) > TEXT_SCAN:  # most of the table: one pass beats many index lookups
                wanted = set(ids)
                rows = cur.execute(f"SELECT incident_id, {cols} FROM incidents").fetchall()
                return {r[0]: r[1:] for r in rows if r[0] in wanted}
            for k in range(0, len(ids), TEXT_CHUNK):
                part = ids[k : k + TEXT_CHUNK]
                sql = f"SELECT incident_id, {cols} FROM incidents WHERE incident_id IN ({', '.join('?' * len(part))})"
                out.update((r[0], r[1:]) for r in cur.execute(sql, part))
        return out

    def update(self, incident_id: str, change: Callable[[dict], tuple[dict, dict]]) -> dict:
        """Read the row, apply `change(row) -> (changes, event)`, write both in one transaction, return the row."""
        with self.transaction() as db:
            return self._change(db, incident_id, change)

    def _change(self, db, incident_id: str, change) -> dict:
        row = self._row(db, incident_id)
        changes, event = change(dict(row))
        if changes:
            db.execute(
                f"UPDATE incidents SET {', '.join(f'{c} = ?' for c in changes)} WHERE incident_id = ?",
                [db_value(c, v) for c, v in changes.items()] + [incident_id],
            )
        self._write_event(db, incident_id, event)
        row.update(changes)
        return row

    # --- duplicate reports ------------------------------------------------------------------------------------
    def duplicate_links(self) -> dict[str, str]:
        """Every incident closed as a duplicate: {incident_id: original_id}."""
        with self._lock:
            return dict(self._db.execute("SELECT incident_id, original_id FROM duplicates").fetchall())

    def close_duplicate(self, incident_id: str, original_id: str, change, linked: dict) -> dict:
        """In one transaction: change the incident, record the link, add event `linked` to the original."""
        with self.transaction() as db:
            row = self._change(db, incident_id, change)
            db.execute("INSERT INTO duplicates (incident_id, original_id) VALUES (?, ?)", (incident_id, original_id))
            self._write_event(db, original_id, linked)
        return row

    def history(self, incident_id: str) -> list[dict]:
        """Every recorded event of one incident, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(HISTORY_FIELDS)} FROM history WHERE incident_id = ? ORDER BY id", (incident_id,)
            ).fetchall()
        return [
            {
                "at": from_ms(r["at"]),
                "actor": r["actor"],
                "action": r["action"],
                "from_stage": r["from_stage"],
                "to_stage": r["to_stage"],
                "note": r["note"],
                "detail": json.loads(r["detail"]) if r["detail"] else None,
            }
            for r in rows
        ]

    # --- care checks ------------------------------------------------------------------------------------------
    def record_call(
        self,
        household_id: str,
        day: str,
        at,
        answered: bool,
        actor: str,
        note: str | None,
        threshold: int,
        make_visit: Callable[[int], tuple[dict, dict]],
    ) -> tuple[int, dict | None]:
        """Store one morning call; at the `threshold`-th unanswered call of `day` insert `make_visit(seq)` once.

        Returns the number of unanswered calls that day and the visit incident created by this call (or None).
        """
        with self.transaction() as db:
            db.execute(
                "INSERT INTO care_checks (household_id, day, at, answered, actor, note) VALUES (?,?,?,?,?,?)",
                (household_id, day, to_ms(at), int(bool(answered)), actor, note),
            )
            missed = int(
                db.execute(
                    "SELECT count(*) FROM care_checks WHERE household_id = ? AND day = ? AND answered = 0",
                    (household_id, day),
                ).fetchone()[0]
            )
            if (
                missed < threshold
                or db.execute(
                    "SELECT 1 FROM care_visits WHERE household_id = ? AND day = ?", (household_id, day)
                ).fetchone()
            ):
                return missed, None
            record, event = make_visit(self._next_seq(db))
            self._write_new(db, record, event)
            db.execute(
                "INSERT INTO care_visits (household_id, day, incident_id) VALUES (?, ?, ?)",
                (household_id, day, record["incident_id"]),
            )
            return missed, record

    def care_checks(self, day: str | None = None, household_id: str | None = None) -> list[dict]:
        """Recorded calls, optionally of one day and/or one household, oldest first."""
        where, args = [], []
        for col, val in (("day", day), ("household_id", household_id)):
            if val is not None:
                where.append(f"c.{col} = ?")
                args.append(val)
        sql = (
            "SELECT c.household_id, c.day, c.at, c.answered, c.actor, c.note, v.incident_id FROM care_checks c "
            "LEFT JOIN care_visits v ON v.household_id = c.household_id AND v.day = c.day"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY c.id"
        )
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [
            {
                "household_id": r[0],
                "day": r[1],
                "at": from_ms(r[2]),
                "answered": bool(r[3]),
                "actor": r[4],
                "note": r[5],
                "visit_incident_id": r[6],
            }
            for r in rows
        ]

    # --- meta --------------------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A stored setting of the store itself (e.g. when the seed was imported)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, db, key: str, value: str) -> None:
        """Record `key` inside an open transaction `db`."""
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


class OwnWrites:
    """Spans (after, upto] of change tokens this process wrote itself, so that following a shared store reads back
    only what other processes wrote (memory has its own writes already)."""

    LIMIT = 1000  # spans kept at most; a forgotten one is only read back and found equal, as before

    def __init__(self):
        self._lock = threading.Lock()
        self._spans: list[list[int]] = []  # disjoint, ascending

    def add(self, after: int, upto: int) -> None:
        """Note a span of own tokens (a committing transaction's)."""
        with self._lock:
            k = bisect.bisect(self._spans, [after, upto])
            self._spans.insert(k, [after, upto])
            merged: list[list[int]] = []
            for lo, hi in self._spans:
                if merged and lo <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            self._spans = merged[-self.LIMIT :]

    def discard(self, after: int, upto: int) -> None:
        """Forget the tokens (after, upto] of a transaction that failed to commit."""
        with self._lock:
            kept: list[list[int]] = []
            for lo, hi in self._spans:
                if hi <= after or lo >= upto:
                    kept.append([lo, hi])
                    continue
                if lo < after:
                    kept.append([lo, after])
                if hi > upto:
                    kept.append([upto, hi])
            self._spans = kept

    def others(self, token: int, last: int, most: int = 32) -> list[tuple[int, int]]:
        """The spans of (token, last] not written here (all of it when they are more than `most`); forgets own spans
        up to `token`, which its follower has passed."""
        with self._lock:
            self._spans = [s for s in self._spans if s[1] > token]
            out, at = [], token
            for lo, hi in self._spans:
                if lo >= last:
                    break
                if lo > at:
                    out.append((at, lo))
                at = max(at, hi)
            if at < last:
                out.append((at, last))
        return out if len(out) <= most else [(token, last)]


class GroupCommit:
    """Inserts of concurrent callers committed together: one transaction, so one fsync, for all who are waiting.

    submit() returns only once the transaction holding the caller's records has committed (an answer sent after
    it is durable). One caller at a time leads: it commits every waiting group, runs `after(records)` in commit
    order (the in-memory table and index), then hands over. A failing group fails alone (a savepoint).
    """

    def __init__(self, store: LiveStore, after: Callable[[list[dict]], None] | None = None):
        self.store = store
        self.after = after
        self._cv = threading.Condition()
        self._pending: list[dict] = []
        self._leading = False

    def submit(self, makes: list[Callable[[int], tuple[dict, dict]]]) -> list[dict]:
        """Store the records `makes` build, with whatever other callers are submitting; return them once durable."""
        job = {"makes": makes, "done": False, "result": None}
        with self._cv:
            self._pending.append(job)
            while not job["done"] and self._leading:
                self._cv.wait()
            lead = not job["done"]
            if lead:
                self._leading = True
                batch, self._pending = self._pending, []
        if lead:
            try:
                self._commit(batch)
            finally:
                with self._cv:
                    self._leading = False
                    self._cv.notify_all()
        if isinstance(job["result"], BaseException):
            raise job["result"]
        return job["result"]

    def _commit(self, batch: list[dict]) -> None:
        try:
            results = self.store.insert_groups([j["makes"] for j in batch])
            if self.after:
                self.after([r for res in results if not isinstance(res, Exception) for r in res])
        except BaseException as exc:  # the commit failed, or memory could not follow it: every caller hears why
            results = [exc] * len(batch)
        with self._cv:
            for job, res in zip(batch, results):
                job["result"], job["done"] = res, True


LOAD_CHUNK = 50_000
TEXT_CHUNK = 500  # ids per IN (...) when reading texts
TEXT_SCAN = 50_000  # more ids than this: texts() reads the table once instead


def text_columns(columns) -> list[str]:
    """`columns` checked to be incident text fields (they are put into SQL by name)."""
    bad = [c for c in columns if c not in TEXT_FIELDS]
    if bad:
        raise ValueError(f"not incident text fields: {bad}")
    return list(columns)


CODED_FIELDS = ("stage", "category", "source", "level", "grid_code", "community_id", "compound_id", "building_id")


def _column(name: str, values) -> np.ndarray | pd.Categorical | pa.Array:
    """One chunk of a stored column as an array: ns int64 times (NaT missing), floats, categoricals or Arrow text."""
    if name in TIME_FIELDS:
        ms = np.array(values, dtype=np.float64)  # None → nan; milliseconds are exact in a float64
        return np.where(np.isnan(ms), np.iinfo("int64").min, np.nan_to_num(ms).astype(np.int64) * 1_000_000)
    if name in INT_FIELDS or name in ("lon", "lat"):
        return np.array(values, dtype=np.float64)
    if name in CODED_FIELDS:
        return pd.Categorical(np.array(values, dtype=object))
    try:  # text in Arrow buffers: a chunk's Python strings die with the chunk instead of pinning the heap
        return pa.array(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value stored as another type
        return np.array(values, dtype=object)


def incident_frame(rows) -> pd.DataFrame:
    """Rows of incident COLUMNS (times in epoch milliseconds) as the service's frame: UTC datetimes, Int64, floats."""
    # "no changes", the usual answer to a follower: built once (building it costs milliseconds), then copied
    return _no_rows().copy() if not rows else _frame(rows)


@functools.cache
def _no_rows() -> pd.DataFrame:
    return _frame([])


def _frame(rows) -> pd.DataFrame:
    cols = list(zip(*rows)) if rows else [()] * len(COLUMNS)
    data = {}
    for name, values in zip(COLUMNS, cols):
        if name in TIME_FIELDS:
            arr = np.array([np.iinfo("int64").min if v is None else v * 1_000_000 for v in values], dtype="int64")
            data[name] = utc_series(arr)
        elif name in ("lon", "lat"):
            data[name] = pd.Series(np.array(values, dtype="float64"))
        elif name in INT_FIELDS:
            data[name] = pd.Series(pd.array([v for v in values], dtype="Int64"))
        else:
            data[name] = pd.Series(np.array(values, dtype=object), dtype=object)
    return pd.DataFrame(data)


def db_value(column: str, v, time=to_ms):
    """One incident value as a database takes it: None for missing, times through `time` (default: epoch ms)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if column in TIME_FIELDS:
        return time(v)
    if column in INT_FIELDS:
        return int(v)
    if column in ("lon", "lat"):
        return float(v)
    return str(v)
