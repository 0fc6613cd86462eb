"""Shared bench helpers: the district-sized twin, timing a callable, percentiles, and a plain-text table."""

from __future__ import annotations

import time
from typing import Callable, Iterable, Sequence

import numpy as np

STATIC = ("communities", "compounds", "buildings", "grids")


def district_frames(seed: int = 7, households: bool = False, incidents: int = 0) -> dict:
    """The demo generator's district preset (~51,000 buildings) as WGS84 frames; households only when asked, and
    `incidents` incidents (frame "incidents") when more than 0."""
    from ingest.demo import generate
    from layers import REGISTRY

    frames = generate(seed=seed, preset="district", incidents=max(incidents, 1000))
    keep = STATIC + (("households",) if households else ())
    out = {k: v for k, v in frames.items() if k in keep and not REGISTRY[k].live}
    if incidents:
        out["incidents"] = frames["incidents"]
    return out


def district_twin(seed: int = 7, households: bool = False, incidents: int = 0, state=None):
    """A Twin (static layers, indexed once as at load) of the district preset; households as the store reads them;
    with `incidents` > 0, that many incidents in a SQLite store in directory `state`, served by an IncidentService
    whose clock stands at the end of the demo year."""
    import geopandas as gpd

    from layers import REGISTRY
    from twin.core import Twin

    frames = district_frames(seed, households, incidents)
    inc = frames.pop("incidents", None)
    for name, f in frames.items():
        if not isinstance(f, gpd.GeoDataFrame):  # a layer without geometry (households)
            frames[name] = gpd.GeoDataFrame(f, geometry=gpd.GeoSeries([None] * len(f), index=f.index, crs="EPSG:4326"))
    twin = Twin.from_frames(frames, {k: REGISTRY[k] for k in frames})
    if inc is not None:
        attach_demo_incidents(twin, inc, state)
    return twin


def attach_demo_incidents(twin, frame, state) -> None:
    """Store the generated incidents `frame` in `state`/incidents.sqlite and attach their service to `twin`."""
    from pathlib import Path

    import pandas as pd

    from ingest.demo import END
    from twin.incidents.service import IncidentService
    from twin.incidents.store import COLUMNS, SqliteIncidentStore

    f = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    f["lon"], f["lat"] = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    db = SqliteIncidentStore(Path(state) / "incidents.sqlite", synchronous="OFF")
    rows = f[list(COLUMNS)].astype(object).where(f[list(COLUMNS)].notna(), None)
    db.insert_many((dict(zip(COLUMNS, r)) for r in rows.itertuples(index=False, name=None)), actor="bench")
    twin.incidents = IncidentService(twin, db, clock=lambda: END.tz_convert("UTC"))


def clock(fn: Callable, args: Iterable) -> tuple[np.ndarray, list]:
    """Call `fn(a)` for each `a`; return the seconds each call took and the results."""
    times, results = [], []
    for a in args:
        t = time.perf_counter()
        results.append(fn(a))
        times.append(time.perf_counter() - t)
    return np.array(times), results


def stats_ms(seconds: Sequence[float]) -> dict:
    """Median, p95 and mean of durations given in seconds, in milliseconds."""
    ms = np.asarray(seconds, dtype=float) * 1000
    return {"median": float(np.median(ms)), "p95": float(np.percentile(ms, 95)), "mean": float(ms.mean())}


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """Rows as an aligned plain-text table (numbers right-aligned, floats with two decimals)."""

    def cell(v):
        return f"{v:,.2f}" if isinstance(v, float) else (f"{v:,}" if isinstance(v, int) else str(v))

    body = [[cell(v) for v in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in body)) if body else len(str(h)) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) if i == 0 else str(h).rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    lines += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in body]
    return "\n".join(lines)
