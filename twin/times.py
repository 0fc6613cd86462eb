"""Time helpers shared by the core: every instant is compared in UTC."""

from __future__ import annotations

import pandas as pd


def to_utc(ts) -> pd.Timestamp:
    """`ts` as a UTC timestamp; a naive one is taken to be UTC already."""
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
