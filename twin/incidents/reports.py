"""Incident figures: the summary every page shows, and weekly/monthly/quarterly reports with repeat hotspots."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.vocab import INCIDENT_CATEGORIES, INCIDENT_SOURCES, INCIDENT_STAGES, label

from .deadlines import LIMITS
from .figures import FigureIndex
from .hotspots import MIN_COUNT, PLACE_COLUMNS, RADIUS_M, check_params, hotspots
from .periods import Period

log = logging.getLogger(__name__)


def summarize(frame: pd.DataFrame, deadlines, now) -> dict:
    """Counts, on-time rates per limit, closure rate and mean rating of the incidents in `frame`.

    open = not yet resolved or closed; closure_rate = (resolved + closed) / total; on_time[limit] = share of
    decided incidents that met the limit (None when none is decided); mean_rating over rated incidents.
    """
    return FigureIndex(frame).summary(np.arange(len(frame)), deadlines, now)


HOTSPOT_COLUMNS = ("incident_id", "category", "reported_at", "lon", "lat", *PLACE_COLUMNS)

# --- period reports ----------------------------------------------------------------------------------------------
PLACES = (
    ("grid", "grids", "grid_code"),
    ("community", "communities", "community_id"),
    ("compound", "compounds", "compound_id"),
)


def period_report(service, period: Period, radius_m: float = RADIUS_M, min_count: int = MIN_COUNT) -> dict:
    """The report of the incidents reported in `period`: summarize() figures, counts per place, repeat hotspots.

    Time limits are judged at the service's clock (`as_of`), so an incident reported near the end of the period
    and handled in time just after it counts as on time. Every grid, community and compound of the twin is listed
    in by_grid/by_community/by_compound (zero included); incidents outside every compound are not in by_compound.
    """
    now = service.now()
    pos = service.positions(start=period.start_utc, end=period.end_utc)
    out = {"period": period.to_dict(), "as_of": iso(now, period.start.tz), "complete": bool(period.end_utc <= now)}
    out.update(service.summary(pos, now))
    twin = service.twin
    for dim, layer, column in PLACES:
        codes = twin.layer(layer).frame[column].tolist() if layer in twin.layers else None
        out[f"by_{dim}"] = service.figures.counts(pos, column, codes)
    out["hotspot_rule"] = {"radius_m": float(radius_m), "min_count": int(min_count)}
    out["hotspots"] = [
        {
            **h,
            "first_reported": iso(h["first_reported"], period.start.tz),
            "last_reported": iso(h["last_reported"], period.start.tz),
        }
        for h in period_hotspots(service, period, pos, radius_m, min_count)
    ]
    return out


def period_hotspots(service, period: Period, pos, radius_m: float, min_count: int) -> list[dict]:
    """hotspots() of the incidents at `pos` (those of `period`), kept per category across calls.

    Hotspots never join two categories, and a category's incidents in a period only grow (place, category and
    report time never change), so a category's hotspots are recomputed only when its count in the period changed.
    """
    radius_m, min_count = check_params(radius_m, min_count)
    cache = service.memo.setdefault("report_hotspots", {})
    key = (period.start_utc.value, period.end_utc.value, radius_m, min_count)
    kept = cache.setdefault(key, {})
    if len(cache) > 16:
        cache.pop(next(iter(cache)))
    fig = service.figures
    cats = fig.column("category", pos)
    codes, counts = np.unique(cats, return_counts=True)
    dirty = [int(c) for c, n in zip(codes, counts) if kept.get(int(c), (None,))[0] != n]
    if dirty:
        found: dict = {c: [] for c in dirty}
        book = fig.books["category"]
        for h in hotspots(
            service.rows(pos[np.isin(cats, dirty)], HOTSPOT_COLUMNS), service.twin.crs, radius_m, min_count
        ):
            found[book.code.get(h["category"], -1)].append(h)
        for c, n in zip(codes.tolist(), counts.tolist()):
            if c in found:
                kept[c] = (n, found[c])
    names = fig.books["category"].values
    order = sorted(codes.tolist(), key=lambda c: (c < 0, str(names[c]) if c >= 0 else ""))  # as sort_values
    merged = [h for c in order for h in kept[c][1]]
    return sorted(merged, key=lambda h: (-h["count"], h["category"], h["first_reported"]))  # stable, as hotspots()


def place_names(twin) -> dict:
    """dimension (grid, community, compound) → {code: name} from the twin's layers."""
    out = {}
    for dim, layer, column in PLACES:
        frame = twin.layers[layer].frame if layer in twin.layers else None
        out[dim] = dict(zip(frame[column], frame["name"])) if frame is not None and "name" in frame else {}
    return out


CSV_COLUMNS = ("period", "dimension", "code", "name", "metric", "value")
_VOCABS = {"stage": INCIDENT_STAGES, "category": INCIDENT_CATEGORIES, "source": INCIDENT_SOURCES}
_LIMIT_NAMES = {"accept": ("受理", "Accepted"), "on_site": ("到场", "On site"), "resolve": ("办结", "Resolved")}
_TOTALS = {
    "total": ("事件总数", "Incidents"),
    "open": ("未办结", "Open"),
    "overdue": ("超时", "Overdue"),
    "closure_rate": ("办结率", "Closure rate"),
    "mean_rating": ("平均满意度", "Mean rating"),
}


def report_rows(report: dict, names: dict | None = None, lang: str = "zh") -> pd.DataFrame:
    """The report as one tidy table: period, dimension, code, name, metric, value (one figure per row)."""
    names = names or {}
    tag = report["period"]["label"]
    rows = [(tag, "all", key, label(_TOTALS, key, lang), key, report[key]) for key in _TOTALS]
    rows += [
        (tag, "limit", lim, label(_LIMIT_NAMES, lim, lang), "on_time_rate", report["on_time"][lim]) for lim in LIMITS
    ]
    for dim, vocab in _VOCABS.items():
        rows += [(tag, dim, code, label(vocab, code, lang), "count", n) for code, n in report[f"by_{dim}"].items()]
    for dim, _, _ in PLACES:
        rows += [
            (tag, dim, code, names.get(dim, {}).get(code, code), "count", n) for code, n in report[f"by_{dim}"].items()
        ]
    for h in report["hotspots"]:
        place = h["building_id"] or f"{h['lon']:.6f},{h['lat']:.6f}"
        rows.append(
            (
                tag,
                "hotspot",
                f"{h['category']}@{place}",
                label(INCIDENT_CATEGORIES, h["category"], lang),
                "count",
                h["count"],
            )
        )
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


def iso(ts, tz, timespec: str = "auto") -> str | None:
    """ISO 8601 with the office's UTC offset (`timespec` as datetime.isoformat); None for a missing time."""
    if ts is None or pd.isna(ts):
        return None
    return pd.Timestamp(ts).tz_convert(tz).isoformat(timespec=timespec)
