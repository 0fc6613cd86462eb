"""Accounts in the core: scrypt hashes, roles and grids, disabling, and lock-out per account and per address, on
the embedded SQLite file and on PostgreSQL (each street office its own accounts)."""

from __future__ import annotations

import pytest

from tests.postgres import BACKENDS
from twin.accounts import AccountStore, check_password, hash_password
from twin.errors import Conflict, InvalidInput, NotFound


class Clock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


@pytest.fixture(params=BACKENDS)
def table(request, tmp_path):
    """The account table of one backend: a SQLite file, or a fresh PostgreSQL database (office "default")."""
    if request.param == "embedded":
        yield tmp_path / "twin.sqlite"
        return
    from twin.postgres import PostgresStore

    db = PostgresStore(request.getfixturevalue("database_url"))
    yield db.open_accounts()
    db.close()


@pytest.fixture
def store(table):
    clock = Clock()
    s = AccountStore(table, max_failures=3, lock_minutes=10, clock=clock)
    s.clock_ = clock
    return s


def test_hashes_are_salted_scrypt_and_check_only_the_right_password():
    a, b = hash_password("same-pass-1"), hash_password("same-pass-1")
    assert a.startswith("scrypt$16384$8$1$") and a != b
    assert check_password(a, "same-pass-1") and not check_password(a, "same-pass-2")
    assert not check_password("garbage", "same-pass-1")


def test_add_list_disable_and_the_principal(store):
    store.add("clerk", "staff", "right-pass-1", grids=["G2", "G1"])
    store.add("head", "admin", "right-pass-1")
    assert [a.name for a in store.list()] == ["clerk", "head"]
    p = store.get("clerk").principal()
    assert (p.role, p.grids, p.name) == ("staff", frozenset({"G1", "G2"}), "clerk")
    assert store.get("head").principal().grids is None
    with pytest.raises(Conflict):
        store.add("clerk", "staff", "right-pass-1")
    for bad in (dict(role="public"), dict(role="planner", grids=["G1"]), dict(password="short")):
        with pytest.raises(InvalidInput):
            store.add("new", **{"role": "staff", "password": "right-pass-1", **bad})
    gen = store.get("clerk").generation
    store.set_disabled("clerk")
    assert store.active("clerk", gen) is None and store.sign_in("clerk", "right-pass-1", "a").reason == "disabled"


def test_third_wrong_try_locks_until_the_lock_runs_out(store):
    store.add("clerk", "staff", "right-pass-1")
    assert [store.sign_in("clerk", "nope-nope", f"addr{i}").tries_left for i in range(2)] == [2, 1]
    r = store.sign_in("clerk", "nope-nope", "addr9")
    assert r.reason == "locked" and r.locked_until == store.clock_.t + 600
    assert store.sign_in("clerk", "right-pass-1", "addr10").reason == "locked"
    store.clock_.t += 601
    assert store.sign_in("clerk", "right-pass-1", "addr11").account.name == "clerk"


def test_a_new_password_lifts_the_lock_and_ends_sessions(store):
    gen = store.add("clerk", "staff", "right-pass-1").generation
    for _ in range(3):
        store.sign_in("clerk", "nope-nope", "x")
    store.set_password("clerk", "new-pass-22")
    assert store.active("clerk", gen) is None
    assert store.sign_in("clerk", "new-pass-22", "y").account is not None


def test_each_street_office_has_its_own_accounts(database_url):
    from twin.postgres import PostgresStore

    east, west = PostgresStore(database_url, office="east"), PostgresStore(database_url, office="west")
    a, b = AccountStore(east.open_accounts()), AccountStore(west.open_accounts())
    a.add("clerk", "staff", "east-pass-1")
    b.add("clerk", "admin", "west-pass-1")  # the same name in another office is another account
    assert (a.get("clerk").role, b.get("clerk").role) == ("staff", "admin")
    assert b.sign_in("clerk", "east-pass-1", "x").reason == "wrong"
    a.set_disabled("clerk")
    assert not b.get("clerk").disabled and a.secret_key() != b.secret_key()
    north = PostgresStore(database_url, office="north")
    with pytest.raises(NotFound):
        AccountStore(north.open_accounts()).get("clerk")
    for db in (east, west, north):
        db.close()
