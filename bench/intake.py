"""Bench: sustained Open311 POSTs per second with 8 concurrent clients, and their p95 latency, on real waitress.

Two apps run in this process on waitress (8 threads each) on 127.0.0.1, each with its SQLite state in a fresh
temporary directory; the clients run in a separate process (so they do not share the servers' GIL), each on a
keep-alive connection, both apps getting the same seeded requests, measured in alternation round after round:

- `open311`: our POST /open311/v2/requests.json on the demo street (validate, place in grid/community/compound/
  nearest building, durable insert with its history row under group commit, live index, deadline notice);
- `bare insert`: the baseline, a plain Flask view that inserts the form into SQLite with the same durability
  (WAL, synchronous=FULL), one autocommitted INSERT per request, with no validation, placement or index;
- `services.json`: GET of our service list, a read with no database at all (the server's floor);
- `in process`: our incident service without HTTP, in a loop like the plain one: IncidentService.create (validate,
  place, durable commit with its history row, index) per form: what the core costs apart from Flask and waitress;
- `plain loop`: the issue's anchor, no HTTP at all: a Python loop over the same forms, one INSERT of the same row
  shape and one COMMIT per row (WAL, synchronous=FULL, so one fsync per row), on the same disk;
- `batch N`: POST /open311/v2/requests/batch.json with N requests per JSON array (a staff token, as the 12345
  hotline's forwarder has), `--batch-items` incidents per size and round: the bulk path (one transaction per
  batch, answered after its commit). Left out when the code under test has no batch route (an older checkout).

    python -m bench.intake                    # 3 rounds of 2,000 POSTs per server
    python -m bench.intake --requests 5000 --rounds 5 --batch-sizes 10,100,500

Reports the medians over rounds of requests per second and p50/p95 latency (for batches also incidents per second),
and of the ratios open311 / bare insert and open311, in process and each batch size / plain loop in incidents per
second (each round's ratio is taken within that round).
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np

from bench.api import measure, serve

log = logging.getLogger(__name__)

POST_PATH = "/open311/v2/requests.json"
BATCH_PATH = "/open311/v2/requests/batch.json"
TOKEN = "bench-hotline"  # the staff token of the bench's batch sender
CATEGORIES = ("garbage", "parking", "lighting", "drain", "elevator", "roof_leak", "flying_line_charging")


def bodies(points: np.ndarray, n: int, seed: int) -> list[tuple]:
    """`n` seeded form-encoded GeoReport POSTs (for bench.api.measure) ≤ 5 m around `points` (lon, lat rows)."""
    rng = np.random.default_rng(seed)
    pick = points[rng.integers(0, len(points), n)] + rng.uniform(-4.5e-5, 4.5e-5, (n, 2)) * [1.3, 1.0]
    codes = rng.choice(CATEGORIES, n)
    forms = (
        {
            "service_code": c,
            "lat": f"{y:.6f}",
            "long": f"{x:.6f}",
            "first_name": "测试",
            "phone": "13800000000",
            "description": f"压测工单 {i}：楼道堆放杂物，请尽快处理",
        }
        for i, (c, (x, y)) in enumerate(zip(codes, pick))
    )
    return [("POST", POST_PATH, urlencode(f).encode()) for f in forms]


def batches(requests: list[tuple], size: int) -> list[tuple]:
    """The form POSTs `requests` regrouped as JSON batch POSTs of `size` requests each (for bench.api.measure)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    items = [dict(parse_qsl(b.decode())) for _m, _p, b in requests]
    return [
        ("POST", BATCH_PATH, json.dumps(items[k : k + size], ensure_ascii=False).encode(), headers)
        for k in range(0, len(items), size)
    ]


INSERT = "INSERT INTO requests (code, lat, lon, description, name, phone, at) VALUES (?, ?, ?, ?, ?, ?, ?)"


def durable_db(db_path: Path) -> sqlite3.Connection:
    """An autocommitting SQLite connection (WAL, synchronous=FULL) with the baselines' one table."""
    db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, code TEXT, lat REAL, lon REAL, description TEXT, "
        "name TEXT, phone TEXT, at REAL)"
    )
    return db


