"""The incident figures kept per write (twin.incidents.figures, kpis, six-nos) against brute-force recomputation.

The brute force below works each figure out row by row from the service's full frame, with nothing shared with
the code under test but the deadline table: open = stage not resolved/closed; a limit is due `seconds` after the
report; it is met when its time is at or before the due time, missed when it has no time, its stage was not
reached and the due time has passed; an open incident is overdue when a limit it has not reached is past due.
The fixture is report_fixture.SIX_NOS (filed out of report order) plus a reopen, an escalation and a second
service with overridden deadlines; clocks include both sides of midnight in the office's zone (UTC+8).
"""

import numpy as np
import pandas as pd
import pytest

from twin.incidents import listing
from twin.incidents.deadlines import LIMITS, Deadlines
from twin.incidents.figures import FigureIndex
from twin.incidents.kpis import kpis
from twin.incidents.reports import period_report
from twin.incidents.service import IncidentService
from twin.incidents.sixnos import six_nos, six_nos_summary
from twin.incidents.timeliness import timeliness
from twin.times import parse_quarter, period_of

from .report_fixture import B1, B4, SIX_NOS, fill

TZ = "Asia/Shanghai"
DONE = ("resolved", "closed")
RANK = {"reported": 0, "accepted": 1, "on_site": 2, "resolved": 3, "closed": 4}
REACHED_BY = {"accept": ("accepted_at", 1), "on_site": ("on_site_at", 2), "resolve": ("resolved_at", 3)}
OVERRIDE = {"garbage": {"accept": 600, "resolve": 3600}, "*": {"on_site": 1800}}


def brute(frame: pd.DataFrame, deadlines, now) -> dict:
    """summary() worked out one row at a time."""
    d = Deadlines.parse(deadlines)
    now = pd.Timestamp(now)
    met = {lim: [] for lim in LIMITS}
    overdue = 0
    for r in frame.to_dict("records"):
        is_open = r["stage"] not in DONE
        late_now = False
        for lim in LIMITS:
            col, rank = REACHED_BY[lim]
            due = r["reported_at"] + pd.Timedelta(seconds=d.seconds(r["category"], lim))
            when = r[col]
            reached = not pd.isna(when) or RANK[r["stage"]] >= rank
            if not pd.isna(when):
                met[lim].append(when <= due)
            elif not reached and due < now:
                met[lim].append(False)
            late_now |= is_open and not reached and due < now
        overdue += late_now
    n = len(frame)
    done = int(frame["stage"].isin(DONE).sum()) if n else 0
    ratings = [int(v) for v in frame["rating"] if not pd.isna(v)] if n else []
    return {
        "total": n,
        "open": n - done,
        "overdue": overdue,
        "by_stage": {s: int((frame["stage"] == s).sum()) if n else 0 for s in RANK},
        "on_time": {lim: round(sum(v) / len(v), 4) if v else None for lim, v in met.items()},
        "closure_rate": round(done / n, 4) if n else None,
        "mean_rating": round(sum(ratings) / len(ratings), 3) if ratings else None,
    }


def same(got: dict, want: dict) -> None:
    for key, value in want.items():
        assert got[key] == value, key


def reported_in(frame, start=None, end=None) -> pd.DataFrame:
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= (frame["reported_at"] >= start).to_numpy()
    if end is not None:
        keep &= (frame["reported_at"] < end).to_numpy()
    return frame[keep]


@pytest.fixture
def filled(svc, clock):
    ids = fill(svc, clock, SIX_NOS)
    # e (elevator, resolved 6 Mar) is reopened on 9 Mar: its resolve limit is judged again, and it is open
    clock.t = pd.Timestamp("2026-03-09 02:00", tz="UTC")
    svc.act(ids["e"], "reopen", actor="test")
    # c (garbage, never accepted) is escalated: the level changes, its limits do not
    svc.act(ids["c"], "escalate", actor="test")
    clock.t = pd.Timestamp("2026-04-02 00:00", tz="UTC")
    return svc, ids


CLOCKS = [
    "2026-03-02 00:00:30",  # inside a's one-minute accept limit
    "2026-03-07 15:59",  # local 23:59 on Sat 7 Mar
    "2026-03-07 16:01",  # local 00:01 on Sun 8 Mar: "today" starts again
    "2026-03-09 02:30",  # after the reopen
    "2026-04-02 00:00",
]


@pytest.mark.parametrize("deadlines", [None, OVERRIDE], ids=["default", "override"])
@pytest.mark.parametrize("at", CLOCKS)
def test_summary_of_every_period_matches_the_brute_force(filled, clock, at, deadlines):
    svc, _ = filled
    svc.deadlines = Deadlines.parse(deadlines)
    now = pd.Timestamp(at, tz="UTC")
    frame = svc.frame()
    for kind in ("weekly", "monthly", "quarterly"):
        p = period_of(kind, pd.Timestamp("2026-03-05"), TZ)
        same(
            svc.summary(svc.positions(start=p.start_utc, end=p.end_utc), now),
            brute(reported_in(frame, p.start_utc, p.end_utc), deadlines, now),
        )
    same(svc.summary(None, now), brute(frame, deadlines, now))
    same(svc.summary(svc.open_positions(), now), brute(frame[~frame["stage"].isin(DONE)], deadlines, now))
    flags = svc.overdue(np.arange(len(frame)), now)
    assert int(flags.sum()) == brute(frame, deadlines, now)["overdue"]


