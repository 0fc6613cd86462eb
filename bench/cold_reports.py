"""Bench: each report's first call for its period (cold), in CPU and wall time, and its growth between data sizes.

The reports keep their answers per period and grow them by their tail as writes arrive, so the call that costs
is the first one for a period. Each period report is timed twice: as the API serves it (`-page`: one page of
REPORT_HOTSPOTS hotspots, the others found but not described) and with every hotspot listed (`-all`: the CSV
export). For each data directory given (smallest first), a child process opens the twin from a copy of its state
directory, waits for start-up's background work, sets the incident clock to the end of the demo year, writes one
incident, then times each report (weekly, monthly, quarterly of the last full periods, six-nos of that quarter)
`--repeat` times, dropping the answers the reports keep (service.memo) before each call: the first call is wholly
cold (the positions of the period's range are found too), the others redo everything but that range. The growth
of each figure from the first data directory to the last is printed beside the growth of the incidents and of the
answer (hotspots and the incidents listed in them), all measured in this run.

    python -m bench.cold_reports --data /tmp/vol/d300k --state /tmp/vol/s300k --data /tmp/vol/d1m --state /tmp/vol/s1m
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import table

KINDS = (("weekly", 7), ("monthly", 31), ("quarterly", 92))


def measure(data: str, state: str, repeat: int) -> dict:
    """Open the twin of `data` with the state directory `state` (written into), time every report cold."""
    import pandas as pd

    from ingest.demo import END
    from twin.incidents.reports import REPORT_HOTSPOTS, period_report
    from twin.incidents.sixnos import six_nos
    from twin.times import parse_quarter, period_of
    from web import create_app

    from .volume import StepClock, startup_work_done

    app = create_app({"DATA_DIR": data, "STATE_DIR": state})
    startup_work_done()
    twin = app.extensions["twin"]
    s = twin.incidents
    s.clock = StepClock(END.tz_convert("UTC") - pd.Timedelta(hours=2))
    pts = twin.frame("buildings").geometry.representative_point()
    s.create({"category": "garbage", "lon": pts.x.iloc[0], "lat": pts.y.iloc[0]}, actor="bench")
    today = pd.Timestamp(s.now().tz_convert(s.timezone).date())
    periods = [(kind, period_of(kind, today - pd.Timedelta(days=back), s.timezone)) for kind, back in KINDS]
    quarter = parse_quarter(periods[-1][1].label, s.timezone)
    jobs = []
    for kind, p in periods:
        jobs.append((f"{kind}-page {p.label}", lambda p=p: period_report(s, p, hotspots_limit=REPORT_HOTSPOTS)))
        jobs.append((f"{kind}-all {p.label}", lambda p=p: period_report(s, p)))
    jobs.append((f"six-nos {quarter.label}", lambda: six_nos(s, quarter)))
    out = {"incidents": len(s), "figures": {}}
    for name, fn in jobs:
        cpu, wall = [], []
        for _ in range(repeat):
            s.memo.clear()
            t, c = time.perf_counter(), time.process_time()
            answer = fn()
            cpu.append(1000 * (time.process_time() - c))
            wall.append(1000 * (time.perf_counter() - t))
        out["figures"][name] = {"cpu": cpu, "wall": wall}
        if "hotspots" in answer:
            out["figures"][name]["hotspots"] = answer["hotspots_total"]
            out["figures"][name]["shown"] = len(answer["hotspots"])
            out["figures"][name]["listed"] = sum(h["count"] for h in answer["hotspots"])
        del answer  # as a server drops an answer once sent: kept, it would be walked by the next report's collections
    s.close()
    return out


def main(argv=None) -> dict:
    """Time the cold reports of each data directory in its own process; print them and their growth."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", action="append", required=True, help="data directory (give two or more, smallest first)")
    p.add_argument("--state", action="append", required=True, help="its state directory (copied, never written)")
    p.add_argument("--repeat", type=int, default=5, help="cold calls per report (default 5)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if len(args.data) != len(args.state):
        p.error("give one --state per --data")
    if args.child:
        print(json.dumps(measure(args.data[0], args.state[0], args.repeat)))
        return {}
    logging.basicConfig(level=logging.WARNING)
    runs = []
    for data, state in zip(args.data, args.state):
        with tempfile.TemporaryDirectory(prefix="twin-bench-cold-") as tmp:
            copy = str(Path(tmp) / "state")
            shutil.copytree(state, copy)
            cmd = [sys.executable, "-m", "bench.cold_reports", "--child", "--data", data, "--state", copy]
            done = subprocess.run([*cmd, "--repeat", str(args.repeat)], capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    rows = []
    for k, run in enumerate(runs):
        for name, f in run["figures"].items():
            answer = f"{f['shown']:,} of {f['hotspots']:,} / {f['listed']:,}" if "hotspots" in f else ""
            first, rest = f["cpu"][0], statistics.median(f["cpu"][1:] or f["cpu"])
            wall = statistics.median(f["wall"][1:] or f["wall"])
            rows.append((f"{run['incidents']:,}", name, round(first, 1), round(rest, 1), round(wall, 1), answer))
    print(
        table(
            (
                "incidents",
                "report",
                "first call cpu ms",
                "cold cpu ms (median)",
                "cold wall ms (median)",
                "hotspots listed of all / incidents listed",
            ),
            rows,
        )
    )
    growth = {}
    if len(runs) > 1:
        a, b = runs[0], runs[-1]
        print(f"growth from the first data directory to the last: incidents x{b['incidents'] / a['incidents']:.2f}")
        for name, fa in a["figures"].items():
            fb = next(f for n, f in b["figures"].items() if n.split()[0] == name.split()[0])
            g = statistics.median(fb["cpu"][1:] or fb["cpu"]) / statistics.median(fa["cpu"][1:] or fa["cpu"])
            line = f"  {name.split()[0]:15s} cold cpu x{g:.2f}"
            if "hotspots" in fa:
                hot, listed = fb["hotspots"] / fa["hotspots"], fb["listed"] / fa["listed"]
                line += f"; hotspots x{hot:.2f}, incidents listed x{listed:.2f}"
            print(line)
            growth[name.split()[0]] = g
    return growth


if __name__ == "__main__":
    main()