def row_of(f) -> tuple:
    """The baselines' row of one form."""
    return (
        f["service_code"],
        float(f["lat"]),
        float(f["long"]),
        f["description"],
        f["first_name"],
        f["phone"],
        time.time(),
    )


def plain_loop(db: sqlite3.Connection, requests: list[tuple]) -> dict:
    """The issue's anchor: one INSERT and one COMMIT (one fsync) per row in a Python loop, no HTTP; rows per second."""
    forms = [dict(parse_qsl(b.decode())) for _m, _p, b in requests]
    times = np.empty(len(forms) + 1)
    times[0] = time.perf_counter()
    for i, f in enumerate(forms, 1):
        db.execute("BEGIN")
        db.execute(INSERT, row_of(f))
        db.execute("COMMIT")
        times[i] = time.perf_counter()
    lat = np.diff(times) * 1000
    wall = times[-1] - times[0]
    return {"rps": len(forms) / wall, "p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95))}


def in_process(service, requests: list[tuple], concurrency: int) -> dict:
    """IncidentService.create from `concurrency` threads over the same forms, no HTTP; reports per second."""
    forms = [dict(parse_qsl(b.decode())) for _m, _p, b in requests]
    fields = [
        {
            "category": f["service_code"],
            "lon": float(f["long"]),
            "lat": float(f["lat"]),
            "description": f["description"],
            "contact_name": f["first_name"],
            "contact_phone": f["phone"],
        }
        for f in forms
    ]
    lat: list[float] = []

    def work(share):
        for item in share:
            t = time.perf_counter()
            service.create(item, actor="bench")
            lat.append(time.perf_counter() - t)

    threads = [threading.Thread(target=work, args=(fields[k::concurrency],)) for k in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = np.array(lat) * 1000
    return {"rps": len(fields) / wall, "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))}


def baseline_app(db_path: Path):
    """A plain Flask view: one INSERT of the form fields into SQLite (WAL, synchronous=FULL), nothing else."""
    from flask import Flask, jsonify, request

    db = durable_db(db_path)
    lock = threading.Lock()
    app = Flask("baseline")

    @app.post(POST_PATH)
    def post():
        f = request.form
        with lock:
            cur = db.execute(INSERT, row_of(f))
        resp = jsonify([{"service_request_id": str(cur.lastrowid)}])
        resp.status_code = 201
        return resp

    return app


def main(argv=None) -> dict:
    """Measure the servers and loops round after round (interleaved, so a busy machine slows all alike); print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000, help="requests per server and round (default 2000)")
    p.add_argument("--rounds", type=int, default=3, help="rounds; the medians are reported (default 3)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--batch-sizes", default="10,100", help="requests per batch POST, comma separated (default 10,100)")
    p.add_argument("--batch-items", type=int, default=4000, help="incidents per batch size and round (default 4000)")
    p.add_argument("--data", default=None, help="data directory (default: the built-in demo street)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is the point of the load

    from twin.store import default_data_dir
    from web import create_app

    rounds: dict[str, list[dict]] = {
        "open311": [],
        "bare insert": [],
        "in process": [],
        "plain loop": [],
        "services.json": [],
    }
    with tempfile.TemporaryDirectory(prefix="twin-bench-intake-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        tokens = json.dumps([{"role": "staff", "token": TOKEN, "name": "12345热线"}])
        app = create_app(
            {"DATA_DIR": args.data or str(default_data_dir()), "STATE_DIR": str(tmp / "state"), "TOKENS": tokens}
        )
        has_batch = any(r.rule == BATCH_PATH for r in app.url_map.iter_rules())
        sizes = [int(x) for x in args.batch_sizes.split(",") if x.strip()] if has_batch else []
        for size in sizes:
            rounds[f"batch {size}"] = []
        twin = app.extensions["twin"]
        before = twin.incidents.store.count()
        centroids = twin.frame("buildings").geometry.representative_point()
        points = np.column_stack([centroids.x, centroids.y])
        print(
            f"street: {len(points)} buildings, {before:,} incidents already stored; "
            f"loaded in {time.perf_counter() - t0:.1f} s"
            + ("" if has_batch else "; this checkout has no batch route: batches left out")
        )
        warm = bodies(points, 200, args.seed + 1)
        ours_url, ours = serve(app, threads=8)
        base_url, base = serve(baseline_app(tmp / "baseline.sqlite"), threads=8)
        loop_db = durable_db(tmp / "loop.sqlite")  # one file for all rounds, warmed like the servers' databases
        for url in (ours_url, base_url):
            measure(url, warm, args.concurrency)
        if sizes:
            measure(ours_url, batches(warm, 10), args.concurrency)
        plain_loop(loop_db, warm)
        sent = 2 * len(warm) if sizes else len(warm)
        for k in range(args.rounds):
            test = bodies(points, args.requests, args.seed + 10 + k)
            rounds["open311"].append(measure(ours_url, test, args.concurrency))
            rounds["bare insert"].append(measure(base_url, test, args.concurrency))
            rounds["in process"].append(in_process(twin.incidents, test, 1))
            rounds["plain loop"].append(plain_loop(loop_db, test))
            rounds["services.json"].append(
                measure(ours_url, ["/open311/v2/services.json"] * args.requests, args.concurrency)
            )
            sent += 2 * len(test)  # over HTTP and in process
            for size in sizes:
                items = bodies(points, args.batch_items, args.seed + 100 * size + k)
                r = measure(ours_url, batches(items, size), args.concurrency)
                rounds[f"batch {size}"].append({**r, "ips": r["rps"] * len(items) / r["n"]})
                sent += len(items)
            a, b, c = rounds["open311"][-1], rounds["bare insert"][-1], rounds["plain loop"][-1]
            print(
                f"round {k + 1}: open311 {a['rps']:.0f} req/s p95 {a['p95']:.1f} ms; "
                f"bare insert {b['rps']:.0f} req/s p95 {b['p95']:.1f} ms; "
                f"in process {rounds['in process'][-1]['rps']:.0f}/s; plain loop {c['rps']:.0f} rows/s"
                + "".join(f"; batch {n} {rounds[f'batch {n}'][-1]['ips']:.0f} incidents/s" for n in sizes)
            )
        ours.close()
        base.close()
        loop_db.close()
        stored = twin.incidents.store.count() - before
        assert stored == sent, f"{stored} stored for {sent} acknowledged"
        twin.incidents.close()

    for name, rs in rounds.items():  # incidents per second: one per request, a batch's items per batch request
        for r in rs:
            r.setdefault("ips", r["rps"])
    results = {
        name: {key: float(np.median([r[key] for r in rs])) for key in ("rps", "ips", "p50", "p95")}
        for name, rs in rounds.items()
    }
    print(
        f"Open311 POST requests.json, {args.concurrency} concurrent clients, {args.requests} requests per server "
        f"and round, median of {args.rounds} rounds (after 200 warm-up)"
        + (f"; batches: {args.batch_items} incidents per size and round" if sizes else "")
    )
    print(f"{'':14} {'req/s':>8} {'incid./s':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name, r in results.items():
        ips = "" if name == "services.json" else f"{r['ips']:9.1f}"
        print(f"{name:14} {r['rps']:8.1f} {ips:>9} {r['p50']:8.1f} {r['p95']:8.1f}")
    loop = rounds["plain loop"]
    ratio = lambda name: np.median([a["ips"] / c["rps"] for a, c in zip(rounds[name], loop)])  # noqa: E731
    same = [(a["rps"] / b["rps"], a["p95"] / b["p95"]) for a, b in zip(rounds["open311"], rounds["bare insert"])]
    print(
        f"ratio open311/bare insert (median of rounds): throughput x{np.median([r[0] for r in same]):.2f}, "
        f"p95 latency x{np.median([r[1] for r in same]):.2f}"
    )
    print(
        "ratio to the plain fsync'd loop in incidents/s (median of rounds; the issue asks >= x0.5): "
        + ", ".join(f"{name} x{ratio(name):.2f}" for name in rounds if name not in ("plain loop", "services.json"))
    )
    return results


if __name__ == "__main__":
    main()
