"""Incident figures: the summary every page shows, and weekly/monthly/quarterly reports with repeat hotspots."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.access import PERSONAL_CATEGORIES, protect
from twin.analytics import analytics, ordered_counts, report_summary
from twin.errors import InvalidInput
from twin.heap import collection_paused
from twin.placement import grid_at
from twin.times import Period, iso, isos
from twin.vocab import INCIDENT_CATEGORIES, INCIDENT_SOURCES, INCIDENT_STAGES, label

from .deadlines import LIMITS
from .figures import FigureIndex
from .hotspots import MIN_COUNT, NONE_FOUND, PLACE_COLUMNS, RADIUS_M, check_params, describe, find_hotspots

log = logging.getLogger(__name__)


def summarize(frame: pd.DataFrame, deadlines, now) -> dict:
    """Counts, on-time rates per limit, closure rate and mean rating of the incidents in `frame`.

    open = not yet resolved or closed; closure_rate = (resolved + closed) / total; on_time[limit] = share of
    decided incidents that met the limit (None when none is decided); mean_rating over rated incidents.
    """
    return FigureIndex(frame).summary(np.arange(len(frame)), deadlines, now)


def summarize_for(frame: pd.DataFrame, deadlines, now, personal: bool = True) -> dict:
    """summarize() as a caller sees it: with `personal=False` (who may not see every household) over the incidents
    shown as records, the care categories (SOS, care visits) only as counts under twin.access.protect."""
    if personal or not len(frame):
        return summarize(frame, deadlines, now)
    care = frame["category"].isin(PERSONAL_CATEGORIES).to_numpy()
    out = summarize(frame[~care], deadlines, now)
    for code in sorted(PERSONAL_CATEGORIES):
        ids = sorted(frame.loc[(frame["category"] == code).to_numpy(), "incident_id"].astype(str))
        out["by_category"][code] = protect(len(ids), code, tuple(ids))
    return out


def drop_care(service, pos) -> tuple[np.ndarray, pd.DataFrame]:
    """The positions of `pos` that are not care incidents, and the care incidents' rows (category, incident_id)."""
    pos = np.asarray(pos, dtype=np.int64)
    rows = service.rows(pos, ["category", "incident_id"])
    care = rows["category"].isin(PERSONAL_CATEGORIES).to_numpy()
    return pos[~care], rows[care]


def summary_for(service, pos, now, personal: bool = True) -> dict:
    """service.summary() of the incidents at `pos` as a caller sees it (summarize_for on positions): with
    `personal=False` the care categories are left out of every figure and shown only as protected counts."""
    if personal or not len(pos):
        return service.summary(np.asarray(pos, dtype=np.int64), now)
    kept, care = drop_care(service, pos)
    out = service.summary(kept, now)
    for code in sorted(PERSONAL_CATEGORIES):
        ids = sorted(care.loc[(care["category"] == code).to_numpy(), "incident_id"].astype(str))
        out["by_category"][code] = protect(len(ids), code, tuple(ids))
    return out


# --- period reports ----------------------------------------------------------------------------------------------
REPORT_HOTSPOTS, REPORT_HOTSPOTS_MAX = 100, 5000  # hotspots a report lists when not told, and at most (the API's)
PLACES = (
    ("grid", "grids", "grid_code"),
    ("community", "communities", "community_id"),
    ("compound", "compounds", "compound_id"),
)


