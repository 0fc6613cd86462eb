"""Accounts of people who sign in (staff, planners, admins): a SQLite table beside the incidents; no web code here.

Passwords are kept as scrypt hashes (hashlib, standard library). Failed sign-ins are counted per account and per
address; the `max_failures`-th wrong try in a row locks that account (or address) for `lock_minutes`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .access import Principal
from .errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

PEOPLE_ROLES = ("staff", "planner", "admin")  # "public" is nobody's account
NAME = re.compile(r"[\w.\-@\u3400-\u9fff]{2,64}")
PASSWORD_MIN = 8
PASSWORD_MAX = 1024
SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~16 MB and ~50 ms per hash: OWASP's minimum for scrypt

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, grids TEXT, password TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 1,
    failed INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_addresses (
    address TEXT PRIMARY KEY, failed INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0
);
"""


def hash_password(password: str) -> str:
    """An scrypt hash of `password` with a fresh salt, as `scrypt$n$r$p$salt$hash` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 2**20, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Whether `password` matches the `stored` hash (constant-time comparison)."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
            maxmem=64 * 2**20,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


_DUMMY = hash_password(secrets.token_hex(8))  # checked against for unknown names, so they take as long


@dataclass(frozen=True)
class Account:
    """One person's account as stored (without the hash)."""

    name: str
    role: str
    grids: frozenset | None
    disabled: bool
    generation: int

    def principal(self) -> Principal:
        """The caller this account signs in as."""
        return Principal(role=self.role, grids=self.grids, name=self.name)

    def to_dict(self) -> dict:
        """JSON-able view (for `twin user list`)."""
        return {
            "name": self.name,
            "role": self.role,
            "grids": sorted(self.grids) if self.grids is not None else None,
            "disabled": self.disabled,
        }


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in attempt: the account, or why not (wrong | locked | disabled) and tries left."""

    account: Account | None
    reason: str | None = None
    tries_left: int | None = None
    locked_until: float | None = None


def check_password_text(password) -> str:
    """`password` if it is acceptable text, else InvalidInput."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidInput(f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters long", field="password")
    return password


class AccountStore:
    """Accounts and failed-attempt counters, on an AccountTable (twin.store) of either backend; a path means the
    embedded SQLite file."""

    def __init__(self, table, max_failures: int = 10, lock_minutes: float = 15, clock=time.time):
        self.table = SqliteAccounts(table) if isinstance(table, (str, Path)) else table
        self.max_failures = max(1, int(max_failures))
        self.lock_seconds = float(lock_minutes) * 60
        self.clock = clock

    def close(self) -> None:
        """Release the table's connections."""
        self.table.close()

    def secret_key(self) -> str:
        """The key signing session cookies, shared by every process on this store."""
        return self.table.secret_key()

    # --- managing accounts -------------------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str, grids=None) -> Account:
        """Create an account; Conflict if the name is taken, InvalidInput for a bad name, role, grids or password."""
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise InvalidInput("a name is 2 to 64 letters, digits or . - _ @", field="name")
        if role not in PEOPLE_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(PEOPLE_ROLES)}, not {role!r}", field="role")
        if grids is not None:
            grids = sorted({str(g) for g in grids})
            if role != "staff":
                raise InvalidInput("grids limit staff only", field="grids")
            if not grids:
                grids = None
        pw = hash_password(check_password_text(password))
        row = {
            "name": name,
            "role": role,
            "grids": json.dumps(grids) if grids is not None else None,
            "password": pw,
            "created": self.clock(),
        }
        if not self.table.insert(row):
            raise Conflict(f"an account named {name!r} already exists", name=name)
        log.info("account %s (%s) added", name, role)
        return self.get(name)

    def get(self, name: str) -> Account:
        """One account; NotFound when there is none."""
        row = self.table.get(name)
        if row is None:
            raise NotFound(f"no account named {name!r}", name=name)
        return _account(row)

    def list(self) -> list[Account]:
        """Every account, by name."""
        return [_account(r) for r in self.table.all()]

    def set_disabled(self, name: str, disabled: bool = True) -> Account:
        """Disable (or enable) an account; its open sessions end."""
        self.get(name)
        self.table.update(name, {"disabled": bool(disabled)}, new_generation=True)
        log.info("account %s %s", name, "disabled" if disabled else "enabled")
        return self.get(name)

    def set_password(self, name: str, password: str) -> Account:
        """A new password; the account's open sessions end and its lock-out is lifted."""
        self.get(name)
        pw = hash_password(check_password_text(password))
        self.table.update(name, {"password": pw, "failed": 0, "locked_until": 0}, new_generation=True)
        log.info("account %s: password changed", name)
        return self.get(name)

    def active(self, name: str, generation: int) -> Account | None:
        """The account a session names, if it still exists, is enabled and the session is of its generation."""
        row = self.table.get(name)
        if row is None or row["disabled"] or row["generation"] != generation:
            return None
        return _account(row)

    # --- signing in --------------------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str, address: str) -> SignIn:
        """Check a name and password from `address`, counting failures; locked accounts/addresses are refused."""
        now = self.clock()
        name, password, address = str(name or "")[:64], str(password or "")[:PASSWORD_MAX], str(address or "?")
        row = self.table.get(name)
        for r in (row, self.table.address(address)):
            if r is not None and r["locked_until"] > now:
                return SignIn(None, "locked", 0, r["locked_until"])
        ok = check_password(row["password"] if row is not None else _DUMMY, password)
        if ok and row is not None:
            self.table.update(name, {"failed": 0, "locked_until": 0})
            self.table.forget_address(address)
            if row["disabled"]:
                return SignIn(None, "disabled")
            return SignIn(_account(self.table.get(name)))

        def step(failed: int, locked_until: float) -> tuple[int, float]:
            failed = (0 if 0 < locked_until <= now else failed) + 1  # a lock that has run out starts afresh
            return failed, now + self.lock_seconds if failed >= self.max_failures else 0

        counts = [self.table.record_failure("address", address, step)]
        if row is not None:
            counts.append(self.table.record_failure("account", name, step))
        failed = max(counts)
        if failed >= self.max_failures:
            log.warning("sign-in locked: name %r from %s after %d failures", name, address, failed)
            return SignIn(None, "locked", 0, now + self.lock_seconds)
        return SignIn(None, "wrong", self.max_failures - failed)


