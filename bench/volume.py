"""Bench: incident figures at a district's volume (KPIs after a write, reports, six-nos, memory), in one run.

The twin is opened from a data directory made by `twin demo --preset district --incidents N` (its first start
imports the incidents, with progress shown); the incident clock is set to the end of the demo year. Timing starts
once start-up's background work (the search index, built in a thread) is done. Then:

- KPIs after a write: `--writes` times, one new incident through the service, then GET /api/dashboard/kpis
  (recomputed, since every write changes the version); the baseline is GET /collections in the same loop;
- each report (weekly, monthly, quarterly: one page of hotspots, as the API serves it; six-nos) of the last full
  period, timed `--repeat` times after a write
  (the first call of each is its cold one: p95 of 3 runs is that call), and six-nos of the running quarter;
- the process's resident memory (VmRSS) and its peak, at the end.

    twin demo --preset district --incidents 300000 --out /tmp/d300k
    python -m bench.volume --data /tmp/d300k
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import stats_ms, table

log = logging.getLogger(__name__)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    return resident_mb()["VmRSS"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mb() -> dict[str, float]:
    """VmRSS and its parts in MB: RssAnon (the heap) and RssFile (mapped file pages touched, e.g. Arrow snapshots)."""
    out = {"VmRSS": 0.0, "RssAnon": 0.0, "RssFile": 0.0}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in out:
            out[key] = int(line.split()[1]) / 1024
    return out


def startup_work_done() -> None:
    """Wait for start-up's background work (the search index and the compiled loops, loaded in threads that hold
    the GIL while they run)."""
    from web import WARM_THREAD

    for thread in threading.enumerate():
        if thread.name in ("search-index", WARM_THREAD):
            thread.join()


class StepClock:
    """A clock standing at `start` that moves on by `step` each time it is read (time passes between writes)."""

    def __init__(self, start: pd.Timestamp, step=pd.Timedelta(milliseconds=50)):
        self.t, self.step = start, step

    def __call__(self) -> pd.Timestamp:
        self.t = self.t + self.step
        return self.t


def main(argv=None) -> dict:
    """Open the district, time KPIs after writes against /collections, time each report, report memory."""
    from ingest.demo import END
    from twin.incidents.kpis import kpis
    from twin.incidents.reports import REPORT_HOTSPOTS, period_report
    from twin.incidents.sixnos import six_nos
    from twin.times import parse_quarter, period_of
    from web import create_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="data directory of `twin demo --preset district --incidents N`")
    p.add_argument("--writes", type=int, default=20, help="writes, each followed by a KPI read (default 20)")
    p.add_argument("--repeat", type=int, default=3, help="timings per report (default 3)")
    p.add_argument("--state", default=None, help="state directory to reuse (default: a fresh temporary one)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="twin-bench-volume-") as tmp:
        state = args.state or str(Path(tmp) / "state")
        t0 = time.perf_counter()
        app = create_app({"DATA_DIR": args.data, "STATE_DIR": state})
        start_s = time.perf_counter() - t0
        startup_work_done()
        ready_s = time.perf_counter() - t0
        twin = app.extensions["twin"]
        s = twin.incidents
        s.clock = StepClock(END.tz_convert("UTC") - pd.Timedelta(hours=2))
        n = len(s)
        print(
            f"{n:,} incidents, {len(twin.frame('buildings')):,} buildings; start-up {start_s:.1f} s, "
            f"its background work done at {ready_s:.1f} s"
        )
        client = app.test_client()
        pts = twin.frame("buildings").geometry.representative_point()
        rng = np.random.default_rng(7)
        client.get("/collections")
        client.get("/api/dashboard/kpis")
        kpi, base, write = [], [], []
        for k in range(args.writes):
            i = int(rng.integers(len(pts)))
            t = time.perf_counter()
            s.create({"category": "garbage", "lon": pts.x.iloc[i], "lat": pts.y.iloc[i]}, actor="bench")
            write.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = client.get("/api/dashboard/kpis")
            kpi.append(time.perf_counter() - t)
            assert r.status_code == 200 and r.get_json()["reported_today"] > 0, r.status_code
            t = time.perf_counter()
            assert client.get("/collections").status_code == 200
            base.append(time.perf_counter() - t)
        kp, bs, wr = stats_ms(kpi), stats_ms(base), stats_ms(write)
        rows = [
            ("write (service.create)", args.writes, wr["median"], wr["p95"], None),
            (
                "GET /api/dashboard/kpis after a write",
                args.writes,
                kp["median"],
                kp["p95"],
                kp["median"] / bs["median"],
            ),
            ("GET /collections (baseline)", args.writes, bs["median"], bs["p95"], 1.0),
        ]
        today = pd.Timestamp(s.now().tz_convert(s.timezone).date())
        periods = [
            (kind, period_of(kind, today - pd.Timedelta(days=back), s.timezone))
            for kind, back in (("weekly", 7), ("monthly", 31), ("quarterly", 92))
        ]
        quarter = parse_quarter(periods[-1][1].label, s.timezone)
        jobs = [  # as /api/reports/<period> serves it: one page of hotspots
            (f"{kind} report {q.label}", lambda q=q: period_report(s, q, hotspots_limit=REPORT_HOTSPOTS))
            for kind, q in periods
        ]
        jobs.append((f"six-nos {quarter.label}", lambda: six_nos(s, quarter)))
        running = parse_quarter(None, s.timezone, s.now())  # judged at the clock: made again on every call
        jobs.append((f"six-nos {running.label} (running)", lambda: six_nos(s, running)))
        jobs.append(("kpis() of the core, after a write", lambda: kpis(s, s.now().floor("min"))))
        for name, fn in jobs:
            times = []
            for _ in range(args.repeat):
                s.create({"category": "garbage", "lon": pts.x.iloc[0], "lat": pts.y.iloc[0]}, actor="bench")
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            st = stats_ms(times)
            rows.append((name, args.repeat, st["median"], st["p95"], None))
        cur, peak = rss_mb()
        parts = resident_mb()
        print(
            table(
                ("figure", "runs", "median ms", "p95 ms", "ratio to /collections"),
                [tuple("" if v is None else v for v in r) for r in rows],
            )
        )
        print(
            f"memory: VmRSS {cur:,.0f} MB (RssAnon {parts['RssAnon']:,.0f}, RssFile {parts['RssFile']:,.0f}), "
            f"peak {peak:,.0f} MB, for {len(s):,} incidents"
        )
        s.close()
    return {
        "kpis_ms": kp["median"],
        "collections_ms": bs["median"],
        "rss_mb": cur,
        "peak_mb": peak,
        "rss_anon_mb": parts["RssAnon"],
        "rss_file_mb": parts["RssFile"],
    }


if __name__ == "__main__":
    main()
