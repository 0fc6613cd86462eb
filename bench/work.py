"""Bench: the work queue's list-and-filter time on a district's load of incidents, and alert pollers against
other requests on real waitress.

The demo street's year of incidents (6,000) is copied `--copies` times (bench.reports.build: each copy jittered
by about 30 m, new ids) into a fresh SQLite store: 167 copies are a million incidents.

1. List and filter: GET /api/work with the filters a clerk uses (the default open queue, everything, one category,
   overdue only, a text search, a period, a late page), through the Flask test client as an admin, `--repeat`
   times each. Baseline in the same run: GET /open311/v2/requests.json?page_size=50 (the existing list, 90 days).
2. Alert listeners: the app on waitress (THREADS=8); `--listeners` threads each poll /api/alerts every 2 s (as an
   open /work page does) while one client times GET /api/work?page_size=50 and GET /open311/v2/services.json in a
   loop; the same loop with no listeners is the baseline. Reported: p50/p95 and the share of answers over 1 s.

    python -m bench.work                        # 20 copies: ~120,000 incidents
    python -m bench.work --copies 167 --listeners 50
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench.common import stats_ms, table

TOKEN = "bench-admin"
FILTERS = {
    "open queue (default)": "",
    "everything": "stage=all",
    "one category, all stages": "stage=all&category=garbage",
    "overdue only": "overdue=true",
    "text search, all stages": "stage=all&q=楼道",
    "a month, all stages": "stage=all&from={month0}&to={month1}",
    "page 20, all stages": "stage=all&page=20",
}


def app_of(twin, state: Path):
    """The web app on `twin` with an admin bearer token."""
    from web import create_app

    return create_app(
        {
            "TESTING": True,
            "TWIN": twin,
            "STATE_DIR": str(state),
            "TOKENS": json.dumps([{"role": "admin", "token": TOKEN}]),
        }
    )


def list_times(app, repeat: int) -> list[tuple]:
    """Rows (filter, total, median ms, p95 ms) for each filter, and the Open311 list baseline."""
    c = app.test_client()
    h = {"Authorization": f"Bearer {TOKEN}"}
    at = c.get("/api/work", headers=h).json["at"]
    month1 = at[:10]
    month0 = f"{int(month1[:4]) - (month1[5:7] == '01')}-{(int(month1[5:7]) - 2) % 12 + 1:02d}-{month1[8:10]}"
    rows = []
    for name, q in [*FILTERS.items(), ("baseline: Open311 requests.json", None)]:
        url = (
            "/open311/v2/requests.json?page_size=50"
            if q is None
            else "/api/work?" + q.format(month0=month0, month1=month1)
        )
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            r = c.get(url, headers=h)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:200])
        total = r.json["total"] if q is not None else int(r.headers["X-Total-Count"])
        s = stats_ms(times)
        rows.append((name, total, s["median"], s["p95"]))
    return rows


def poller(port: int, stop: threading.Event, counts: list, every: float = 2.0) -> None:
    """One open page: GET /api/alerts?since=SEQ every `every` seconds on a keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    seq = None
    h = {"Authorization": f"Bearer {TOKEN}"}
    while not stop.is_set():
        conn.request("GET", "/api/alerts" + ("" if seq is None else f"?since={seq}"), headers=h)
        r = conn.getresponse()
        seq = json.loads(r.read())["seq"]
        counts.append(1)
        stop.wait(every)
    conn.close()


def timed_loop(port: int, seconds: float) -> dict:
    """GET /api/work and services.json in turn for `seconds`; latencies per path."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Authorization": f"Bearer {TOKEN}"}
    out: dict = {"/api/work?page_size=50": [], "/open311/v2/services.json": []}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path in out:
            t = time.perf_counter()
            conn.request("GET", path, headers=h)
            conn.getresponse().read()
            out[path].append(time.perf_counter() - t)
    conn.close()
    return out


def listeners(app, n: int, seconds: float) -> list[tuple]:
    """Rows (listeners, path, requests, p50, p95, share over 1 s, polls answered) without and with `n` pollers."""
    from tests.live import live_server

    rows = []
    with live_server(app) as base:
        port = int(base.rsplit(":", 1)[1])
        timed_loop(port, 2)  # warm: caches, first frame
        for k in (0, n):
            stop, counts = threading.Event(), []
            threads = [threading.Thread(target=poller, args=(port, stop, counts), daemon=True) for _ in range(k)]
            for t in threads:
                t.start()
            lat = timed_loop(port, seconds)
            stop.set()
            for t in threads:
                t.join(timeout=10)
            for path, secs in lat.items():
                s = stats_ms(secs)
                rows.append(
                    (k, path, len(secs), s["median"], s["p95"], float(np.mean(np.array(secs) > 1.0)), len(counts))
                )
    return rows


def main(argv=None) -> None:
    """Build the incidents, run both measurements, print the tables."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=20, help="copies of the demo's 6,000 incidents (167 ≈ a million)")
    p.add_argument("--repeat", type=int, default=5, help="timings per filter")
    p.add_argument("--listeners", type=int, default=50, help="alert pollers (open pages)")
    p.add_argument("--seconds", type=float, default=20, help="length of each latency loop")
    a = p.parse_args(argv)
    from bench.reports import build

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        twin, service = build(a.copies, Path(tmp))
        twin.incidents = service
        print(f"{len(service):,} incidents ready in {time.perf_counter() - t0:.0f} s")
        app = app_of(twin, Path(tmp) / "state")
        print(table(("filter", "matches", "median ms", "p95 ms"), list_times(app, a.repeat)))
        print()
        rows = listeners(app, a.listeners, a.seconds)
        print(table(("listeners", "path", "requests", "p50 ms", "p95 ms", "share > 1 s", "polls"), rows))
        service.close()


if __name__ == "__main__":
    main()