def period_report(
    service,
    period: Period,
    radius_m: float = RADIUS_M,
    min_count: int = MIN_COUNT,
    personal: bool = True,
    grids=None,
    hotspots_limit: int | None = None,
    hotspots_offset: int = 0,
    hidden_hotspots=(),
) -> dict:
    """The report of the incidents reported in `period`: summarize() figures, counts per place, repeat hotspots.

    Time limits are judged at the service's clock (`as_of`), so an incident reported near the end of the period
    and handled in time just after it counts as on time. Every grid, community and compound of the twin is listed
    in by_grid/by_community/by_compound (zero included); incidents outside every compound are not in by_compound.
    With `personal=False` care incidents are left out of every figure but their protected counts (summarize_for).
    Incidents count in the grid they were reported in; with `grids` (another grid plan's polygons) by_grid reads
    them by that plan instead, each placed by its location.

    `hotspots` lists `hotspots_limit` hotspots (all when None) from `hotspots_offset` on, `hotspots_total` counts
    them all; hotspots of the categories in `hidden_hotspots` are neither listed nor counted.
    """
    now = service.now()
    pos = service.positions(start=period.start_utc, end=period.end_utc)
    out = {"period": period.to_dict(), "as_of": iso(now, period.start.tz), "complete": bool(period.end_utc <= now)}
    twin = service.twin
    sql = analytics(twin, incidents=True)  # PostgreSQL counts in the database; the embedded default here
    if sql is not None:
        summary, by = report_summary(service, sql, pos, period.start_utc, period.end_utc, now, personal)
        out.update(summary)
    else:
        out.update(summary_for(service, pos, now, personal))
    if not personal:
        pos, _ = drop_care(service, pos)
    for dim, layer, column in PLACES:
        codes = twin.layer(layer).frame[column].tolist() if layer in twin.layers else None
        if dim == "grid" and grids is not None:
            where = service.rows(pos, ["lon", "lat"])
            placed = pd.Series(grid_at(grids, where["lon"], where["lat"]), dtype=object)
            out[f"by_{dim}"] = counts(placed, grids["grid_code"].tolist())
        elif sql is not None:
            out[f"by_{dim}"] = ordered_counts(by[column], codes)
        else:
            out[f"by_{dim}"] = service.figures.counts(pos, column, codes)
    out["hotspot_rule"] = {"radius_m": float(radius_m), "min_count": int(min_count)}
    found, out["hotspots_total"] = period_hotspots(
        service, period, pos, radius_m, min_count, hotspots_limit, hotspots_offset, hidden_hotspots
    )
    out["hotspots"] = regrid_hotspots(service, found, grids)
    return out


def regrid_hotspots(service, found: list[dict], grids) -> list[dict]:
    """`found` with each hotspot's grid_code read by `grids` (another plan) when given: the most frequent plan grid
    of its incidents (ties: the smallest), as hotspots() picks places. Returns new dicts (the found ones are kept)."""
    if grids is None or not found:
        return found
    ids = sorted({i for h in found for i in h["incident_ids"]})
    rows = service.rows(service.positions_of(ids), ["incident_id", "lon", "lat"])
    plan = dict(zip(rows["incident_id"].astype(str), grid_at(grids, rows["lon"], rows["lat"])))
    out = []
    for h in found:
        codes = [str(plan[i]) for i in h["incident_ids"] if plan.get(i) is not None]
        if codes:
            vc = pd.Series(codes).value_counts()
            code = min(vc.index[vc == vc.max()])
        else:
            code = None
        out.append({**h, "grid_code": code})
    return out


def counts(values: pd.Series, vocab: list | None = None) -> dict:
    """code → count of `values` (every vocabulary code present, zero included; unknown codes appended)."""
    vc = values.value_counts(dropna=True) if len(values) else pd.Series([], dtype="int64")
    out = {code: int(vc.get(code, 0)) for code in vocab} if vocab is not None else {}
    for code, n in vc.items():
        if code not in out:
            out[str(code)] = int(n)
    return out


