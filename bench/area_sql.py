"""Bench: area answers on PostgreSQL, the buildings, households and people by SQL (twin.analytics) against the same
twin answering in Python (its in-memory indexes), on one data directory loaded into a throw-away cluster.

    nice -n 10 python -m bench.area_sql --data /tmp/district --queries 200

Loads DIR with `twin db load` (COPY; minutes for the district), opens the twin from the database (static layers
only), then answers the same seeded areas (bench.query.polygons, 100-800 m across, plus every grid) with the
centroid rule both ways, checks that the answers are equal, and prints median / p95 per query and the ratio.
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
        store.close()
    sql, py = stats_ms(sql_s), stats_ms(py_s)
    print(f"loaded in {load_s:.0f} s, twin opened from the database in {open_s:.0f} s; {len(areas)} areas")
    print(
        table(
            ["path", "median ms", "p95 ms"], [["SQL", sql["median"], sql["p95"]], ["Python", py["median"], py["p95"]]]
        )
    )
    print(f"SQL / Python (medians): {sql['median'] / py['median']:.2f}; every answer equal")
    return {"sql": sql, "python": py, "areas": len(areas)}


if __name__ == "__main__":
    main()
