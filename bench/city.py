"""Bench: a city in PostGIS (the district preset loaded once with `twin db load`, then copied to N street offices
side by side in SQL), with each figure beside an anchor measured in the same run on the same database.

    nice -n 10 python -m bench.city --data DIR --offices 20          # DIR: `twin demo --preset district --out DIR`
    nice -n 10 python -m bench.city --data DIR --offices 20 --url postgresql://...   # an existing database

- area: full figures of a grid (buildings, floors, households, persons, elderly, floating, incidents, open) in one
  SQL statement (twin/postgres/analytics.py) vs a plain `count(*)` of buildings with the GiST index;
- weekly report: incidents of one office and week by category, stage and grid with mean time to resolution vs a
  plain count of that week's incidents;
- one web process serving one office of the city (`twin serve` with DATABASE_URL, OFFICE): time to first answer,
  memory (at the first answer, after the bbox requests, after one grid's area figures, which read the households),
  and `items?bbox=` requests per second vs tipg serving the same table from the same database (one uvicorn worker,
  `pip install 'community-twin[bench]'`; skipped when tipg is missing) and vs the same bbox query sent as SQL.
Without --url a throw-away PostgreSQL 15 cluster is started (tests/postgres.py) and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import table
from bench.startup import first_answer, free_port, rss_mb, twin_cmd

LAYERS = ("communities", "compounds", "buildings", "grids", "households")
SHIFT = 0.35  # degrees of longitude between copies (the district is ~0.3 degrees wide)


def copy_offices(conn, n: int) -> None:
    """Copy office d000 to d001..d{n-1}, each moved east by SHIFT degrees (ids stay; the office is in every key)."""
    for k in range(1, n):
        office = f"d{k:03d}"
        if conn.execute("SELECT 1 FROM layer_versions WHERE office = %s", (office,)).fetchone():
            continue
        t = time.perf_counter()
        with conn.transaction():
            for layer in LAYERS:
                cols = [
                    r[0]
                    for r in conn.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                        "AND column_name NOT IN ('office', 'geom') ORDER BY ordinal_position",
                        (f"layer_{layer}",),
                    )
                ]
                c = ", ".join(cols)
                conn.execute(
                    f"INSERT INTO layer_{layer} (office, {c}, geom) SELECT %s, {c}, ST_Translate(geom, %s, 0) "
                    f"FROM layer_{layer} WHERE office = 'd000'",
                    (office, k * SHIFT),
                )
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'incidents' "
                    "AND column_name NOT IN ('office', 'geom', 'lon') ORDER BY ordinal_position"
                )
            ]
            c = ", ".join(cols)
            conn.execute(
                f"INSERT INTO incidents (office, {c}, lon) SELECT %s, {c}, lon + %s FROM incidents "
                "WHERE office = 'd000'",
                (office, k * SHIFT),
            )
            conn.execute(
                "INSERT INTO layer_versions (office, layer, version, rows) SELECT %s, layer, version, rows "
                "FROM layer_versions WHERE office = 'd000'",
                (office,),
            )
        print(f"office {office} copied in {time.perf_counter() - t:.0f} s", flush=True)


def timed(fn, args) -> list[float]:
    out = []
    for a in args:
        t = time.perf_counter()
        fn(a)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="a district data directory")
    p.add_argument("--offices", type=int, default=20, help="copies of the district (default 20: ~1M buildings)")
    p.add_argument("--url", default=None, help="an existing PostGIS database (default: a throw-away cluster)")
    p.add_argument("--queries", type=int, default=100)
    args = p.parse_args(argv)
    import psycopg

    from twin.postgres.analytics import area_figures, period_counts

    cluster = None
    if args.url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.postgres import Cluster

        cluster = Cluster(Path(tempfile.mkdtemp(prefix="twin-city-"))).start()
        args.url = cluster.new_database()
    try:
        t = time.perf_counter()
        subprocess.run(twin_cmd("", ["db", "--url", args.url, "--office", "d000", "load", str(args.data)]), check=True)
        print(f"district loaded as office d000 in {time.perf_counter() - t:.0f} s", flush=True)
        with psycopg.connect(args.url, autocommit=True) as conn:
            copy_offices(conn, args.offices)
            conn.execute("ANALYZE")
            sizes = {
                name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                for name in ("layer_buildings", "layer_households", "incidents")
            }
            print(f"city: {sizes}", flush=True)
            grids = conn.execute(
                "SELECT office, ST_AsText(geom) FROM layer_grids ORDER BY md5(office || grid_code) LIMIT %s",
                (args.queries,),
            ).fetchall()
            lo, hi = conn.execute("SELECT min(reported_at), max(reported_at) FROM incidents").fetchone()
            area = lambda g: area_figures(conn, g[0], g[1], lo, hi)  # noqa: E731
            plain = lambda g: conn.execute(  # noqa: E731
                "SELECT count(*) FROM layer_buildings WHERE office = %s AND geom && ST_GeomFromText(%s, 4326) "
                "AND ST_Intersects(geom, ST_GeomFromText(%s, 4326))",
                (g[0], g[1], g[1]),
            ).fetchone()
            timed(area, grids[:5])
            a_ms, c_ms = timed(area, grids), timed(plain, grids)
            import datetime as dt

            weeks = [(f"d{k % args.offices:03d}", hi - dt.timedelta(days=7 * (k + 1))) for k in range(20)]
            report = lambda w: period_counts(conn, w[0], w[1], w[1] + dt.timedelta(days=7))  # noqa: E731
            count = lambda w: conn.execute(  # noqa: E731
                "SELECT count(*) FROM incidents WHERE office = %s AND reported_at >= %s AND reported_at < %s",
                (w[0], w[1], w[1] + dt.timedelta(days=7)),
            ).fetchone()
            r_ms, n_ms = timed(report, weeks), timed(count, weeks)
            web = serve_one(args.url, conn, f"d{args.offices // 2:03d}")
        rows = [
            ["area figures (grid)", statistics.median(a_ms), "plain GiST count", statistics.median(c_ms)],
            ["weekly report (office)", statistics.median(r_ms), "plain count of the week", statistics.median(n_ms)],
            ["items?bbox= (req/s)", web["api_rps"], "tipg, same table (req/s)", web["tipg_rps"] or float("nan")],
            ["items?bbox= (req/s)", web["api_rps"], "same bbox as SQL (q/s)", web["sql_rps"]],
        ]
        print(table(["figure", "twin", "anchor", "anchor value"], rows))
        print(
            f"web process for one office: first answer {web['first']:.1f} s, RSS {web['rss']:.0f} MB at it, "
            f"{web['rss_served']:.0f} MB after the bbox requests, {web['rss_area']:.0f} MB after one grid's area "
            f"figures ({web['area_s']:.1f} s; {web['buildings']:,} buildings of {sizes['layer_buildings']:,} in the "
            "database)"
        )
    finally:
        if cluster is not None:
            cluster.stop()


def serve_one(url: str, conn, office: str, requests: int = 300) -> dict:
    """Start `twin serve` on one office of the database; time, memory and bbox throughput against tipg and SQL."""
    x0, y0, x1, y1 = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM layer_buildings "
        "WHERE office = %s) s",
        (office,),
    ).fetchone()
    nb = conn.execute("SELECT count(*) FROM layer_buildings WHERE office = %s", (office,)).fetchone()[0]
    grid = conn.execute("SELECT min(grid_code) FROM layer_grids WHERE office = %s", (office,)).fetchone()[0]
    import random

    rnd = random.Random(7)
    boxes = []
    for _ in range(requests):
        x, y = rnd.uniform(x0, x1 - 0.01), rnd.uniform(y0, y1 - 0.01)
        boxes.append((x, y, x + 0.005, y + 0.005))
    port = free_port()
    env = {
        **os.environ,
        "TWIN_DATABASE_URL": url,
        "TWIN_OFFICE": office,
        "TWIN_REFRESH_SECONDS": "3600",
        "TWIN_STATE_DIR": tempfile.mkdtemp(prefix="twin-city-state-"),  # a fresh machine: nothing cached locally
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        twin_cmd("", ["serve", "--port", str(port)]), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    root = f"http://127.0.0.1:{port}"
    base = f"{root}/collections/buildings/items?limit=100&bbox="
    try:
        first_answer(proc, base + "%f,%f,%f,%f" % boxes[0])
        first, rss = time.perf_counter() - t0, rss_mb(proc.pid)
        api_rps = throughput(base + "%f,%f,%f,%f", boxes)
        rss_served = rss_mb(proc.pid)
        t = time.perf_counter()
        urllib.request.urlopen(f"{root}/api/area?grid={grid}", timeout=600).read()
        area_s, rss_area = time.perf_counter() - t, rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)
    t = time.perf_counter()
    for b in boxes:
        conn.execute(
            "SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f), '[]')) FROM "
            "(SELECT building_id, floors, ST_AsGeoJSON(geom)::json AS geometry FROM layer_buildings "
            "WHERE office = %s AND geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) LIMIT 100) f",
            (office, *b),
        ).fetchone()
    sql_rps = len(boxes) / (time.perf_counter() - t)
    return {
        "first": first,
        "rss": rss,
        "rss_served": rss_served,
        "area_s": area_s,
        "rss_area": rss_area,
        "api_rps": api_rps,
        "tipg_rps": tipg_rps(url, office, boxes),
        "sql_rps": sql_rps,
        "buildings": nb,
    }


def throughput(template: str, boxes) -> float:
    """Requests per second of GET template % box over every box, one after another."""
    t = time.perf_counter()
    for b in boxes:
        urllib.request.urlopen(template % b, timeout=60).read()
    return len(boxes) / (time.perf_counter() - t)


def tipg_rps(url: str, office: str, boxes) -> float | None:
    """items?bbox= requests per second of tipg (one uvicorn worker) on the same table, filtered to the same office;
    None when tipg is not installed."""
    import importlib.util

    if importlib.util.find_spec("tipg") is None or importlib.util.find_spec("uvicorn") is None:
        print("tipg is not installed (pip install 'community-twin[bench]'): no tipg anchor", flush=True)
        return None
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]'}  # every table: the catalog is small
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/collections/public.layer_buildings/items?limit=100&office={office}&bbox="
    try:
        body = first_answer(proc, base + "%f,%f,%f,%f" % boxes[0])
        if b'"FeatureCollection"' not in body:
            raise SystemExit(f"tipg answered {body[:200]!r}")
        return throughput(base + "%f,%f,%f,%f", boxes)
    finally:
        proc.terminate()
        proc.wait(60)


if __name__ == "__main__":
    main()
