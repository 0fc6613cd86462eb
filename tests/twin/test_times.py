"""The office's time (twin.times), on instants whose answers are worked out by hand (Shanghai is UTC+8, no DST)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.times import (
    day_start,
    iso,
    iso_column,
    iso_utc,
    local_midnight,
    month_start,
    office_day,
    period_of,
    to_utc,
    utc_series,
)

SH = "Asia/Shanghai"
NOW = pd.Timestamp("2026-03-01T17:30:00Z")  # 01:30 on 2 March in Shanghai: the office's day has turned


def test_the_office_day_turns_at_its_own_midnight():
    assert office_day(SH, NOW) == "2026-03-02"
    assert office_day("UTC", NOW) == "2026-03-01"
    assert day_start(NOW, SH) == pd.Timestamp("2026-03-01T16:00:00Z")  # 00:00 +08:00
    assert month_start(NOW, SH) == pd.Timestamp("2026-02-28T16:00:00Z")  # 1 March 00:00 +08:00


def test_naive_times_are_utc():
    assert to_utc(pd.Timestamp("2026-03-01 17:30")) == NOW
    assert to_utc("2026-03-02T01:30:00+08:00") == NOW


def test_text_with_the_office_offset_and_in_utc():
    assert iso(NOW, SH) == "2026-03-02T01:30:00+08:00"
    assert iso(None, SH) is None
    assert iso_column(pd.Series([NOW, pd.NaT]), SH) == ["2026-03-02T01:30:00+08:00", None]
    assert iso_utc(pd.Timestamp("2026-03-02T01:30:00+08:00")) == "2026-03-01T17:30:00Z"
    assert iso_utc(pd.NaT) is None


def test_nanoseconds_become_utc_times():
    ns = np.array([NOW.value, pd.NaT.value], dtype=np.int64)
    s = utc_series(ns)
    assert s.iloc[0] == NOW and pd.isna(s.iloc[1]) and str(s.dt.tz) == "UTC"


def test_periods_and_the_one_before():
    week = period_of("weekly", pd.Timestamp("2026-03-04"), SH)  # a Wednesday: the week of Monday 2 March
    assert (week.label, week.start_utc) == ("2026-W10", pd.Timestamp("2026-03-01T16:00:00Z"))
    assert week.before().label == "2026-W09"
    quarter = period_of("quarterly", pd.Timestamp("2026-01-10"), SH)
    assert (quarter.label, quarter.before().label) == ("2026Q1", "2025Q4")


def test_a_midnight_skipped_by_daylight_saving_starts_the_day_at_the_first_instant_that_exists():
    # Brazil moved its clocks from 00:00 to 01:00 on 4 November 2018: that day began at 01:00 -02:00
    assert local_midnight("2018-11-04", "America/Sao_Paulo").isoformat() == "2018-11-04T01:00:00-02:00"
