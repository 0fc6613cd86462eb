"""Report periods in the street office's time zone: ISO weeks, calendar months and quarters, as UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from twin.errors import InvalidInput

PERIODS = {
    "weekly": ("周报", "Weekly"),
    "monthly": ("月报", "Monthly"),
    "quarterly": ("季报", "Quarterly"),
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
YEARS = (1900, 2200)  # well inside what pandas timestamps can hold, with room for a period's end


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
        now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
        return pd.Timestamp(now.tz_convert(tz).date())
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
    return Period(kind, label, _local(start, tz), _local(pd.Timestamp(end), tz))


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


def _local(ts: pd.Timestamp, tz: str) -> pd.Timestamp:
    # A midnight skipped by a daylight-saving change starts the day at the first instant that exists.
    return ts.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
