"""The quarterly six-nos rating of every compound, checked against the hand-worked month in report_fixture."""
import pytest

from twin.incidents.periods import parse_quarter
from twin.incidents.sixnos import CATEGORIES_OF, six_nos, six_nos_rows
from twin.vocab import SIX_NOS

from .report_fixture import fill

TZ = "Asia/Shanghai"


@pytest.fixture
def filled(svc, clock):
    return svc, fill(svc, clock)


def test_every_no_is_tied_to_categories():
    assert set(CATEGORIES_OF) == set(SIX_NOS) and all(CATEGORIES_OF.values())
    assert set(CATEGORIES_OF["no_fire_hazard"]) == {"fire_hazard", "flying_line_charging"}
    assert CATEGORIES_OF["no_petition"] == ("petition",)


def test_first_quarter_by_hand(filled):
    svc, ids = filled
    r = six_nos(svc, parse_quarter("2026Q1", TZ))
    by = {c["compound_id"]: c for c in r["compounds"]}
    assert list(by) == ["C1", "C2", "C3"]  # every compound is rated, with or without incidents
    # C1: five garbage reports at B1 (p0, a, b, c, n) and the petition g at B2.
    assert by["C1"]["failed"] == ["no_garbage", "no_petition"] and by["C1"]["passed"] is False
    assert by["C1"]["nos"]["no_garbage"]["incident_ids"] == [ids[k] for k in ("p0", "a", "b", "c", "n")]
    assert by["C1"]["nos"]["no_petition"]["incident_ids"] == [ids["g"]]
    # C2: the fire hazard d fails it although it was closed within the day; f (local 1 Apr) is Q2.
    assert by["C2"]["failed"] == ["no_fire_hazard"] and by["C2"]["nos"]["no_fire_hazard"]["incident_ids"] == [ids["d"]]
    # C3: only the elevator failure e, which is none of the six.
    assert by["C3"]["passed"] is True and by["C3"]["failed"] == []
    assert all(v == {"passed": True, "incident_ids": []} for v in by["C3"]["nos"].values())
    assert by["C1"]["name"] == "纺织厂宿舍" and by["C3"]["state"] == "fallback"
    assert r["summary"] == {"compounds": 3, "passed": 1,
                            "failed_by_no": {"no_garbage": 1, "no_illegal_structure": 0, "no_fee_arrears": 0,
                                             "no_security_incident": 0, "no_petition": 1, "no_fire_hazard": 1}}


def test_second_quarter_by_hand(filled):
    svc, ids = filled
    r = six_nos(svc, parse_quarter("2026Q2", TZ))
    by = {c["compound_id"]: c for c in r["compounds"]}
    # f: flying-line charging at B3, 1 Apr 00:30 local → C2 fails "no fire hazards" in Q2.
    assert by["C2"]["failed"] == ["no_fire_hazard"] and by["C2"]["nos"]["no_fire_hazard"]["incident_ids"] == [ids["f"]]
    assert by["C1"]["passed"] and by["C3"]["passed"] and r["summary"]["passed"] == 2
    assert r["quarter"]["label"] == "2026Q2" and r["quarter"]["start"] == "2026-04-01T00:00:00+08:00"


def test_incidents_outside_compounds_do_not_count(filled):
    svc, _ = filled
    # the parking reports p1-p4 lie in no compound; parking is none of the six anyway; nothing in Q3 at all
    r = six_nos(svc, parse_quarter("2026Q3", TZ))
    assert r["summary"]["passed"] == 3 and all(c["failed"] == [] for c in r["compounds"])


def test_six_nos_as_one_tidy_table(filled):
    svc, ids = filled
    t = six_nos_rows(six_nos(svc, parse_quarter("2026Q1", TZ)), "zh")
    assert len(t) == 3 * 6 and (t["quarter"] == "2026Q1").all()
    row = t[(t["compound_id"] == "C1") & (t["no"] == "no_garbage")].iloc[0]
    assert row["passed"] == 0 and row["incidents"] == 5 and row["no_name"] == "无垃圾杂物"
    assert row["incident_ids"] == ";".join(ids[k] for k in ("p0", "a", "b", "c", "n")) and row["compound_passed"] == 0
    assert t[t["compound_id"] == "C3"]["passed"].tolist() == [1] * 6
    assert t[t["compound_id"] == "C3"]["compound_passed"].tolist() == [1] * 6
    en = six_nos_rows(six_nos(svc, parse_quarter("2026Q1", TZ)), "en")
    assert en["no_name"].iloc[0] == "No garbage or clutter"
