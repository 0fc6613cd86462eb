"""Time in one place: instants are compared in UTC; days, ISO weeks, months and quarters are the street office's
(its TIMEZONE setting); output is ISO 8601 text. Every module converting a time or finding a boundary uses these.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InvalidInput
from .settings import defaults

DEFAULT_TIMEZONE = defaults()["TIMEZONE"]  # the office's zone when no incident service says otherwise
PERIODS = {
    "weekly": ("周报", "Weekly"),
    "monthly": ("月报", "Monthly"),
    "quarterly": ("季报", "Quarterly"),
}
YEARS = (1900, 2200)  # well inside what pandas timestamps can hold, with room for a period's end
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")


# --- instants ------------------------------------------------------------------------------------------------
def utc_now() -> pd.Timestamp:
    """The current time, tz-aware UTC."""
    return pd.Timestamp.now(tz="UTC")


def now_ms() -> pd.Timestamp:
    """The current time to the millisecond (what the stores keep), tz-aware UTC."""
    return pd.Timestamp(time.time_ns() // 1_000_000, unit="ms", tz="UTC")


def to_utc(ts) -> pd.Timestamp:
    """`ts` as a UTC timestamp; a naive one is taken to be UTC already."""
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def utc_series(ns: np.ndarray, index=None) -> pd.Series:
    """int64 nanoseconds since the epoch (NaT's value for missing) as a tz-aware UTC Series."""
    return pd.Series(np.asarray(ns).view("M8[ns]"), index=index).dt.tz_localize("UTC")


def now_of(service) -> pd.Timestamp:
    """The incident service's clock (tests set it), else the wall clock; tz-aware UTC."""
    return to_utc(service.now()) if callable(getattr(service, "now", None)) else utc_now()


def zone_of(service, fallback: str | None = None) -> str:
    """The office's time zone: the incident service's, else `fallback`, else TIMEZONE's default."""
    return getattr(service, "timezone", None) or fallback or DEFAULT_TIMEZONE


# --- the office's days -------------------------------------------------------------------------------------------
def office_today(tz: str, now=None) -> dt.date:
    """The office's calendar date at `now` (the wall clock when None)."""
    return to_utc(utc_now() if now is None else now).tz_convert(tz).date()


def office_day(tz: str, now=None) -> str:
    """`office_today` as YYYY-MM-DD (the key of a day's care checks)."""
    return office_today(tz, now).isoformat()


def day_start(now, tz: str) -> pd.Timestamp:
    """The office's midnight that began `now`'s day, in UTC."""
    return to_utc(now).tz_convert(tz).normalize().tz_convert("UTC")


def month_start(now, tz: str) -> pd.Timestamp:
    """The office's midnight that began `now`'s month, in UTC."""
    return to_utc(now).tz_convert(tz).replace(day=1).normalize().tz_convert("UTC")


def local_midnight(day, tz: str) -> pd.Timestamp:
    """The calendar day `day` (naive) as the first instant of that day in `tz`."""
    # A midnight skipped by a daylight-saving change starts the day at the first instant that exists.
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=False)


# --- report periods: ISO weeks, calendar months and quarters, as UTC bounds ---------------------------------------
@dataclass(frozen=True)
class Period:
    """One report period: kind, label (2026-W10, 2026-03, 2026Q1) and [start, end) in UTC and the office's zone."""

    kind: str
    label: str
    start: pd.Timestamp  # tz-aware, the office's zone
    end: pd.Timestamp  # exclusive

    @property
    def start_utc(self) -> pd.Timestamp:
        return self.start.tz_convert("UTC")

    @property
    def end_utc(self) -> pd.Timestamp:
        return self.end.tz_convert("UTC")

    def before(self) -> Period:
        """The period of the same kind just before this one."""
        return period_of(self.kind, self.start.tz_localize(None) - pd.Timedelta(days=1), self.start.tz)

    def to_dict(self) -> dict:
        """kind, label, start and end (exclusive) as ISO 8601 with the office's UTC offset."""
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": str(self.start.tz),
        }


def parse_date(raw: str | None, tz: str, now=None) -> pd.Timestamp:
    """A calendar day `YYYY-MM-DD` (today in `tz` when None) as a naive midnight Timestamp; InvalidInput if bad."""
    if raw is None or raw == "":
        return pd.Timestamp(office_today(tz, now))
    if not _DATE.fullmatch(raw):
        raise InvalidInput(f"date must be a day YYYY-MM-DD such as 2026-03-02, not {raw[:40]!r}", parameter="date")
    try:
        day = pd.Timestamp(raw)
    except ValueError:
        raise InvalidInput(f"date {raw!r} is not a day of the calendar", parameter="date") from None
    _check_year(day.year, "date")
    return day


