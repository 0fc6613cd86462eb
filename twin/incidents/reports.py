"""Incident figures: the summary every page shows, and weekly/monthly/quarterly reports with repeat hotspots."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.vocab import INCIDENT_CATEGORIES, INCIDENT_SOURCES, INCIDENT_STAGES

from .deadlines import LIMITS
from .timeliness import DONE_STAGES, timeliness

log = logging.getLogger(__name__)


def summarize(frame: pd.DataFrame, deadlines, now) -> dict:
    """Counts, on-time rates per limit, closure rate and mean rating of the incidents in `frame`.

    open = not yet resolved or closed; closure_rate = (resolved + closed) / total; on_time[limit] = share of
    decided incidents that met the limit (None when none is decided); mean_rating over rated incidents.
    """
    total = int(len(frame))
    t = timeliness(frame, deadlines, now)
    done = frame["stage"].isin(DONE_STAGES) if total else pd.Series([], dtype=bool)
    ratings = pd.to_numeric(frame["rating"], errors="coerce").dropna() if total else pd.Series([], dtype=float)
    return {
        "total": total,
        "open": int((~done).sum()),
        "overdue": int(t["overdue"].sum()),
        "by_stage": counts(frame, "stage", INCIDENT_STAGES),
        "by_category": counts(frame, "category", INCIDENT_CATEGORIES),
        "by_source": counts(frame, "source", INCIDENT_SOURCES),
        "on_time": {lim: rate(t[f"met_{lim}"]) for lim in LIMITS},
        "closure_rate": round(float(done.sum()) / total, 4) if total else None,
        "mean_rating": round(float(ratings.mean()), 3) if len(ratings) else None,
    }


def counts(frame: pd.DataFrame, column: str, vocab: dict | None = None) -> dict:
    """code → count of `column` (every vocabulary code present, zero included; unknown codes appended)."""
    vc = frame[column].value_counts(dropna=True) if len(frame) else pd.Series([], dtype="int64")
    out = {code: int(vc.get(code, 0)) for code in vocab} if vocab is not None else {}
    for code, n in vc.items():
        if code not in out:
            out[str(code)] = int(n)
    return out


def rate(met: pd.Series):
    """Share of True among decided (non-NA) values, rounded to 4 places; None when nothing is decided."""
    decided = met.dropna()
    if not len(decided):
        return None
    return round(float(decided.astype(bool).sum()) / len(decided), 4)
