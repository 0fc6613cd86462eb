"""Due times, overdue state and met flags worked out by hand for a few incidents at a fixed clock."""

import pandas as pd
import pytest

from twin.errors import InvalidInput
from twin.incidents.deadlines import Deadlines
from twin.incidents.timeliness import timeliness

T0 = pd.Timestamp("2026-03-02 08:00", tz="UTC")


def ts(minutes):
    return None if minutes is None else T0 + pd.Timedelta(minutes=minutes)


def frame(rows):
    """rows: (category, stage, accepted_min, on_site_min, resolved_min) after a report at T0."""
    df = pd.DataFrame(
        [
            {
                "category": c,
                "stage": s,
                "reported_at": T0,
                "accepted_at": ts(a),
                "on_site_at": ts(o),
                "resolved_at": ts(r),
            }
            for c, s, a, o, r in rows
        ]
    )
    for col in ("reported_at", "accepted_at", "on_site_at", "resolved_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def test_default_limits_and_sos():
    t = timeliness(frame([("garbage", "reported", None, None, None), ("sos", "reported", None, None, None)]), None, T0)
    assert t.loc[0, "accept_due"] == ts(1) and t.loc[0, "on_site_due"] == ts(60) and t.loc[0, "resolve_due"] == ts(1440)
    assert t.loc[1, "on_site_due"] == ts(2)
    assert not t["overdue"].any()
    assert t.loc[0, "next_due"] == ts(1)
    assert t["met_accept"].isna().all()


def test_overdue_is_from_the_clock_and_names_first_missed_limit():
    f = frame(
        [
            ("garbage", "reported", None, None, None),  # accept missed at +5 min
            ("garbage", "accepted", 0.5, None, None),  # accepted in time, on site due at +60
            ("sos", "accepted", 0.5, None, None),  # SOS on site missed at +5 min
            ("garbage", "resolved", 0.5, 30, 100),  # done: never overdue
            ("garbage", "closed", None, None, None),
        ]
    )  # closed without times: nothing decided
    t = timeliness(f, None, ts(5))
    assert t["overdue"].tolist() == [True, False, True, False, False]
    assert t["overdue_limit"].tolist() == ["accept", None, "on_site", None, None]
    assert t["met_accept"].tolist() == [False, True, True, True, pd.NA]
    assert t["met_on_site"].tolist() == [pd.NA, pd.NA, False, True, pd.NA]
    assert t["met_resolve"].tolist() == [pd.NA, pd.NA, pd.NA, True, pd.NA]
    assert t.loc[1, "next_due"] == ts(60) and t.loc[2, "next_due"] == ts(2)
    assert pd.isna(t.loc[3, "next_due"])
    # an hour later the accepted garbage incident is overdue for on-site
    later = timeliness(f, None, ts(61))
    assert later.loc[1, "overdue_limit"] == "on_site"


def test_late_but_reached_is_not_met_and_not_overdue():
    t = timeliness(frame([("garbage", "on_site", 3, 90, None)]), None, ts(120))
    assert t.loc[0, "met_accept"] is False or t.loc[0, "met_accept"] == False  # noqa: E712
    assert t.loc[0, "met_on_site"] == False  # noqa: E712
    assert not t.loc[0, "overdue"] and t.loc[0, "next_due"] == ts(1440)


def test_configured_deadlines():
    d = Deadlines.parse('{"*": {"accept": 120}, "fire_hazard": {"resolve": 3600}}')
    assert d.seconds("garbage", "accept") == 120 and d.seconds("sos", "on_site") == 120
    assert d.seconds("fire_hazard", "resolve") == 3600 and d.seconds("garbage", "resolve") == 86400
    t = timeliness(frame([("fire_hazard", "reported", None, None, None)]), d, ts(1.5))
    assert not t.loc[0, "overdue"] and t.loc[0, "resolve_due"] == ts(60)


@pytest.mark.parametrize("raw", ['{"nope": {"accept": 1}}', '{"*": {"soon": 1}}', '{"*": {"accept": -1}}', "[1"])
def test_bad_deadlines_setting(raw):
    with pytest.raises(InvalidInput):
        Deadlines.parse(raw)


def test_empty_frame():
    empty = pd.DataFrame(columns=["category", "stage", "reported_at", "accepted_at", "on_site_at", "resolved_at"])
    t = timeliness(empty, None, T0)
    assert len(t) == 0 and "overdue" in t.columns