@pytest.mark.parametrize("at", CLOCKS)
def test_kpis_match_the_brute_force_across_midnight(filled, clock, at):
    svc, _ = filled
    clock.t = now = pd.Timestamp(at, tz="UTC")
    frame = svc.frame()
    local = now.tz_convert(TZ)
    day0 = local.normalize().tz_convert("UTC")
    month0 = local.replace(day=1).normalize().tz_convert("UTC")
    k = kpis(svc, now)
    open_ = brute(frame[~frame["stage"].isin(DONE)], None, now)
    today, month = brute(reported_in(frame, day0), None, now), brute(reported_in(frame, month0), None, now)
    assert k["open"] == open_["total"] and k["overdue"] == open_["overdue"]
    assert k["open_by_stage"] == {s: open_["by_stage"][s] for s in ("reported", "accepted", "on_site")}
    assert (k["reported_today"], k["on_time_today"]) == (today["total"], today["on_time"])
    assert (k["reported_month"], k["on_time_month"]) == (month["total"], month["on_time"])
    assert (k["closure_rate_month"], k["mean_rating_month"]) == (month["closure_rate"], month["mean_rating"])
    rating = six_nos(svc, parse_quarter(None, TZ, now))
    assert k["six_nos"]["met"] == sum(c["passed"] for c in rating["compounds"])


def test_midnight_moves_an_incident_out_of_today(filled, clock):
    svc, _ = filled
    # "today" is everything reported since the local midnight (the store here also holds later incidents):
    # p4 (local Sun 23:00) is the only one of Sunday 8 March, so it leaves "today" at the local midnight
    before = kpis(svc, pd.Timestamp("2026-03-08 15:59", tz="UTC"))  # local Sun 23:59
    after = kpis(svc, pd.Timestamp("2026-03-08 16:01", tz="UTC"))  # local Mon 00:01
    assert before["reported_today"] - after["reported_today"] == 1


def test_figures_kept_per_write_equal_figures_built_from_scratch(filled, clock, open_tiny):
    svc, ids = filled
    clock.t = pd.Timestamp("2026-04-02 00:00", tz="UTC")
    svc.create({"category": "garbage", "lon": B1[0], "lat": B1[1]}, actor="test")
    svc.act(ids["g"], "accept", actor="test")
    fresh = FigureIndex(svc.frame())
    for at in CLOCKS:
        now = pd.Timestamp(at, tz="UTC")
        everything = np.arange(len(svc))
        assert svc.summary(everything, now) == fresh.summary(everything, None, now)
    assert svc.open_positions().tolist() == fresh.open_positions().tolist()
    for start, end in ((None, None), ("2026-03-07", "2026-03-12"), ("2026-03-31 16:00", None)):
        assert svc.positions(start=start, end=end).tolist() == fresh.between(start, end).tolist()


def test_six_nos_kept_across_writes_equals_a_fresh_rating(filled, clock, open_tiny):
    svc, _ = filled
    q1 = parse_quarter("2026Q1", TZ)
    q2 = parse_quarter("2026Q2", TZ)
    first = six_nos_summary(svc, q2)
    # two more garbage reports at B4 (C3) in Q2 make a repeat hotspot with none before it
    for minutes in (0, 60, 120):
        clock.t = pd.Timestamp("2026-04-01 18:00", tz="UTC") + pd.Timedelta(minutes=minutes)
        svc.create({"category": "garbage", "lon": B4[0], "lat": B4[1]}, actor="test")
    kept = six_nos_summary(svc, q2)
    assert kept["failed_by_reason"]["repeat"] == first["failed_by_reason"]["repeat"] + 1
    again = IncidentService(svc.twin, svc.store, clock=clock)  # no kept hotspots
    for q in (q1, q2):
        assert six_nos_summary(svc, q) == six_nos_summary(again, q) == six_nos(again, q)["summary"]
        assert six_nos(svc, q) == six_nos(again, q)


def test_a_finished_quarters_rating_is_kept_until_one_of_its_incidents_changes(filled, clock):
    svc, ids = filled
    q1 = parse_quarter("2026Q1", TZ)
    first = six_nos(svc, q1)
    assert first["complete"]
    clock.t = pd.Timestamp("2026-04-02 01:00", tz="UTC")
    svc.create({"category": "garbage", "lon": B4[0], "lat": B4[1]}, actor="test")  # Q2: Q1's rating stays
    assert six_nos(svc, q1) is first
    # r1 (garbage at B4, resolved on time in March) is reopened in April: it now counts as unresolved past its limit
    assert first_reasons(first, ids["r1"]) == ["repeat"]
    svc.act(ids["r1"], "reopen", actor="test")
    again = IncidentService(svc.twin, svc.store, clock=clock)
    changed = six_nos(svc, q1)
    assert first_reasons(changed, ids["r1"]) == ["open_overdue", "repeat"]
    assert changed == six_nos(again, q1)
    svc.deadlines = again.deadlines = Deadlines.parse(OVERRIDE)  # garbage resolved within an hour: more are late
    assert six_nos(svc, q1) == six_nos(again, q1) != changed
    q2 = parse_quarter("2026Q2", TZ)  # still running at the clock: judged again on every call
    assert not six_nos(svc, q2)["complete"] and six_nos(svc, q2) is not six_nos(svc, q2)


