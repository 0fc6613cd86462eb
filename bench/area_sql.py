"""Bench: area answers and weekly reports on PostgreSQL with their figures by SQL (twin.analytics) against the same
twin answering in Python (its in-memory indexes), on one data directory loaded into a throw-away cluster.

    nice -n 10 python -m bench.area_sql --data /tmp/district --queries 200 --weeks 12

Loads DIR with `twin db load` (COPY; minutes for the district), opens the twin from the database (static layers
only), answers the same seeded areas (bench.query.polygons, 100-800 m across, plus every grid) with the centroid
rule both ways; then attaches the incidents and makes `--weeks` weekly reports both ways (each warmed once, so the
hotspots, the same Python on both, are kept). Checks that the answers are equal; prints median / p95 and ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import clock, stats_ms, table
from bench.postgis import PORT, postgis_cluster
from bench.query import polygons


def main(argv=None) -> dict:
    """Run the bench; the figures as a dict."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/tmp/district", help="data directory to load")
    p.add_argument("--queries", type=int, default=200, help="random polygons (every grid is asked too)")
    p.add_argument("--weeks", type=int, default=12, help="weekly reports, spread over the incidents' time span")
    args = p.parse_args(argv)

    from cli import main as twin_main
    from layers import REGISTRY
    from twin import area as twin_area
    from twin.area_input import make_area
    from twin.core import Twin

    with tempfile.TemporaryDirectory() as tmp, postgis_cluster(Path(tmp)) as conn:
        if conn is None:
            raise SystemExit("PostgreSQL + PostGIS are not installed")
        url = f"postgresql://postgres@/postgres?host={conn.info.host}&port={PORT}"
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert twin_main(["db", "--url", url, "load", args.data]) == 0
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        twin = Twin.open(kinds={k: v for k, v in REGISTRY.items() if not v.live}, live=False, database_url=url)
        open_s = time.perf_counter() - t0
        geoms = polygons(twin.layer("buildings").frame.total_bounds, args.queries, (100, 800), seed=3)
        geoms += list(twin.frame("grids").geometry)
        areas = [make_area(twin, "polygon", g, {}) for g in geoms]
        twin_area.query(twin, areas[0])  # the area index, built once for both
        sql_s, sql_answers = clock(lambda a: twin_area.query(twin, a), areas)
        store, twin.store = twin.store, None  # no storage: the same twin answers from its own indexes
        py_s, py_answers = clock(lambda a: twin_area.query(twin, a), areas)
        twin.store = store
        for a, b in zip(sql_answers, py_answers):
            assert a.summary == b.summary and np.array_equal(a.household_pos, b.household_pos)
        weekly = weekly_reports(twin, store, args.weeks)
        store.close()
    rows = [["area, SQL", *_ms(sql_s)], ["area, Python", *_ms(py_s)]]
    rows += [[f"weekly report, {k}", *_ms(v)] for k, v in weekly.items()]
    print(f"loaded in {load_s:.0f} s, twin opened from the database in {open_s:.0f} s; {len(areas)} areas")
    print(table(["what", "median ms", "p95 ms"], rows))
    ratio = stats_ms(sql_s)["median"] / stats_ms(py_s)["median"]
    week = stats_ms(weekly["SQL"])["median"] / stats_ms(weekly["Python"])["median"]
    print(f"SQL / Python (medians): area {ratio:.2f}, weekly report {week:.2f}; every answer equal")
    return {"area": {"sql": stats_ms(sql_s), "python": stats_ms(py_s)}, "weekly": weekly}


def _ms(seconds) -> list:
    s = stats_ms(seconds)
    return [s["median"], s["p95"]]


def weekly_reports(twin, store, weeks: int) -> dict:
    """Seconds per weekly report over `weeks` weeks, by SQL and by Python (the answers checked equal)."""
    import pandas as pd

    from twin.incidents import attach_incidents
    from twin.incidents.reports import period_report
    from twin.times import period_of

    now = pd.Timestamp.now(tz="UTC")
    attach_incidents(twin, store, clock=lambda: now)  # one clock for both: time limits judged at the same moment
    svc = twin.incidents
    t = svc.frame()["reported_at"].dropna()
    span = (t.min(), t.max()) if len(t) else (svc.now(), svc.now())  # a directory without incidents: empty weeks
    days = pd.date_range(*span, periods=weeks)
    periods = [period_of("weekly", d.tz_convert(svc.timezone).tz_localize(None), svc.timezone) for d in days]
    out, answers = {}, {}
    for path, storage in (("SQL", store), ("Python", None)):
        twin.store = storage
        for p in periods:  # warm: hotspots are kept per period
            period_report(svc, p)
        out[path], answers[path] = clock(lambda p: period_report(svc, p), periods)
    twin.store = store
    for a, b in zip(answers["SQL"], answers["Python"]):
        assert a == b
    return out


if __name__ == "__main__":
    main()