def period_of(kind: str, day: pd.Timestamp, tz: str) -> Period:
    """The weekly (ISO week, Monday first), monthly or quarterly period containing calendar day `day`."""
    day = pd.Timestamp(day).normalize()
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    if kind == "weekly":
        start = day - pd.Timedelta(days=day.weekday())
        end = start + pd.Timedelta(days=7)
        year, week, _ = start.isocalendar()
        label = f"{year}-W{week:02d}"
    elif kind == "monthly":
        start = day.replace(day=1)
        end = start + pd.offsets.MonthBegin(1)
        label = f"{start:%Y-%m}"
    elif kind == "quarterly":
        q = (day.month - 1) // 3
        start = pd.Timestamp(year=day.year, month=3 * q + 1, day=1)
        end = start + pd.offsets.MonthBegin(3)
        label = f"{day.year}Q{q + 1}"
    else:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}, not {str(kind)[:40]!r}", parameter="period")
    return Period(kind, label, local_midnight(start, tz), local_midnight(end, tz))


def parse_quarter(raw: str | None, tz: str, now=None) -> Period:
    """`2026Q3` (or 2026-Q3) as a quarterly Period; the current quarter in `tz` when None."""
    if raw is None or raw == "":
        return period_of("quarterly", parse_date(None, tz, now), tz)
    m = _QUARTER.fullmatch(raw.strip())
    if not m:
        raise InvalidInput(f"quarter must look like 2026Q3 (year, Q, 1-4), not {raw[:40]!r}", parameter="quarter")
    year, q = int(m.group(1)), int(m.group(2))
    _check_year(year, "quarter")
    return period_of("quarterly", pd.Timestamp(year=year, month=3 * q - 2, day=1), tz)


def _check_year(year: int, parameter: str) -> None:
    if not YEARS[0] <= year <= YEARS[1]:
        raise InvalidInput(f"{parameter} must fall in the years {YEARS[0]}-{YEARS[1]}", parameter=parameter)


# --- text ------------------------------------------------------------------------------------------------------
def iso(ts, tz, timespec: str = "auto") -> str | None:
    """ISO 8601 with the office's UTC offset (`timespec` as datetime.isoformat); None for a missing time."""
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert(tz).isoformat(timespec=timespec)


def isos(ns, tz) -> list[str]:
    """iso() of many times at once (int64 nanoseconds since the epoch, UTC), as iso(pd.Timestamp(v, tz=UTC), tz)."""
    ns = np.asarray(ns, dtype=np.int64)
    local = pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(tz).tz_localize(None).to_numpy()
    offset = (local.view("int64") - ns) // 1_000_000_000
    if not len(ns) or (ns % 1000).any() or (offset % 60).any():  # nanoseconds or odd offsets: one by one
        return [iso(pd.Timestamp(v, tz="UTC"), tz) for v in ns.tolist()]
    sign = np.where(offset < 0, "-", "+")
    minutes = np.abs(offset) // 60
    zone = np.char.add(sign, np.char.add(np.char.zfill((minutes // 60).astype(str), 2), ":"))
    zone = np.char.add(zone, np.char.zfill((minutes % 60).astype(str), 2))
    text = np.where(
        ns % 1_000_000_000 == 0, np.datetime_as_string(local, unit="s"), np.datetime_as_string(local, unit="us")
    )
    return np.char.add(text.astype(str), zone).tolist()


def iso_column(values: pd.Series, tz: str) -> list:
    """`iso` of every value of a datetime column at once (None where missing)."""
    text = pd.to_datetime(values, utc=True).dt.tz_convert(tz).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = text.str[:-2] + ":" + text.str[-2:]  # +0800 -> +08:00, as isoformat() writes it
    return [v if isinstance(v, str) else None for v in text.tolist()]


def iso_utc(ts) -> str | None:
    """RFC 3339 in UTC to the second with a 'Z' suffix (a naive time is UTC already); None for a missing time."""
    if ts is None or pd.isna(ts):
        return None
    return to_utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc_column(values: pd.Series) -> pd.Series:
    """`iso_utc` of every value of a tz-aware datetime column at once (NaN where missing)."""
    return values.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
