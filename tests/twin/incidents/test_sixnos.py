"""The quarterly six-nos rating of every compound, checked against the hand-worked incidents of report_fixture.

Default limits: resolve within 1 day. Q1 ends 31 Mar 16:00 UTC; the clock stands at 2 Apr 00:00 UTC (Q2 runs).
"""

import pandas as pd
import pytest

from twin.incidents.sixnos import CATEGORIES_OF, REASONS, six_nos, six_nos_rows
from twin.times import parse_quarter
from twin.vocab import SIX_NOS

from .report_fixture import SIX_NOS as ROWS
from .report_fixture import fill

TZ = "Asia/Shanghai"
Q1, Q2 = parse_quarter("2026Q1", TZ), parse_quarter("2026Q2", TZ)


@pytest.fixture
def filled(svc, clock):
    return svc, fill(svc, clock, ROWS)


def by_compound(rating: dict) -> dict:
    return {c["compound_id"]: c for c in rating["compounds"]}


def test_every_no_is_tied_to_categories():
    assert set(CATEGORIES_OF) == set(SIX_NOS) and all(CATEGORIES_OF.values())
    assert set(CATEGORIES_OF["no_fire_hazard"]) == {"fire_hazard", "flying_line_charging"}
    assert CATEGORIES_OF["no_petition"] == ("petition",)


def test_first_quarter_by_hand(filled):
    svc, ids = filled
    r = six_nos(svc, Q1)
    by = by_compound(r)
    assert list(by) == ["C1", "C2", "C3"]  # every compound is rated, with or without incidents
    assert r["as_of"] == "2026-04-01T00:00:00+08:00" and r["complete"] is True  # judged at the quarter's end
    # C1 garbage: p0, a, b, n at B1 and c 30 m east form one hotspot; b was resolved after 2000 min > 1440;
    # p0, c and n were never resolved and their day ran out before the quarter ended. a (resolved in 600 min)
    # is behind the failure only as part of the hotspot.
    garbage = by["C1"]["nos"]["no_garbage"]
    assert garbage["incident_ids"] == [ids[k] for k in ("p0", "a", "b", "c", "n")]
    assert garbage["reasons"] == {
        ids["p0"]: ["open_overdue", "repeat"],
        ids["a"]: ["repeat"],
        ids["b"]: ["late", "repeat"],
        ids["c"]: ["open_overdue", "repeat"],
        ids["n"]: ["open_overdue", "repeat"],
    }
    # petition g (31 Mar 15:00 UTC) is still open, but its day ran until 1 Apr 15:00, after the quarter ended
    assert by["C1"]["failed"] == ["no_garbage"] and by["C1"]["nos"]["no_petition"]["passed"] is True
    # C2: the fire hazard d was resolved within 100 minutes: it passes; f (local 1 Apr) is Q2
    assert by["C2"]["passed"] is True and by["C2"]["nos"]["no_fire_hazard"] == {
        "passed": True,
        "incident_ids": [],
        "reasons": {},
    }
    # C3: r1, r3, r4 at B4 are a repeat hotspot though each was resolved in 2 hours; r2 at B5 (126 m away) is not
    # in it. L was resolved after 1500 min > 1440. The elevator failure e is none of the six.
    assert by["C3"]["failed"] == ["no_garbage", "no_illegal_structure"]
    assert by["C3"]["nos"]["no_garbage"]["reasons"] == {ids[k]: ["repeat"] for k in ("r1", "r3", "r4")}
    assert by["C3"]["nos"]["no_illegal_structure"]["reasons"] == {ids["L"]: ["late"]}
    assert by["C1"]["name"] == "纺织厂宿舍" and by["C3"]["state"] == "fallback"
    assert r["summary"] == {
        "compounds": 3,
        "passed": 1,
        "failed_by_no": {
            "no_garbage": 2,
            "no_illegal_structure": 1,
            "no_fee_arrears": 0,
            "no_security_incident": 0,
            "no_petition": 0,
            "no_fire_hazard": 0,
        },
        "failed_by_reason": {"late": 2, "open_overdue": 1, "repeat": 2},
    }
    assert r["hotspot_rule"] == {"radius_m": 50.0, "min_count": 3} and set(r["reasons"]) == set(REASONS)


def test_current_quarter_is_judged_at_the_clock(filled, clock):
    svc, ids = filled
    r = six_nos(svc, Q2)
    by = by_compound(r)
    assert r["as_of"] == "2026-04-02T08:00:00+08:00" and r["complete"] is False
    # f: flying-line charging, 31 Mar 16:30 UTC, untouched: due 1 Apr 16:30, past at the clock → C2 fails
    assert by["C2"]["failed"] == ["no_fire_hazard"]
    assert by["C2"]["nos"]["no_fire_hazard"]["reasons"] == {ids["f"]: ["open_overdue"]}
    # s: security at B1, 1 Apr 20:00, accepted but nobody on site (late for that limit, which the rating ignores);
    # it has until 2 Apr 20:00 to be resolved → C1 passes for now
    assert by["C1"]["passed"] and by["C3"]["passed"] and r["summary"]["passed"] == 2
    assert r["quarter"]["label"] == "2026Q2" and r["quarter"]["start"] == "2026-04-01T00:00:00+08:00"
    clock.t = pd.Timestamp("2026-04-02 20:00:01", tz="UTC")
    later = by_compound(six_nos(svc, Q2))
    assert later["C1"]["failed"] == ["no_security_incident"]
    assert later["C1"]["nos"]["no_security_incident"]["reasons"] == {ids["s"]: ["open_overdue"]}