def period_hotspots(
    service,
    period: Period,
    pos,
    radius_m: float,
    min_count: int,
    limit: int | None = None,
    offset: int = 0,
    hidden=(),
) -> tuple[list[dict], int]:
    """(`limit` hotspots (all when None) from `offset` on of hotspots() of the incidents at `pos` (those of
    `period`), times as ISO text in the period's zone; how many there are), leaving out the categories in `hidden`.

    Hotspots never join two categories, and a category's incidents in a period only grow (place, category and
    report time never change), so a category's hotspots are found again only when its count in the period changed;
    the others are served as kept. They are kept as arrays (find_hotspots, members as table positions, which never
    change) and a hotspot is described (modes, means, ids, times) only once it is asked for, then kept so too: a
    report page costs its page, not the tens of thousands of hotspots of a district's quarter.
    """
    radius_m, min_count = check_params(radius_m, min_count)
    for name, value in (("hotspots_limit", limit), ("hotspots_offset", offset)):
        if value is not None and value < 0:
            raise InvalidInput(f"{name} must be at least 0, not {value}", parameter=name)
    cache = service.memo.setdefault("report_hotspots", {})
    tz = period.start.tz
    key = (period.start_utc.value, period.end_utc.value, str(tz), radius_m, min_count)
    kept = cache.setdefault(key, {})
    if len(cache) > 16:
        cache.pop(next(iter(cache)))
    fig = service.figures
    cats = fig.column("category", pos)
    codes, counts = np.unique(cats, return_counts=True)
    dirty = [int(c) for c, n in zip(codes, counts) if kept.get(int(c), (None,))[0] != n]
    if dirty:
        p = pos[np.isin(cats, dirty)]
        columns = ("category", *PLACE_COLUMNS)
        cols = service.table.cols
        found = find_hotspots(
            {c: fig.column(c, p) for c in columns},
            {c: fig.books[c].values for c in columns},
            fig.column("reported_at", p),
            cols["incident_id"][p],
            service.xy(p),  # projected once, at intake
            radius_m,
            min_count,
            ordered=False,  # category by category: the page below orders them
        ).moved(p)
        per_category = found.by_category()
        for c, n in zip(codes.tolist(), counts.tolist()):
            if c in dirty:
                kept[c] = (n, per_category.get(c, NONE_FOUND), {})
    names = fig.books["category"].values
    shown = [c for c in codes.tolist() if c < 0 or names[c] not in hidden]
    order = sorted(shown, key=lambda c: (c < 0, str(names[c]) if c >= 0 else ""))  # as sort_values
    parts = [kept[c][1:] for c in order]
    sizes = [len(found) for found, _ in parts]
    part = np.repeat(np.arange(len(parts)), sizes)
    local = np.concatenate([np.zeros(0, dtype=np.int64), *(np.arange(n) for n in sizes)])
    count = np.concatenate([np.zeros(0, dtype=np.int64), *(found.count for found, _ in parts)])
    first = np.concatenate([np.zeros(0, dtype=np.int64), *(found.first for found, _ in parts)])
    ranked = np.lexsort((first, part, -count))  # as hotspots() sorts
    page = ranked[offset:] if limit is None else ranked[offset : offset + limit]
    for j in np.unique(part[page]).tolist():
        found, described = parts[j]
        wanted = local[page][part[page] == j].tolist()
        new = [k for k in wanted if k not in described]
        if new:
            with collection_paused():  # many small dicts and lists at once: no full collections walking the heap
                described.update(zip(new, describe_at(service, found.take(new), tz)))
    return [parts[j][1][k] for j, k in zip(part[page].tolist(), local[page].tolist())], len(ranked)


def describe_at(service, found, tz) -> list[dict]:
    """describe() the hotspots `found` (members as table positions), report times as ISO text in zone `tz`."""
    fig, cols, rows = service.figures, service.table.cols, found.rows
    out = describe(
        found,
        {c: fig.column(c, rows) for c in PLACE_COLUMNS},
        {c: fig.books[c].values for c in ("category", *PLACE_COLUMNS)},
        cols["incident_id"][rows],
        cols["lon"][rows],
        cols["lat"][rows],
    )
    for h, a, b in zip(out, isos(found.first, tz), isos(found.last, tz)):
        h["first_reported"], h["last_reported"] = a, b
    return out


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
