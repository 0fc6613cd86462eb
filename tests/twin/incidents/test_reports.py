"""Weekly/monthly/quarterly reports and repeat hotspots, checked against the hand-worked month in report_fixture."""

import pandas as pd
import pytest

from tests.tiny import GA1, GA2, GB1, A, B
from twin.access import PERSONAL_CATEGORIES
from twin.errors import InvalidInput
from twin.incidents.hotspots import hotspots
from twin.incidents.reports import period_report, place_names, report_rows
from twin.times import iso, isos, parse_date, parse_quarter, period_of

from .report_fixture import PAGED, PAGED_ORDER, fill

TZ = "Asia/Shanghai"


@pytest.fixture
def filled(svc, clock):
    return svc, fill(svc, clock)


def week(day="2026-03-04"):
    return period_of("weekly", pd.Timestamp(day), TZ)


# --- periods ----------------------------------------------------------------------------------------------------
def test_periods_are_local_weeks_months_quarters():
    w = week("2026-03-08")  # a Sunday belongs to the week starting the Monday before
    assert w.label == "2026-W10" and w.start.isoformat() == "2026-03-02T00:00:00+08:00"
    assert w.start_utc == pd.Timestamp("2026-03-01 16:00", tz="UTC") and (w.end - w.start) == pd.Timedelta(days=7)
    m = period_of("monthly", pd.Timestamp("2026-02-14"), TZ)
    assert m.label == "2026-02" and m.end.isoformat() == "2026-03-01T00:00:00+08:00"
    q = period_of("quarterly", pd.Timestamp("2026-08-31"), TZ)
    assert q.label == "2026Q3" and q.start.isoformat() == "2026-07-01T00:00:00+08:00"
    assert q.end.isoformat() == "2026-10-01T00:00:00+08:00"
    assert period_of("weekly", pd.Timestamp("2027-01-01"), TZ).label == "2026-W53"  # ISO year of the Monday
    assert parse_quarter("2026q4", TZ).end.isoformat() == "2027-01-01T00:00:00+08:00"
    assert parse_quarter(None, TZ, now=pd.Timestamp("2026-03-31 16:30", tz="UTC")).label == "2026Q2"  # local 1 Apr
    assert parse_date(None, TZ, now=pd.Timestamp("2026-03-08 16:10", tz="UTC")) == pd.Timestamp("2026-03-09")


@pytest.mark.parametrize("raw", ["2026-3-4", "2026-02-30", "yesterday", "2026-03-04T00:00", "2262-04-10", "0000-01-01"])
def test_bad_dates_are_refused(raw):
    with pytest.raises(InvalidInput):
        parse_date(raw, TZ)


@pytest.mark.parametrize("raw", ["2026Q5", "2026", "Q3", "2026Q3x", "9999Q4"])
def test_bad_quarters_are_refused(raw):
    with pytest.raises(InvalidInput):
        parse_quarter(raw, TZ)


def test_unknown_period_is_refused():
    with pytest.raises(InvalidInput, match="weekly"):
        period_of("daily", pd.Timestamp("2026-03-04"), TZ)


# --- the weekly report, by hand ---------------------------------------------------------------------------------
def test_weekly_report_by_hand(filled):
    svc, ids = filled
    r = period_report(svc, week())
    # W10 local holds a, b, c, d, e, p1-p4: p0 is in W09 and n (Mon 00:10 local) in W11, though W10 in UTC.
    assert r["period"]["label"] == "2026-W10" and r["complete"] is True
    assert r["total"] == 9 and r["open"] == 5 and r["overdue"] == 5  # c, p1-p4 are open and past due
    assert r["by_stage"] == {"reported": 4, "accepted": 1, "on_site": 0, "resolved": 2, "closed": 2}
    cats = {k: v for k, v in r["by_category"].items() if v}
    assert cats == {"garbage": 3, "fire_hazard": 1, "elevator": 1, "parking": 4}
    assert {k: v for k, v in r["by_source"].items() if v} == {"app": 3, "hotline_12345": 2, "patrol": 4}
    assert r["by_grid"] == {GA1: 3, GA2: 4, GB1: 2}
    assert r["by_community"] == {A: 7, B: 2}
    assert r["by_compound"] == {"C1": 3, "C2": 1, "C3": 1}  # the four parking incidents lie in no compound
    # accept met by a, d, e, p1 (4/9); on site by a, b, e (3/9: d came at 70 min); resolve by a, d, e (3/9).
    assert r["on_time"] == {"accept": 0.4444, "on_site": 0.3333, "resolve": 0.3333}
    assert r["closure_rate"] == 0.4444 and r["mean_rating"] == 4.0  # (5 + 3) / 2
    spots = [(h["category"], h["count"], h["building_id"], h["incident_ids"]) for h in r["hotspots"]]
    assert spots == [
        ("garbage", 3, "B1", [ids["a"], ids["b"], ids["c"]]),
        ("parking", 3, None, [ids["p1"], ids["p2"], ids["p3"]]),
    ]
    assert r["hotspots"][1]["grid_code"] == GA2 and r["hotspots"][0]["compound_id"] == "C1"
    assert r["hotspots"][0]["first_reported"] == "2026-03-02T08:00:00+08:00"


