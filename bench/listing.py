"""Bench: the features API's incident listing at a district's volume, each request right after a write.

The twin is opened from a data directory made by `twin demo --preset district --incidents N`. Then `--runs` times:
one new incident through the service, then GET /collections/incidents/items?limit=100 (every write changes the
version, so nothing is reused); the same with bbox= (about one building block) and with datetime= (the last week),
and GET /collections as the baseline in the same loop.

    python -m bench.listing --data /tmp/vol/d1m --state /tmp/mystate   # a copy of the state dir: writes go there
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import stats_ms, table
from bench.volume import StepClock, rss_mb


def main(argv=None) -> dict:
    """Open the district, time incident pages right after writes against /collections."""
    from ingest.demo import END
    from web import create_app

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="data directory of `twin demo --preset district --incidents N`")
    p.add_argument("--runs", type=int, default=50, help="writes, each followed by one read of each kind (default 50)")
    p.add_argument("--state", default=None, help="state directory to reuse (default: a fresh temporary one)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    with tempfile.TemporaryDirectory(prefix="twin-bench-listing-") as tmp:
        state = args.state or str(Path(tmp) / "state")
        app = create_app({"DATA_DIR": args.data, "STATE_DIR": state})
        twin = app.extensions["twin"]
        s = twin.incidents
        end = END.tz_convert("UTC")
        s.clock = StepClock(end - pd.Timedelta(hours=2))
        pts = twin.frame("buildings").geometry.representative_point()
        x, y = float(pts.x.median()), float(pts.y.median())
        week = f"{(end - pd.Timedelta(days=7)).isoformat()}/{end.isoformat()}".replace("+00:00", "Z")
        reads = {
            "items?limit=100": "/collections/incidents/items?limit=100",
            "items?limit=100&bbox=(~500 m)": f"/collections/incidents/items?limit=100&bbox={x - 0.003},{y - 0.0025},"
            f"{x + 0.003},{y + 0.0025}",
            "items?limit=100&datetime=(last week)": f"/collections/incidents/items?limit=100&datetime={week}",
            "/collections (baseline)": "/collections",
        }
        client = app.test_client()
        matched = {}
        for name, path in reads.items():  # warm: first-use caches of the static layers
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
            matched[name] = r.get_json().get("numberMatched")
        rng = np.random.default_rng(7)
        times: dict[str, list[float]] = {name: [] for name in reads}
        for _ in range(args.runs):
            for name, path in reads.items():
                i = int(rng.integers(len(pts)))
                s.create({"category": "garbage", "lon": pts.x.iloc[i], "lat": pts.y.iloc[i]}, actor="bench")
                t = time.perf_counter()
                r = client.get(path)
                times[name].append(time.perf_counter() - t)
                assert r.status_code == 200, r.status_code
        base = stats_ms(times["/collections (baseline)"])["median"]
        rows = []
        for name in reads:
            st = stats_ms(times[name])
            rows.append((name, matched[name] or "", args.runs, st["median"], st["p95"], st["median"] / base))
        cur, peak = rss_mb()
        print(f"{len(s):,} incidents")
        print(table(("read right after a write", "matched", "runs", "median ms", "p95 ms", "ratio"), rows))
        print(f"memory: VmRSS {cur:,.0f} MB, peak {peak:,.0f} MB")
        s.close()
    return {name: stats_ms(t)["median"] for name, t in times.items()}


if __name__ == "__main__":
    main()
