"""Accounts and failed sign-ins of one street office in PostgreSQL (twin.store.AccountTable), so every web process
on the database shares sign-ins, lock-outs and the key signing session cookies."""

from __future__ import annotations

import secrets

from psycopg.rows import dict_row

KEYS = {"account": ("accounts", "name"), "address": ("login_addresses", "address")}


class PostgresAccounts:
    """The accounts and login_addresses rows of `office`, through a shared psycopg pool."""

    def __init__(self, pool, office: str):
        self.pool = pool
        self.office = office

    def close(self) -> None:
        """Nothing to do: the pool belongs to the PostgresStore."""

    def _one(self, sql: str, args) -> dict | None:
        with self.pool.connection() as conn:
            return conn.cursor(row_factory=dict_row).execute(sql, args).fetchone()

    def insert(self, row: dict) -> bool:
        """Add an account row; False when the name is taken."""
        cols = ["office", *row]
        with self.pool.connection() as conn:
            cur = conn.execute(
                f"INSERT INTO accounts ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
                "ON CONFLICT DO NOTHING",
                [self.office, *row.values()],
            )
            return cur.rowcount == 1

    def get(self, name: str) -> dict | None:
        """One account row, or None."""
        return self._one("SELECT * FROM accounts WHERE office = %s AND name = %s", (self.office, name))

    def all(self) -> list[dict]:
        """Every account row, by name."""
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            return cur.execute("SELECT * FROM accounts WHERE office = %s ORDER BY name", (self.office,)).fetchall()

    def update(self, name: str, values: dict, new_generation: bool = False) -> None:
        """Set fields of one account (generation + 1 when `new_generation`)."""
        sets = [f"{k} = %s" for k in values] + (["generation = generation + 1"] if new_generation else [])
        with self.pool.connection() as conn:
            conn.execute(
                f"UPDATE accounts SET {', '.join(sets)} WHERE office = %s AND name = %s",
                [*values.values(), self.office, name],
            )

    def address(self, address: str) -> dict | None:
        """The failed-sign-in row of an address, or None."""
        return self._one("SELECT * FROM login_addresses WHERE office = %s AND address = %s", (self.office, address))

    def forget_address(self, address: str) -> None:
        """Drop an address's failed-sign-in row."""
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM login_addresses WHERE office = %s AND address = %s", (self.office, address))

    def record_failure(self, kind: str, key: str, step) -> int:
        """Set (failed, locked_until) of an account or address to `step(failed, locked_until)` in one transaction
        (the row locked, so two processes counting at once both count)."""
        table, column = KEYS[kind]
        with self.pool.connection() as conn, conn.transaction():
            if kind == "address":
                conn.execute(
                    "INSERT INTO login_addresses (office, address) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (self.office, key),
                )
            row = conn.execute(
                f"SELECT failed, locked_until FROM {table} WHERE office = %s AND {column} = %s FOR UPDATE",
                (self.office, key),
            ).fetchone()
            failed, locked = step(int(row[0]), float(row[1]))
            conn.execute(
                f"UPDATE {table} SET failed = %s, locked_until = %s WHERE office = %s AND {column} = %s",
                (failed, locked, self.office, key),
            )
        return failed

    def secret_key(self) -> str:
        """The office's key in `meta` (made by the first process that asks)."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO meta (office, key, value) VALUES (%s, 'secret_key', %s) ON CONFLICT DO NOTHING",
                (self.office, secrets.token_hex(32)),
            )
            conn.commit()
            row = conn.execute("SELECT value FROM meta WHERE office = %s AND key = 'secret_key'", (self.office,))
            return row.fetchone()[0]