def test_a_finished_quarter_is_final(filled, clock):
    svc, ids = filled
    before = six_nos(svc, Q1)
    # g is resolved days after its limit, and f after its own: neither changes Q1
    clock.t = pd.Timestamp("2026-04-05 00:00", tz="UTC")
    for name in ("g", "f"):
        for action in ("accept", "arrive", "resolve"):
            svc.act(ids[name], action, actor="test")
    after = six_nos(svc, Q1)
    assert after["compounds"] == before["compounds"] and after["as_of"] == before["as_of"]
    # in Q2 f is now resolved late rather than open
    assert by_compound(six_nos(svc, Q2))["C2"]["nos"]["no_fire_hazard"]["reasons"] == {ids["f"]: ["late"]}


def test_a_resolution_after_the_quarter_is_not_in_time_for_it(svc, clock):
    # p0 (garbage at B1, reported 28 Feb 20:00 UTC, due 1 Mar 20:00) resolved only on 2 Apr: open past its
    # limit at the end of Q1, whatever happened next
    ids = fill(svc, clock, ROWS[:1])
    for action in ("accept", "arrive", "resolve"):
        svc.act(ids["p0"], action, actor="test")
    garbage = by_compound(six_nos(svc, Q1))["C1"]["nos"]["no_garbage"]
    assert garbage["reasons"] == {ids["p0"]: ["open_overdue"]}


def test_hotspot_rule_parameters(filled):
    svc, ids = filled
    # min_count 4: the three prompt garbage reports at B4 are no hotspot any more → C3 fails only on L
    by = by_compound(six_nos(svc, Q1, min_count=4))
    assert by["C3"]["failed"] == ["no_illegal_structure"]
    assert by["C1"]["nos"]["no_garbage"]["reasons"][ids["a"]] == ["repeat"]  # C1's five still make one
    # radius 150 m: r2 at B5, 126 m from B4, joins them
    by = by_compound(six_nos(svc, Q1, radius_m=150))
    assert by["C3"]["nos"]["no_garbage"]["incident_ids"] == [ids[k] for k in ("r1", "r2", "r3", "r4")]


def test_hotspots_stop_at_the_compound_boundary(filled):
    svc, ids = filled
    # 1 km joins C1's five garbage reports and C3's four (nine ≥ 6) but no compound holds six of them: no repeat
    by = by_compound(six_nos(svc, Q1, radius_m=1000, min_count=6))
    assert by["C3"]["failed"] == ["no_illegal_structure"]
    assert by["C1"]["nos"]["no_garbage"]["reasons"] == {
        ids["p0"]: ["open_overdue"],
        ids["b"]: ["late"],
        ids["c"]: ["open_overdue"],
        ids["n"]: ["open_overdue"],
    }


def test_incidents_outside_compounds_do_not_count(filled):
    svc, _ = filled
    # the parking reports p1-p4 lie in no compound; parking is none of the six anyway; nothing in Q3 at all
    r = six_nos(svc, parse_quarter("2026Q3", TZ))
    assert r["summary"]["passed"] == 3 and all(c["failed"] == [] for c in r["compounds"])


def test_six_nos_as_one_tidy_table(filled):
    svc, ids = filled
    t = six_nos_rows(six_nos(svc, Q1), "zh")
    assert len(t) == 3 * 6 and (t["quarter"] == "2026Q1").all()
    row = t[(t["compound_id"] == "C1") & (t["no"] == "no_garbage")].iloc[0]
    assert row["passed"] == 0 and row["incidents"] == 5 and row["no_name"] == "无垃圾杂物"
    assert row["incident_ids"] == ";".join(ids[k] for k in ("p0", "a", "b", "c", "n")) and row["compound_passed"] == 0
    assert row["reasons"] == "open_overdue+repeat;repeat;late+repeat;open_overdue+repeat;open_overdue+repeat"
    c2 = t[t["compound_id"] == "C2"]
    assert c2["passed"].tolist() == [1] * 6 and c2["compound_passed"].tolist() == [1] * 6
    assert c2["incident_ids"].tolist() == [""] * 6 and c2["reasons"].tolist() == [""] * 6
    en = six_nos_rows(six_nos(svc, Q1), "en")
    assert en["no_name"].iloc[0] == "No garbage or clutter"
