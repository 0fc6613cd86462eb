"""Incidents, their history and care checks in PostgreSQL: one transaction per write, committed before returning.

Writers of one street office take its `live_version` row first (UPDATE ... RETURNING), which serialises them as
SQLite's BEGIN IMMEDIATE does, numbers the write, and stamps that number on its history rows: another process
asks for the incidents whose history has a number above the one it saw last (changes_since), in commit order.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterable

import pandas as pd
from psycopg.types.json import Jsonb

from twin.errors import NotFound
from twin.incidents.store import (
    COLUMNS,
    HISTORY_FIELDS,
    TIME_FIELDS,
    OwnWrites,
    db_value,
    incident_frame,
    text_columns,
    to_ms,
)

SELECT = ", ".join(f"(extract(epoch FROM {c}) * 1000)::bigint" if c in TIME_FIELDS else c for c in COLUMNS)


class PostgresLiveStore:
    """The live tables of one office, through a shared psycopg pool (implements twin.store.LiveStore)."""

    def __init__(self, pool, office: str):
        self.pool = pool
        self.office = office
        with pool.connection() as conn:
            conn.execute("INSERT INTO live_version (office, version) VALUES (%s, 0) ON CONFLICT DO NOTHING", (office,))
        self.own = OwnWrites()  # write numbers of this process: a follower of the store needs not read them back

    def close(self) -> None:
        """Nothing to do: the pool belongs to the PostgresStore."""

    @contextmanager
    def transaction(self):
        """One write transaction holding the office's write lock; yields (connection, write number)."""
        version = None
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    version = conn.execute(
                        "UPDATE live_version SET version = version + 1 WHERE office = %s RETURNING version",
                        (self.office,),
                    ).fetchone()[0]
                    yield conn, version
                    self.own.add(version - 1, version)  # before COMMIT: no one reads it committed and unnoted
        except BaseException:
            if version is not None:
                self.own.discard(version - 1, version)
            raise

    # --- incidents -------------------------------------------------------------------------------------------
    def count(self) -> int:
        """Number of stored incidents of this office."""
        with self.pool.connection() as conn:
            return int(conn.execute("SELECT count(*) FROM incidents WHERE office = %s", (self.office,)).fetchone()[0])

    def load(self) -> pd.DataFrame:
        """Every incident in insertion order, datetimes tz-aware UTC."""
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT {SELECT} FROM incidents WHERE office = %s ORDER BY seq", (self.office,))
            return incident_frame(rows.fetchall())

    def changes_since(self, token, mine: bool = True) -> tuple[int, pd.DataFrame]:
        """Incidents written after write number `token` by any process (None: the current number, no rows); with
        mine=False only those other processes wrote."""
        with self.pool.connection() as conn:
            last = conn.execute("SELECT version FROM live_version WHERE office = %s", (self.office,)).fetchone()
            last = int(last[0]) if last else 0
            if token is None or int(token) >= last:
                return last, incident_frame([])
            spans = [(int(token), last)] if mine else self.own.others(int(token), last)
            if not spans:
                return last, incident_frame([])
            rows = conn.execute(
                f"SELECT {SELECT} FROM incidents WHERE office = %s AND incident_id IN (SELECT incident_id FROM "
                f"history WHERE office = %s AND ({' OR '.join(['(version > %s AND version <= %s)'] * len(spans))})) "
                "ORDER BY seq",
                (self.office, self.office, *[v for span in spans for v in span]),
            ).fetchall()
        return last, incident_frame(rows)

    def _next_seq(self, conn) -> int:
        row = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM incidents WHERE office = %s", (self.office,))
        return int(row.fetchone()[0])

    def insert_groups(self, groups: list[list[Callable]]) -> list:
        """Insert several callers' groups in one transaction, each group all or none (a savepoint)."""
        out: list = []
        with self.transaction() as (conn, version):
            for makes in groups:
                try:
                    with conn.transaction():
                        records = []
                        for make in makes:
                            seq = self._next_seq(conn)
                            record, event = make(seq)
                            self._write_new(conn, version, seq, record, event)
                            records.append(record)
                except Exception as exc:  # noqa: BLE001 - this group's failure is handed to its caller
                    records = exc
                out.append(records)
        return out

    def insert_many(self, records: Iterable[dict], actor: str, action: str = "import", meta: dict | None = None) -> int:
        """Insert many complete records (an import) and `meta` in one transaction, by COPY; one history row each."""
        n = 0
        cols = ("office", "seq") + COLUMNS
        hcols = ("office", "version") + HISTORY_FIELDS
        with self.transaction() as (conn, version):
            for key, value in (meta or {}).items():
                self.set_meta(conn, key, value)
            seq = self._next_seq(conn)
            events = []
            with conn.cursor().copy(f"COPY incidents ({', '.join(cols)}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row([self.office, seq + n] + [_value(c, record.get(c)) for c in COLUMNS])
                    events.append((record["incident_id"], record.get("reported_at"), record.get("stage")))
                    n += 1
            with conn.cursor().copy(f"COPY history ({', '.join(hcols)}) FROM STDIN") as copy:
                for iid, at, stage in events:
                    copy.write_row([self.office, version, iid, _time(at), actor, action, None, stage, None, None])
        return n

    def _write_new(self, conn, version: int, seq: int, record: dict, event: dict) -> None:
        conn.execute(
            f"INSERT INTO incidents (office, seq, {', '.join(COLUMNS)}) VALUES (%s, %s, "
            f"{', '.join(['%s'] * len(COLUMNS))})",
            [self.office, seq] + [_value(c, record.get(c)) for c in COLUMNS],
        )
        self._write_event(conn, version, record["incident_id"], event)

    def _write_event(self, conn, version: int, incident_id: str, event: dict) -> None:
        detail = event.get("detail")
        conn.execute(
            f"INSERT INTO history (office, version, {', '.join(HISTORY_FIELDS)}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                self.office,
                version,
                incident_id,
                _time(event["at"]),
                event["actor"],
                event["action"],
                event.get("from_stage"),
                event.get("to_stage"),
                event.get("note"),
                Jsonb(detail) if detail else None,
            ),
        )

    def _row(self, conn, incident_id: str, lock: bool = False) -> dict:
        row = conn.execute(
            f"SELECT {SELECT} FROM incidents WHERE office = %s AND incident_id = %s" + (" FOR UPDATE" if lock else ""),
            (self.office, incident_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"incident {incident_id!r} does not exist", id=str(incident_id))
        return incident_frame([row]).astype(object).where(lambda f: f.notna(), None).iloc[0].to_dict()

    def get(self, incident_id: str) -> dict:
        """One stored incident as a dict."""
        with self.pool.connection() as conn:
            return self._row(conn, incident_id)

    def texts(self, incident_ids, columns) -> dict:
        """incident id → tuple of the text `columns` of each stored one of `incident_ids`."""
        cols = ", ".join(text_columns(columns))
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT incident_id, {cols} FROM incidents WHERE office = %s AND incident_id = ANY(%s)",
                (self.office, list(incident_ids)),
            ).fetchall()
        return {row[0]: tuple(row[1:]) for row in rows}

    def update(self, incident_id: str, change: Callable[[dict], tuple[dict, dict]]) -> dict:
        """Read the row, apply `change(row) -> (changes, event)`, write both in one transaction, return the row."""
        with self.transaction() as (conn, version):
            return self._change(conn, version, incident_id, change)

    def _change(self, conn, version: int, incident_id: str, change) -> dict:
        row = self._row(conn, incident_id, lock=True)
        changes, event = change(dict(row))
        if changes:
            conn.execute(
                f"UPDATE incidents SET {', '.join(f'{c} = %s' for c in changes)} "
                "WHERE office = %s AND incident_id = %s",
                [_value(c, v) for c, v in changes.items()] + [self.office, incident_id],
            )
        self._write_event(conn, version, incident_id, event)
        row.update(changes)
        return row

    # --- duplicate reports ------------------------------------------------------------------------------------
    def duplicate_links(self) -> dict[str, str]:
        """Every incident of this office closed as a duplicate: {incident_id: original_id}."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT incident_id, original_id FROM duplicate_links WHERE office = %s", (self.office,)
            ).fetchall()
        return dict(rows)

    def close_duplicate(self, incident_id: str, original_id: str, change, linked: dict) -> dict:
        """In one transaction: change the incident, record the link, add event `linked` to the original (both
        history rows carry the write number, so other processes take in both incidents)."""
        with self.transaction() as (conn, version):
            row = self._change(conn, version, incident_id, change)
            conn.execute(
                "INSERT INTO duplicate_links (office, incident_id, original_id) VALUES (%s, %s, %s)",
                (self.office, incident_id, original_id),
            )
            self._write_event(conn, version, original_id, linked)
        return row

    def history(self, incident_id: str) -> list[dict]:
        """Every recorded event of one incident, oldest first."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT (extract(epoch FROM at) * 1000)::bigint, actor, action, from_stage, to_stage, note, detail "
                "FROM history WHERE office = %s AND incident_id = %s ORDER BY id",
                (self.office, incident_id),
            ).fetchall()
        keys = ("at", "actor", "action", "from_stage", "to_stage", "note", "detail")
        return [dict(zip(keys, (pd.Timestamp(r[0], unit="ms", tz="UTC"),) + tuple(r[1:]))) for r in rows]

    # --- care checks ------------------------------------------------------------------------------------------
    def record_call(self, household_id, day, at, answered, actor, note, threshold, make_visit):
        """Store one morning call; at the `threshold`-th unanswered call of `day` insert `make_visit(seq)` once."""
        with self.transaction() as (conn, version):
            conn.execute(
                "INSERT INTO care_checks (office, household_id, day, at, answered, actor, note) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (self.office, household_id, day, _time(at), bool(answered), actor, note),
            )
            missed = int(
                conn.execute(
                    "SELECT count(*) FROM care_checks WHERE office = %s AND household_id = %s AND day = %s "
                    "AND NOT answered",
                    (self.office, household_id, day),
                ).fetchone()[0]
            )
            seen = conn.execute(
                "SELECT 1 FROM care_visits WHERE office = %s AND household_id = %s AND day = %s",
                (self.office, household_id, day),
            ).fetchone()
            if missed < threshold or seen:
                return missed, None
            seq = self._next_seq(conn)
            record, event = make_visit(seq)
            self._write_new(conn, version, seq, record, event)
            conn.execute(
                "INSERT INTO care_visits (office, household_id, day, incident_id) VALUES (%s, %s, %s, %s)",
                (self.office, household_id, day, record["incident_id"]),
            )
            return missed, record

    def care_checks(self, day: str | None = None, household_id: str | None = None) -> list[dict]:
        """Recorded calls, optionally of one day and/or one household, oldest first."""
        where, args = ["c.office = %s"], [self.office]
        for col, val in (("day", day), ("household_id", household_id)):
            if val is not None:
                where.append(f"c.{col} = %s")
                args.append(val)
        sql = (
            "SELECT c.household_id, c.day, (extract(epoch FROM c.at) * 1000)::bigint, c.answered, c.actor, c.note, "
            "v.incident_id FROM care_checks c LEFT JOIN care_visits v ON v.office = c.office "
            "AND v.household_id = c.household_id AND v.day = c.day WHERE " + " AND ".join(where) + " ORDER BY c.id"
        )
        with self.pool.connection() as conn:
            rows = conn.execute(sql, args).fetchall()
        keys = ("household_id", "day", "at", "answered", "actor", "note", "visit_incident_id")
        return [
            dict(zip(keys, (r[0], r[1], pd.Timestamp(r[2], unit="ms", tz="UTC"), bool(r[3])) + r[4:])) for r in rows
        ]

    # --- meta --------------------------------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A stored note of the store itself."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT value FROM meta WHERE office = %s AND key = %s", (self.office, key)).fetchone()
        return row[0] if row else None

    def set_meta(self, conn, key: str, value: str) -> None:
        """Record `key` inside an open transaction on `conn`."""
        conn.execute(
            "INSERT INTO meta (office, key, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (office, key) DO UPDATE SET value = EXCLUDED.value",
            (self.office, key, value),
        )


def _time(ts):
    """A timestamp as an aware datetime for psycopg (None for missing)."""
    ms = to_ms(ts)
    return None if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").to_pydatetime()


def _value(column: str, v):
    return db_value(column, v, time=_time)
