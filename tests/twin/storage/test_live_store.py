"""LiveStore contract: incidents with their history, care checks and notes, the same on every backend.

Each write is durable once the call returns: a second opening of the same storage (another process) reads it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from twin.errors import NotFound
from twin.incidents.store import COLUMNS, OwnWrites

T0 = pd.Timestamp("2026-03-01 08:00", tz="UTC")


def record(iid: str, seq: int, minutes: int = 0, **fields) -> dict:
    """A complete incident row at 116.4E 39.9N."""
    rec = {c: None for c in COLUMNS}
    rec.update(incident_id=iid, category="garbage", source="phone", stage="reported", level="grid", priority=2)
    rec.update(reported_at=T0 + pd.Timedelta(minutes=minutes), lon=116.4 + seq / 1000, lat=39.9, grid_code="G1")
    rec.update(fields)
    return rec


def maker(iid: str, minutes: int = 0, **fields):
    """A `make(seq)` as the service hands to insert_groups."""

    def make(seq):
        rec = record(f"{iid}", seq, minutes, **fields)
        return rec, {"at": rec["reported_at"], "actor": "w1", "action": "report", "to_stage": "reported"}

    return make


def boom(seq):
    raise ValueError("bad record")


@pytest.fixture
def live(backend):
    store = backend().open_live()
    yield store
    store.close()


def test_groups_commit_together_and_fail_alone(live):
    out = live.insert_groups([[maker("A"), maker("B", 1)], [maker("C"), boom], [maker("D", 2)]])
    assert [r["incident_id"] for r in out[0]] == ["A", "B"] and isinstance(out[1], ValueError)
    assert [r["incident_id"] for r in out[2]] == ["D"]
    frame = live.load()
    assert list(frame["incident_id"]) == ["A", "B", "D"] and live.count() == 3
    assert frame["reported_at"].iloc[1] == T0 + pd.Timedelta(minutes=1)
    assert str(frame["reported_at"].dt.tz) == "UTC" and str(frame["priority"].dtype) == "Int64"
    with pytest.raises(NotFound):
        live.get("C")


def test_update_keeps_history_in_order(live):
    live.insert_groups([[maker("A")]])

    def accept(row):
        assert row["stage"] == "reported" and row["priority"] == 2
        at = T0 + pd.Timedelta(minutes=5)
        return {"stage": "accepted", "accepted_at": at}, {
            "at": at,
            "actor": "w2",
            "action": "accept",
            "from_stage": "reported",
            "to_stage": "accepted",
            "note": "on my way",
            "detail": {"eta_min": 4},
        }

    row = live.update("A", accept)
    assert row["stage"] == "accepted" and live.get("A")["accepted_at"] == T0 + pd.Timedelta(minutes=5)
    hist = live.history("A")
    assert [h["action"] for h in hist] == ["report", "accept"]
    assert hist[1]["note"] == "on my way" and hist[1]["detail"] == {"eta_min": 4} and hist[1]["actor"] == "w2"
    assert hist[1]["at"] == T0 + pd.Timedelta(minutes=5)
    with pytest.raises(NotFound):
        live.update("nope", accept)


def test_import_with_meta_then_reopen(backend, live):
    n = live.insert_many([record(f"I{i}", i) for i in range(5)], actor="import", meta={"seeded_from": "x.csv"})
    assert n == 5 and live.meta("seeded_from") == "x.csv" and live.meta("other") is None
    again = backend().open_live()  # another process: everything acknowledged is there
    assert again.count() == 5 and [h["action"] for h in again.history("I3")] == ["import"]
    assert list(again.load()["lon"]) == [116.4 + i / 1000 for i in range(5)]


def test_third_missed_call_opens_one_visit(live):
    made = []

    def visit(seq):
        made.append(seq)
        rec = record("V1", seq, category="care_visit", household_id="H1")
        return rec, {"at": T0, "actor": "w1", "action": "care_check", "to_stage": "reported"}

    results = [live.record_call("H1", "2026-03-01", T0, False, "w1", None, 3, visit) for _ in range(4)]
    assert [m for m, _ in results] == [1, 2, 3, 4]
    assert [v is not None for _, v in results] == [False, False, True, False] and len(made) == 1
    live.record_call("H2", "2026-03-01", T0, True, "w1", "fine", 3, visit)
    calls = live.care_checks(day="2026-03-01", household_id="H1")
    assert len(calls) == 4 and calls[2]["visit_incident_id"] == "V1" and calls[0]["answered"] is False
    assert [c["note"] for c in live.care_checks(household_id="H2")] == ["fine"]
    assert live.care_checks(day="2026-03-02") == [] and live.count() == 1


def test_changes_since_shows_other_writers(backend, live):
    other = backend().open_live()
    token, rows = other.changes_since(None)
    assert len(rows) == 0
    live.insert_groups([[maker("A"), maker("B")]])
    token2, rows = other.changes_since(token)
    assert sorted(rows["incident_id"]) == ["A", "B"] and token2 != token
    live.update("A", lambda r: ({"stage": "accepted"}, {"at": T0, "actor": "w", "action": "accept"}))
    token3, rows = other.changes_since(token2)
    assert list(rows["incident_id"]) == ["A"] and rows["stage"].iloc[0] == "accepted"
    assert len(other.changes_since(token3)[1]) == 0


def closing(of: str, **more):
    """The `change` closing a report as a duplicate of `of` (as twin.incidents.lifecycle.duplicate makes it)."""

    def change(row):
        event = {"at": T0, "actor": "w1", "action": "duplicate", "from_stage": row["stage"], "to_stage": "closed"}
        return {"stage": "closed", "closed_at": T0, **more}, {**event, "detail": {"duplicate_of": of}}

    return change


LINKED = {"at": T0, "actor": "w1", "action": "duplicate_linked", "from_stage": "reported", "to_stage": "reported"}


def test_closing_as_a_duplicate_writes_row_link_and_both_events_in_one_transaction(backend, live):
    live.insert_groups([[maker("A"), maker("B", 1), maker("C", 2)]])
    row = live.close_duplicate("B", "A", closing("A"), {**LINKED, "detail": {"duplicate": "B"}})
    assert row["stage"] == "closed"
    other = backend().open_live()  # another process sees all of it
    assert other.duplicate_links() == {"B": "A"} and other.get("B")["stage"] == "closed"
    assert [e["action"] for e in other.history("A")] == ["report", "duplicate_linked"]
    assert other.history("A")[-1]["detail"] == {"duplicate": "B"}
    # a second link of B fails on the table's key: B's change and A's event roll back with it
    with pytest.raises(Exception):
        live.close_duplicate("B", "C", closing("C", priority=9), LINKED)
    assert other.get("B")["priority"] == 2 and len(other.history("C")) == 1 and len(other.history("B")) == 2
    with pytest.raises(NotFound):  # an unknown incident: no link either
        live.close_duplicate("Z", "A", closing("A"), LINKED)
    assert other.duplicate_links() == {"B": "A"}
    other.close()


def test_a_follower_reads_back_only_what_others_wrote(backend, live):
    other = backend().open_live()
    token, _ = live.changes_since(None)
    live.insert_groups([[maker("A")]])
    other.insert_groups([[maker("B")]])
    live.update("A", lambda r: ({"stage": "accepted"}, {"at": T0, "actor": "w", "action": "accept"}))
    token2, rows = live.changes_since(token, mine=False)
    assert list(rows["incident_id"]) == ["B"]
    assert sorted(live.changes_since(token)[1]["incident_id"]) == ["A", "B"]  # by default: every writer's
    other.update("A", lambda r: ({"stage": "on_site"}, {"at": T0, "actor": "w", "action": "arrive"}))
    live.insert_groups([[maker("C")], [boom]])
    token3, rows = live.changes_since(token2, mine=False)
    assert list(rows["incident_id"]) == ["A"] and rows["stage"].iloc[0] == "on_site"
    live.insert_groups([[maker("D")]])
    assert len(live.changes_since(token3, mine=False)[1]) == 0
    assert list(other.changes_since(token3, mine=False)[1]["incident_id"]) == ["D"]


def test_own_write_spans_merge_split_and_are_forgotten_once_passed():
    own = OwnWrites()
    own.add(0, 3)
    own.add(5, 6)
    own.add(3, 4)  # joins the first span
    assert own.others(0, 10) == [(4, 5), (6, 10)]
    own.discard(5, 6)  # its transaction did not commit
    assert own.others(0, 10) == [(4, 10)]
    own.add(10, 12)
    assert own.others(4, 12) == [(4, 10)] and own.others(11, 12) == []
    assert own.others(2, 12, most=0) == [(2, 12)]  # too many spans: read the whole range back


def test_texts_read_the_free_text_of_given_incidents(live):
    live.insert_groups([[maker("A", description="漏水"), maker("B", 1, contact_name="李"), maker("C", 2)]])
    got = live.texts(["C", "A", "nope", "A"], ["description", "contact_name"])
    assert got == {"A": ("漏水", None), "C": (None, None)}
    assert live.texts(["B"], ["contact_name"]) == {"B": ("李",)} and live.texts([], ["description"]) == {}
    with pytest.raises(ValueError):
        live.texts(["A"], ["stage; DROP TABLE incidents"])