def first_reasons(rating: dict, incident_id: str) -> list:
    """The reasons given for `incident_id` in a six-nos rating (the first failed "no" naming it)."""
    return next(
        v["reasons"][incident_id] for c in rating["compounds"] for v in c["nos"].values() if incident_id in v["reasons"]
    )


def test_period_report_counts_match_the_brute_force(filled, clock):
    svc, _ = filled
    p = period_of("monthly", pd.Timestamp("2026-03-15"), TZ)
    r = period_report(svc, p)
    sub = reported_in(svc.frame(), p.start_utc, p.end_utc)
    by_grid = sub["grid_code"].value_counts()
    assert {k: v for k, v in r["by_grid"].items() if v} == {k: int(v) for k, v in by_grid.items()}
    assert sum(r["by_category"].values()) == len(sub) == r["total"]


def test_report_hotspots_kept_across_writes_equal_a_fresh_report(filled, clock):
    svc, _ = filled
    march = period_of("monthly", pd.Timestamp("2026-03-15"), TZ)
    april = period_of("monthly", pd.Timestamp("2026-04-15"), TZ)
    before = period_report(svc, april)
    for minutes in (0, 30, 60):  # three garbage reports at B4 in April: a new hotspot
        clock.t = pd.Timestamp("2026-04-01 18:00", tz="UTC") + pd.Timedelta(minutes=minutes)
        svc.create({"category": "garbage", "lon": B4[0], "lat": B4[1]}, actor="test")
    after = period_report(svc, april)
    assert len(after["hotspots"]) == len(before["hotspots"]) + 1
    again = IncidentService(svc.twin, svc.store, clock=clock)  # nothing kept
    for p in (march, april):
        assert period_report(svc, p) == period_report(again, p)


@pytest.mark.parametrize("status", [None, "open", "closed"])
def test_a_listed_page_is_the_brute_force_page(filled, clock, status):
    svc, _ = filled
    frame = svc.frame()
    start, end = pd.Timestamp("2026-03-03", tz="UTC"), pd.Timestamp("2026-04-01", tz="UTC")
    want = reported_in(frame, start, end)
    if status is not None:
        want = want[want["stage"].isin(DONE) == (status == "closed")]
    want = want[want["category"] != "petition"]  # the caller may not see petitions here
    want = want.sort_values(["reported_at", "incident_id"], ascending=False)
    seen = []
    for number in (1, 2, 3, 4):
        page, total = listing.page(
            svc, start=start, end=end, status=status, may_see=lambda c, g: c != "petition", page=number, size=4
        )
        assert total == len(want)
        seen += page["incident_id"].tolist()
    assert seen == want["incident_id"].tolist()[:16]


def test_the_urgent_order_puts_overdue_first_then_the_nearest_deadline(filled, clock):
    svc, ids = filled
    now = pd.Timestamp("2026-04-01 20:00:30", tz="UTC")  # s (security) was reported 20:00 and accepted at once
    page, total = listing.page(svc, status="open", order="urgent", size=100, now=now)
    t = timeliness(page, None, now)
    assert total == len(page) == len(svc.frame().query("stage not in @DONE"))
    overdue = t["overdue"].tolist()
    assert overdue == sorted(overdue, reverse=True) and not overdue[-1]  # overdue ones first; s is not overdue
    assert page["incident_id"].iloc[-1] == ids["s"]


def test_period_positions_follow_writes_in_and_out_of_report_order():
    rng = np.random.default_rng(3)
    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    times = [t0 + pd.Timedelta(minutes=int(m)) for m in rng.integers(0, 600, 40)]
    fig = FigureIndex(pd.DataFrame({"reported_at": times[:20], "stage": "reported"}))
    ranges = [
        (None, None),
        (t0 + pd.Timedelta(hours=2), t0 + pd.Timedelta(hours=6)),
        (t0 + pd.Timedelta(hours=5), None),
    ]

    def brute(start, end):
        return [
            i for i, t in enumerate(times[: len(fig)]) if (start is None or t >= start) and (end is None or t < end)
        ]

    for k in range(20, 41):
        for start, end in ranges:  # asked after every write, so kept answers are grown or dropped each time
            assert fig.between(start, end).tolist() == brute(start, end)
        assert fig.reported_range() == (min(times[: len(fig)]), max(times[: len(fig)]))
        if k < 40:
            fig.append({"reported_at": times[k], "stage": "reported"})  # most are before the latest
