"""Bench: `items?bbox=` on the 50,000-building district, our API vs a plain Flask view without an index.

Both apps run in this process on waitress (8 threads each), one after the other; the 8 concurrent clients run in a
separate process (so they do not share the servers' GIL) with keep-alive connections and the same seeded boxes.

    python -m bench.api                       # district preset, 800 requests per server
    python -m bench.api --requests 400 --side 300

Reports requests per second and p50/p95 latency for each, and the ratios (ours / baseline) from the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import multiprocessing
import threading
import time
from urllib.parse import urlsplit

import numpy as np

from bench.common import district_twin, table

log = logging.getLogger(__name__)

M_PER_DEG_LAT = 111_320.0


def baseline_app(frame):
    """A plain Flask view: filter the GeoDataFrame with a vectorised intersects (no index), page, to_json()."""
    import shapely
    from flask import Flask, Response, request

    app = Flask("baseline")

    @app.get("/collections/buildings/items")
    def items():
        x0, y0, x1, y1 = (float(v) for v in request.args["bbox"].split(","))
        limit = int(request.args.get("limit", 100))
        hits = frame[frame.geometry.intersects(shapely.box(x0, y0, x1, y1))]
        doc = json.loads(hits.iloc[:limit].to_json())
        doc["numberMatched"], doc["numberReturned"] = len(hits), min(limit, len(hits))
        return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/geo+json")

    return app


def boxes(bounds, n: int, side_m: float, seed: int) -> list[str]:
    """`n` seeded square boxes of `side_m` metres inside `bounds`, as bbox query values."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    dlat = side_m / M_PER_DEG_LAT
    dlon = dlat / np.cos(np.radians((y0 + y1) / 2))
    xs = rng.uniform(x0, x1 - dlon, n)
    ys = rng.uniform(y0, y1 - dlat, n)
    return [f"{x:.6f},{y:.6f},{x + dlon:.6f},{y + dlat:.6f}" for x, y in zip(xs, ys)]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _client_run(base: str, paths: list, concurrency: int, out):
    """Child process: `concurrency` threads, keep-alive connections, each sending its share of `paths`.

    An item is a path to GET, or (method, path, form-encoded body bytes[, headers]); any 2xx with a body counts as
    success.
    """
    host = urlsplit(base)
    lat: list[float] = []
    errors = []
    lock = threading.Lock()

    def work(share):
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
        mine = []
        for p in share:
            method, path, data, *headers = ("GET", p, None) if isinstance(p, str) else p
            t = time.perf_counter()
            conn.request(method, path, body=data, headers=headers[0] if headers else FORM if data is not None else {})
            r = conn.getresponse()
            body = r.read()
            mine.append(time.perf_counter() - t)
            if r.status // 100 != 2 or not body:
                errors.append(r.status)
        conn.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=work, args=(paths[i::concurrency],)) for i in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put({"wall": time.perf_counter() - t0, "latencies": lat, "errors": errors})


def measure(base: str, paths: list, concurrency: int) -> dict:
    """Requests per second and latency percentiles of `paths` (see _client_run) against `base`, from another process."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_client_run, args=(base, paths, concurrency, q))
    proc.start()
    res = q.get()
    proc.join()
    if res["errors"]:
        raise RuntimeError(f"{len(res['errors'])} failed requests against {base}: {res['errors'][:5]}")
    lat = np.array(res["latencies"]) * 1000
    return {
        "rps": len(paths) / res["wall"],
        "p50": float(np.percentile(lat, 50)),
        "p95": float(np.percentile(lat, 95)),
        "n": len(paths),
    }


def serve(app, threads: int):
    """waitress on a free loopback port in a thread; returns (base URL, server)."""
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads, ident="bench")
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def main(argv=None) -> dict:
    """Run the comparison and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=800, help="requests per server (default 800)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--side", type=float, default=400.0, help="box side in metres (default 400)")
    p.add_argument("--limit", type=int, default=100, help="features per page (default 100, the API default)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" is the point of the load test

    from web import create_app

    t0 = time.perf_counter()
    twin = district_twin(args.seed)
    frame = twin.frame("buildings")
    print(f"district twin: {len(frame):,} buildings, built in {time.perf_counter() - t0:.0f} s")
    ours_url, ours = serve(create_app({"TWIN": twin}), threads=8)
    base_url, base = serve(baseline_app(frame), threads=8)

    warm = boxes(frame.total_bounds, 200, args.side, args.seed + 1)
    test = boxes(frame.total_bounds, args.requests, args.side, args.seed)
    path = "/collections/buildings/items?limit={}&bbox={}"
    for b in test[:20]:  # both answer the same question
        got = [_get_json(u + path.format(args.limit, b))["numberMatched"] for u in (ours_url, base_url)]
        assert got[0] == got[1], (b, got)
    results = {}
    for name, url in (("api", ours_url), ("baseline", base_url)):
        measure(url, [path.format(args.limit, b) for b in warm], args.concurrency)  # warm-up, other boxes
        results[name] = measure(url, [path.format(args.limit, b) for b in test], args.concurrency)
    ours.close()
    base.close()
    a, b = results["api"], results["baseline"]
    print(
        f"items?bbox= ({args.side:.0f} m boxes, limit {args.limit}), {args.concurrency} concurrent clients, "
        f"{args.requests} requests each"
    )
    print(table(["", "req/s", "p50 ms", "p95 ms"], [[k, r["rps"], r["p50"], r["p95"]] for k, r in results.items()]))
    print(f"ratio api/baseline: throughput x{a['rps'] / b['rps']:.1f}, p95 latency x{a['p95'] / b['p95']:.2f}")
    return results


def _get_json(url: str) -> dict:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    conn.request("GET", u.path + "?" + u.query)
    body = conn.getresponse().read()
    conn.close()
    return json.loads(body)


if __name__ == "__main__":
    main()
