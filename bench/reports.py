"""Bench: weekly/monthly/quarterly reports and the six-nos rating on a district's load of incidents.

The demo street's year of incidents (6,000) is copied `--copies` times (each copy jittered by about 30 m, new ids)
into a fresh SQLite store, so a quarter holds about `copies` × 1,500 incidents on the demo street's compounds and
buildings. Each figure is timed `--repeat` times; the baseline, measured in the same run, is summarize() of the
same period's incidents (what the wall dashboard already computes), so the ratio is the cost of the extra report
work (counts per place, hotspots) over it.

    python -m bench.reports                  # 10 copies: ~60,000 incidents a year
    python -m bench.reports --copies 20 --repeat 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from bench.common import clock, stats_ms, table

M_LON, M_LAT = 1 / 84_300, 1 / 111_000  # degrees per metre near 40.8°N


def build(copies: int, state: Path, seed: int = 7):
    """The demo twin with an incident service holding `copies` jittered copies of the demo's incidents."""
    from layers import open_twin
    from twin.incidents.service import IncidentService
    from twin.incidents.store import COLUMNS, SqliteIncidentStore
    from twin.store import default_data_dir

    twin = open_twin(default_data_dir(), state_dir=str(state / "demo"))
    base = twin.incidents.frame()
    rng = np.random.default_rng(seed)
    db = SqliteIncidentStore(state / "bench.sqlite", synchronous="OFF")
    for k in tqdm(range(copies), desc="copies", unit="copy"):
        f = base.copy()
        f["incident_id"] = f["incident_id"] + f"-{k}"
        f["lon"] = f["lon"] + rng.normal(0, 30 * M_LON, len(f))
        f["lat"] = f["lat"] + rng.normal(0, 30 * M_LAT, len(f))
        rows = f[list(COLUMNS)].astype(object).where(f[list(COLUMNS)].notna(), None)
        db.insert_many((dict(zip(COLUMNS, r)) for r in rows.itertuples(index=False, name=None)), actor="bench")
    service = IncidentService(
        twin, db, clock=twin.incidents.clock, deadlines=twin.incidents.deadlines, timezone=twin.incidents.timezone
    )
    return twin, service


def run(copies: int, repeat: int) -> str:
    """Time each report against summarize() of the same incidents; a plain-text table."""
    from twin.incidents.reports import period_report, summarize
    from twin.incidents.sixnos import six_nos
    from twin.times import period_of

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        twin, s = build(copies, Path(tmp))
        print(f"{len(s):,} incidents loaded in {time.perf_counter() - t0:.1f} s")
        today = pd.Timestamp(s.now().tz_convert(s.timezone).date())
        rows = []
        for kind, back in (("weekly", 7), ("monthly", 31), ("quarterly", 92)):
            p = period_of(kind, today - pd.Timedelta(days=back), s.timezone)
            n = len(s.select(start=p.start_utc, end=p.end_utc))
            base = _median_ms(
                lambda: summarize(s.select(start=p.start_utc, end=p.end_utc), s.deadlines, s.now()), repeat
            )
            rep = _median_ms(lambda: period_report(s, p), repeat)
            rows.append((f"{kind} report {p.label}", n, rep, base, rep / base))
            if kind == "quarterly":
                six = _median_ms(lambda: six_nos(s, p), repeat)
                rows.append((f"six-nos {p.label}", n, six, base, six / base))
        s.close()
        twin.incidents.close()
    return table(("figure", "incidents", "median ms", "summarize ms", "ratio"), rows)


def _median_ms(fn, repeat: int) -> float:
    return stats_ms(clock(lambda _: fn(), range(repeat))[0])["median"]


def main(argv=None) -> None:
    """Command line: --copies, --repeat."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=10, help="copies of the demo's year of incidents (default 10)")
    ap.add_argument("--repeat", type=int, default=3, help="timings per figure; the median is shown (default 3)")
    args = ap.parse_args(argv)
    print(run(args.copies, args.repeat))


if __name__ == "__main__":
    main()
