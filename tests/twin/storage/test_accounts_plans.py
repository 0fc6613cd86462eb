"""AccountTable and PlanTable contract: accounts, lock-outs, the cookie key and grid plans are shared by every opening
of the same storage (two web processes), on every backend."""

from __future__ import annotations

import datetime as dt

import pytest

from layers import REGISTRY
from twin.accounts import AccountStore
from twin.errors import Conflict, NotFound
from twin.plans import PlanStore
from twin.store import FileStore

DAY = dt.date(2026, 3, 1)


def test_accounts_and_failed_tries_are_shared_by_every_opening(backend):
    one = AccountStore(backend().open_accounts(), max_failures=3)
    two = AccountStore(backend().open_accounts(), max_failures=3)
    one.add("clerk", "staff", "right-pass-1", grids=["G2", "G1"])
    assert two.get("clerk").grids == {"G1", "G2"} and [a.name for a in two.list()] == ["clerk"]
    with pytest.raises(Conflict):
        two.add("clerk", "admin", "right-pass-1")
    gen = two.sign_in("clerk", "right-pass-1", "a").account.generation
    assert one.active("clerk", gen) is not None
    assert one.sign_in("clerk", "nope-nope", "a").tries_left == 2
    assert two.sign_in("clerk", "nope-nope", "b").tries_left == 1  # the other's failure counted
    assert one.sign_in("clerk", "right-pass-1", "c").reason != "locked"  # a right password resets the count
    for addr in "def":
        r = two.sign_in("clerk", "nope-nope", addr)
    assert r.reason == "locked" and one.sign_in("clerk", "right-pass-1", "g").reason == "locked"
    two.set_password("clerk", "other-pass-2")
    assert one.active("clerk", gen) is None and one.sign_in("clerk", "other-pass-2", "h").account is not None
    one.set_disabled("clerk")
    assert two.sign_in("clerk", "other-pass-2", "i").reason == "disabled"
    key = one.secret_key()
    assert len(key) == 64 and two.secret_key() == key


def test_failed_tries_from_one_address_lock_it_for_every_name(backend):
    s = AccountStore(backend().open_accounts(), max_failures=2)
    assert s.sign_in("nobody", "nope-nope", "x").tries_left == 1
    assert s.sign_in("someone", "nope-nope", "x").reason == "locked"
    assert AccountStore(backend().open_accounts()).sign_in("third", "nope-nope", "x").reason == "locked"


def test_plans_are_shared_by_every_opening(backend, tiny_dir):
    one, two = PlanStore(backend().open_plans()), PlanStore(backend().open_plans())
    grids = FileStore(tiny_dir).read_layer(REGISTRY["grids"]).assign(previous_code=None)
    later = DAY + dt.timedelta(days=1)
    meta = one.publish(grids.iloc[:1], later, "boss", "test", {"moves": 1}, DAY, grids)
    assert [(p["status"], p["in_force"]) for p in two.history(DAY)] == [("published", False), ("baseline", True)]
    assert two.get(meta["id"])["summary"] == {"moves": 1} and two.get(meta["id"])["effective_date"] == "2026-03-02"
    assert two.in_force(DAY) is None and two.in_force(later) == meta["id"] and two.next_change(DAY) == later
    assert list(two.grids(meta["id"])["grid_code"]) == list(grids["grid_code"][:1])
    assert len(two.grids(two.history(DAY)[-1]["id"])) == len(grids)  # the baseline keeps the layer as loaded
    assert two.rollback(meta["id"], "boss")["status"] == "rolled_back"
    assert one.in_force(later) is None and one.next_change(DAY) is None
    with pytest.raises(Conflict):
        one.rollback(meta["id"], "boss")
    with pytest.raises(NotFound):
        one.get(999)
