"""Time helpers shared by the core: every instant is compared in UTC."""

from __future__ import annotations

import pandas as pd


def to_utc(ts) -> pd.Timestamp:
    """`ts` as a UTC timestamp; a naive one is taken to be UTC already."""
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def iso(ts, tz, timespec: str = "auto") -> str | None:
    """ISO 8601 with the office's UTC offset (`timespec` as datetime.isoformat); None for a missing time."""
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert(tz).isoformat(timespec=timespec)


def iso_column(values: pd.Series, tz: str) -> list:
    """`iso` of every value of a datetime column at once (None where missing)."""
    text = pd.to_datetime(values, utc=True).dt.tz_convert(tz).dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = text.str[:-2] + ":" + text.str[-2:]  # +0800 -> +08:00, as isoformat() writes it
    return [v if isinstance(v, str) else None for v in text.tolist()]
