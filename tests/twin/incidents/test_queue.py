"""The work queue in the core, with a set clock: urgency order worked out by hand, grid scope, the lifecycle's
allowed actions, duplicate candidates and links."""

from __future__ import annotations

import pytest

from tests.tiny import GA1, GB1
from twin.access import Principal
from twin.errors import Conflict, Forbidden
from twin.incidents.queue import OPEN, Filters, select

IN_A1 = {"lon": 114.8808, "lat": 40.8011}
IN_B1 = {"lon": 114.8851, "lat": 40.8011}
ADMIN = Principal("admin", None, "head")


def new(svc, clock, category="garbage", where=IN_A1, minutes=1):
    r = svc.create({"category": category, **where}, "t")
    clock.advance(minutes=minutes)
    return r["incident_id"]


def test_urgency_order_overdue_first_then_time_left_then_done_newest_first(svc, clock):
    old = new(svc, clock)  # t0: accept due t0+1 min, overdue once 1 min has passed
    sos = new(svc, clock, "sos", IN_B1)  # t0+1
    fresh = new(svc, clock, minutes=0)  # t0+2: due at t0+3
    done = new(svc, clock, minutes=0)
    for a in ("accept", "arrive", "resolve"):
        svc.act(done, a, "t")
    # now t0+2: old is 1 min late to accept; the SOS's accept is due right now (not yet late); fresh's at t0+3
    rows, t = select(svc, ADMIN, Filters(stages=None)).page(1, 10)
    assert rows["incident_id"].tolist() == [old, sos, fresh, done]
    assert t["overdue"].tolist() == [True, False, False, False]
    assert t["next_due"].isna().tolist() == [False, False, False, True]
    clock.advance(seconds=30)  # now the SOS is late too, by less than `old`
    rows, _ = select(svc, ADMIN, Filters()).page(1, 10)
    assert rows["incident_id"].tolist() == [old, sos, fresh]
    assert select(svc, ADMIN, Filters(stages=None)).page(2, 3)[0]["incident_id"].tolist() == [
        done
    ]  # the default: open stages only
    assert set(Filters().stages) == set(OPEN)


def test_staff_of_a_grid_get_only_that_grid_and_the_public_nothing(svc, clock):
    a = new(svc, clock)
    new(svc, clock, where=IN_B1)
    rows, _ = select(svc, Principal("staff", frozenset({GA1}), "a1"), Filters()).page(1, 10)
    assert rows["incident_id"].tolist() == [a]
    assert len(select(svc, Principal("staff", frozenset({GB1}), "b1"), Filters(grids=(GA1,)))) == 0
    with pytest.raises(Forbidden):
        select(svc, Principal("planner", None, "p"), Filters())


def test_allowed_actions_are_the_lifecycles(svc, clock):
    rid = new(svc, clock)
    assert svc.allowed_actions(rid) == ["accept", "escalate", "duplicate"]
    svc.act(rid, "escalate", "t")
    svc.act(rid, "escalate", "t")  # with the departments now: no further escalation offered
    assert svc.allowed_actions(rid) == ["accept", "duplicate"]
    for a in ("accept", "arrive", "resolve", "close"):
        svc.act(rid, a, "t")
    assert svc.allowed_actions(rid) == ["reopen"]


def test_duplicate_candidates_and_the_link_both_ways(svc, clock):
    first = new(svc, clock)
    near = svc.create({"category": "garbage", "lon": 114.8809, "lat": 40.8012}, "t")  # ~14 m
    assert [d for d, _ in svc.possible_duplicates(near, 50)] == [first]
    assert svc.possible_duplicates(near, 5) == []
    assert svc.possible_duplicates(svc.get(first), 50) == []  # only those reported before
    grid = svc.get(first)["grid_code"]
    assert svc.possible_duplicates(near, 50, lambda c, g: (c == "garbage") & (g != grid)) == []  # the caller's view
    assert [d for d, _ in svc.possible_duplicates(near, 50, lambda c, g: g == grid)] == [first]
    svc.mark_duplicate(near["incident_id"], first, "clerk", "同一处")
    assert svc.get(near["incident_id"])["stage"] == "closed"
    assert svc.duplicates.copies(first) == [near["incident_id"]]
    assert svc.history(first)[-1]["detail"] == {"duplicate": near["incident_id"]}
    assert svc.allowed_actions(near["incident_id"]) == []
    with pytest.raises(Conflict):
        svc.act(near["incident_id"], "reopen", "t")
    third = svc.create({"category": "garbage", "lon": 114.8809, "lat": 40.8012}, "t")["incident_id"]
    svc.mark_duplicate(third, near["incident_id"], "clerk")  # a duplicate of a duplicate links to the original
    assert svc.duplicates.original[third] == first