def test_monthly_and_quarterly_reports_by_hand(filled):
    svc, ids = filled
    march = period_report(svc, period_of("monthly", pd.Timestamp("2026-03-20"), TZ))
    # p0 (local 1 Mar 04:00) is in March; f (local 1 Apr 00:30) is not.
    assert march["total"] == 12 and march["by_category"]["garbage"] == 5 and march["by_category"]["petition"] == 1
    assert march["by_category"]["flying_line_charging"] == 0
    assert [(h["category"], h["count"]) for h in march["hotspots"]] == [("garbage", 5), ("parking", 3)]
    q1 = period_report(svc, parse_quarter("2026Q1", TZ))
    assert q1["total"] == 12 and q1["by_compound"] == {"C1": 6, "C2": 1, "C3": 1}
    q2 = period_report(svc, parse_quarter("2026Q2", TZ))
    assert q2["total"] == 1 and q2["complete"] is False and q2["open"] == 1
    assert q2["on_time"] == {"accept": 0.0, "on_site": 0.0, "resolve": 0.0}  # f: every limit passed by 2 Apr


def test_limits_not_yet_due_are_undecided(filled, clock):
    svc, _ = filled
    clock.t = pd.Timestamp("2026-04-01 12:00", tz="UTC")  # f's resolve limit falls due at 16:30 UTC
    q2 = period_report(svc, parse_quarter("2026Q2", TZ))
    assert q2["on_time"] == {"accept": 0.0, "on_site": 0.0, "resolve": None} and q2["as_of"].startswith("2026-04-01T20")


def test_an_empty_period_reports_zeros(filled):
    svc, _ = filled
    r = period_report(svc, week("2026-01-14"))
    assert r["total"] == 0 and r["hotspots"] == [] and r["closure_rate"] is None
    assert r["by_grid"] == {GA1: 0, GA2: 0, GB1: 0}


# --- hotspots ---------------------------------------------------------------------------------------------------
def test_hotspot_rule_parameters(filled):
    svc, ids = filled
    frame = svc.select(start=week().start_utc, end=week().end_utc)
    crs = svc.twin.crs
    assert [h["count"] for h in hotspots(frame, crs, 50, 4)] == []
    # 0 m: only the shared building links incidents, so the garbage at B1 stays and the parking goes.
    assert [(h["category"], h["count"]) for h in hotspots(frame, crs, 0, 3)] == [("garbage", 3)]
    # 100 m: p3 reaches p1 (51 m) and p4 (76 m), so all four parking reports are one place; p2-p4 is 101 m.
    wide = hotspots(frame, crs, 100, 3)
    assert [(h["category"], h["count"]) for h in wide] == [("parking", 4), ("garbage", 3)]
    assert wide[0]["incident_ids"] == [ids["p1"], ids["p2"], ids["p3"], ids["p4"]]
    # 30 m: p1 and p3 are 51 m apart, but p2 sees both, so it seeds a hotspot of all three.
    assert [(h["category"], h["count"]) for h in hotspots(frame, crs, 30, 3)] == [("garbage", 3), ("parking", 3)]
    with pytest.raises(InvalidInput):
        hotspots(frame, crs, -1, 3)
    with pytest.raises(InvalidInput):
        hotspots(frame, crs, 50, 1)


def test_an_incident_joins_one_hotspot_only():
    # Five same-category points in a row 20 m apart (no buildings), radius 25 m, at least 3:
    # every inner point sees 3; the first seed (x=20) takes 0,20,40; then x=60 sees only 60 and 80 left → no more.
    from twin.crs import MetricCRS

    crs = MetricCRS.for_lonlat(114.88, 40.80)
    x0, y0 = crs.xy(114.88, 40.80)
    lon, lat = crs.lonlat([x0 + d for d in (0, 20, 40, 60, 80)], [y0] * 5)
    t = pd.Timestamp("2026-03-02", tz="UTC")
    frame = pd.DataFrame(
        {
            "incident_id": list("vwxyz"),
            "category": "drain",
            "lon": lon,
            "lat": lat,
            "building_id": None,
            "compound_id": None,
            "grid_code": "g",
            "community_id": "c",
            "reported_at": [t + pd.Timedelta(hours=i) for i in range(5)],
        }
    )
    assert [h["incident_ids"] for h in hotspots(frame, crs, 25, 3)] == [["v", "w", "x"]]


