"""Which figures the storage computes itself: with PostgreSQL, area answers (the buildings, households and people of
the centroid rule; the incident counts) and period reports (counts, closure rate, ratings) are SQL over the stored
rows, only the time limits are judged in Python; with the embedded default all is computed in Python in memory.
Callers (twin.area, twin.incidents.reports) ask here, so the web layer never knows which backend answers, and the
answers are the same (privacy rules applied afterwards alike)."""

from __future__ import annotations

import numpy as np

from .store import Analytics


def analytics(twin, layers=(), incidents: bool = False) -> Analytics | None:
    """The storage's Analytics when the twin serves exactly its stored rows of `layers` (and, with `incidents`, its
    incidents come from the same storage), else None: answer in Python."""
    store = getattr(twin, "store", None)
    make = getattr(store, "analytics", None)
    if make is None:
        return None
    for name in layers:
        layer = twin.layers.get(name)
        if layer is None or str(layer.version).split("+")[0] != store.layer_version(layer.kind):
            return None  # built in memory, or changed since it was read (a grid plan keeps the stored rows)
    if incidents:
        service = getattr(twin, "incidents", None)
        if service is None or getattr(service.store, "pool", None) is not getattr(store, "pool", False):
            return None
    return make()


def ordered_counts(counts: dict, vocab=None) -> dict:
    """code → count in the order of FigureIndex.counts: every vocabulary code (zero included), then the others by
    count (highest first) and code."""
    out = {code: int(counts.get(code, 0)) for code in vocab} if vocab is not None else {}
    for n, code in sorted((-n, code) for code, n in counts.items() if n and code not in out):
        out[code] = -n
    return out


def report_summary(
    service, sql: Analytics, pos, start, end, now, personal: bool = True, wkt: str | None = None
) -> tuple[dict, dict]:
    """twin.incidents.reports.summary_for of the incidents reported in [start, end) (inside `wkt` when given) with
    its counts from SQL (only the time limits, on_time and overdue, are judged in Python over `pos`, the same
    incidents' positions), care categories shown as protected counts alike; and the counts per value of each place
    column (SQL's `by`)."""
    from .access import PERSONAL_CATEGORIES, protect
    from .incidents.deadlines import LIMITS
    from .incidents.figures import VOCABS, rate
    from .incidents.reports import drop_care
    from .incidents.timeliness import DONE_STAGES

    apart = sorted(PERSONAL_CATEGORIES) if not personal and len(pos) else []
    f = period_figures(sql, start, end, apart, VOCABS, DONE_STAGES, wkt)
    kept = drop_care(service, pos)[0] if apart else np.asarray(pos, dtype=np.int64)
    t = service.figures.judge(kept, service.deadlines, now)
    out = {
        "total": f["total"],
        "open": f["open"],
        "overdue": int(t["overdue"].sum()),
        **{f"by_{c}": f[f"by_{c}"] for c in VOCABS},
        "on_time": {lim: rate(t[f"met_{lim}"]) for lim in LIMITS},
        "closure_rate": f["closure_rate"],
        "mean_rating": f["mean_rating"],
    }
    for code in apart:
        ids = f["apart"].get(code, [])
        out["by_category"][code] = protect(len(ids), code, tuple(ids))
    return out, f["by"]


def period_figures(sql: Analytics, start, end, apart, vocabs: dict, done_stages, wkt: str | None = None) -> dict:
    """The counting part of a period summary from SQL: total, open, closure_rate, mean_rating and by_<column> for
    each column of `vocabs` (column → vocabulary or None); `apart` categories counted only in `apart`."""
    c = sql.period_counts(start, end, tuple(apart), wkt)
    total = c["total"]
    done = sum(n for stage, n in c["by"]["stage"].items() if stage in done_stages)
    out = {
        "total": total,
        "open": total - done,
        "closure_rate": round(done / total, 4) if total else None,
        "mean_rating": round(float(np.float64(c["rating_sum"]) / c["rated"]), 3) if c["rated"] else None,
        "apart": {cat: sorted(str(i) for i in ids) for cat, ids in c["apart"].items()},
        "by": c["by"],
    }
    for column, vocab in vocabs.items():
        out[f"by_{column}"] = ordered_counts(c["by"][column], vocab)
    return out