class SqliteAccounts:
    """The AccountTable (twin.store) of the embedded backend: two tables in the twin's SQLite file."""

    KEYS = {"account": ("accounts", "name"), "address": ("login_addresses", "address")}

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def insert(self, row: dict) -> bool:
        """Add an account row; False when the name is taken."""
        with self._lock:
            try:
                self._db.execute(
                    f"INSERT INTO accounts ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def get(self, name: str) -> dict | None:
        """One account row, or None."""
        with self._lock:
            row = self._db.execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchone()
        return dict(row) if row is not None else None

    def all(self) -> list[dict]:
        """Every account row, by name."""
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM accounts ORDER BY name").fetchall()]

    def update(self, name: str, values: dict, new_generation: bool = False) -> None:
        """Set fields of one account (generation + 1 when `new_generation`)."""
        sets = [f"{k} = ?" for k in values] + (["generation = generation + 1"] if new_generation else [])
        with self._lock:
            self._db.execute(f"UPDATE accounts SET {', '.join(sets)} WHERE name = ?", [*values.values(), name])

    def address(self, address: str) -> dict | None:
        """The failed-sign-in row of an address, or None."""
        with self._lock:
            row = self._db.execute("SELECT * FROM login_addresses WHERE address = ?", (address,)).fetchone()
        return dict(row) if row is not None else None

    def forget_address(self, address: str) -> None:
        """Drop an address's failed-sign-in row."""
        with self._lock:
            self._db.execute("DELETE FROM login_addresses WHERE address = ?", (address,))

    def record_failure(self, kind: str, key: str, step) -> int:
        """Set (failed, locked_until) of an account or address to `step(failed, locked_until)` in one transaction."""
        table, column = self.KEYS[kind]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if kind == "address":
                    self._db.execute("INSERT OR IGNORE INTO login_addresses (address) VALUES (?)", (key,))
                row = self._db.execute(
                    f"SELECT failed, locked_until FROM {table} WHERE {column} = ?", (key,)
                ).fetchone()
                failed, locked = step(int(row[0]), float(row[1]))
                self._db.execute(
                    f"UPDATE {table} SET failed = ?, locked_until = ? WHERE {column} = ?", (failed, locked, key)
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return failed

    def secret_key(self) -> str:
        """The key kept in the state directory's file `secret_key` (made on first use, readable by the owner only)."""
        path = self.path.parent / "secret_key"
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it just now
                return path.read_text().strip()
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip()


def _account(row) -> Account:
    grids = json.loads(row["grids"]) if row["grids"] else None
    return Account(
        name=row["name"],
        role=row["role"],
        grids=frozenset(grids) if grids is not None else None,
        disabled=bool(row["disabled"]),
        generation=int(row["generation"]),
    )