# --- paged hotspots -------------------------------------------------------------------------------------------------
def full_list(svc, period) -> list[dict]:
    """Every hotspot of `period` by hotspots() on the frame of its incidents (the brute-force reference)."""
    frame = svc.select(start=period.start_utc, end=period.end_utc)
    spots = hotspots(frame, svc.twin.crs)
    return [
        {**h, "first_reported": iso(h["first_reported"], TZ), "last_reported": iso(h["last_reported"], TZ)}
        for h in spots
    ]


@pytest.fixture
def paged(svc, clock):
    return svc, fill(svc, clock, PAGED)


def test_a_page_of_hotspots_is_that_slice_of_the_full_list(paged):
    svc, ids = paged
    q1 = parse_quarter("2026Q1", TZ)
    full = full_list(svc, q1)
    assert [(h["category"], h["count"]) for h in full] == PAGED_ORDER
    assert full[3]["incident_ids"] == [ids["r1"], ids["r3"], ids["r4"]]
    assert period_report(svc, q1)["hotspots"] == full  # no limit: all of them
    for limit in (0, 1, 2, 5, 6, 7):
        for offset in (0, 1, 4, 5, 6, 9):
            r = period_report(svc, q1, hotspots_limit=limit, hotspots_offset=offset)
            assert r["hotspots"] == full[offset : offset + limit] and r["hotspots_total"] == 6


def test_hotspots_described_page_by_page_equal_those_described_at_once(paged):
    svc, _ = paged
    q1 = parse_quarter("2026Q1", TZ)
    full = full_list(svc, q1)
    svc.memo.clear()  # nothing kept: the fourth hotspot alone is described first, then the rest as asked
    assert period_report(svc, q1, hotspots_limit=1, hotspots_offset=3)["hotspots"] == full[3:4]
    assert period_report(svc, q1, hotspots_limit=3, hotspots_offset=2)["hotspots"] == full[2:5]
    assert period_report(svc, q1)["hotspots"] == full


def test_hidden_categories_are_neither_listed_nor_counted(paged):
    svc, _ = paged
    q1 = parse_quarter("2026Q1", TZ)
    full = [h for h in full_list(svc, q1) if h["category"] not in PERSONAL_CATEGORIES]
    r = period_report(svc, q1, hotspots_limit=10, hotspots_offset=2, hidden_hotspots=PERSONAL_CATEGORIES)
    assert r["hotspots"] == full[2:] and r["hotspots_total"] == 5 and r["hotspots"][-1]["category"] == "parking"
    # who may not see every household gets no care incident in any figure, so no care hotspot either
    assert period_report(svc, q1, personal=False)["hotspots_total"] == 5


@pytest.mark.parametrize("limit, offset, parameter", [(-1, 0, "hotspots_limit"), (1, -1, "hotspots_offset")])
def test_a_negative_page_is_refused(paged, limit, offset, parameter):
    svc, _ = paged
    with pytest.raises(InvalidInput) as refused:
        period_report(svc, parse_quarter("2026Q1", TZ), hotspots_limit=limit, hotspots_offset=offset)
    assert refused.value.details["parameter"] == parameter


# --- CSV ----------------------------------------------------------------------------------------------------------
def test_report_as_one_tidy_table(filled):
    svc, _ = filled
    r = period_report(svc, week())
    t = report_rows(r, place_names(svc.twin), "zh")
    assert list(t.columns) == ["period", "dimension", "code", "name", "metric", "value"]
    assert (t["period"] == "2026-W10").all()

    def one(dim, code, metric):
        v = t[(t["dimension"] == dim) & (t["code"] == code) & (t["metric"] == metric)]
        assert len(v) == 1
        return v.iloc[0]

    assert one("all", "total", "total")["value"] == 9
    assert one("limit", "accept", "on_time_rate")["value"] == 0.4444
    assert one("category", "garbage", "count")["name"] == "垃圾杂物堆放"
    assert one("grid", GA2, "count")["name"] == "东风二网格" and one("grid", GA2, "count")["value"] == 4
    assert one("compound", "C1", "count")["value"] == 3
    assert one("hotspot", "garbage@B1", "count")["value"] == 3
    assert one("hotspot", "parking@114.883300,40.802800", "count")["value"] == 3
    en = report_rows(r, place_names(svc.twin), "en")
    assert en[en["code"] == "garbage"]["name"].iloc[0] == "Garbage and clutter"


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "Europe/Berlin", "America/St_Johns", "UTC"])
def test_isos_formats_many_times_as_iso_does_one(tz):
    # whole seconds, milliseconds, both sides of a daylight-saving change, a half-hour zone; and nanoseconds
    times = ["2026-03-29T00:59:59Z", "2026-03-29T01:00:00.250Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00.5Z"]
    ns = [pd.Timestamp(t).value for t in times]
    assert isos(ns, tz) == [iso(pd.Timestamp(v, tz="UTC"), tz) for v in ns]
    assert isos([*ns, ns[0] + 1], tz)[-1] == iso(pd.Timestamp(ns[0] + 1, tz="UTC"), tz)
    assert isos([], tz) == []
