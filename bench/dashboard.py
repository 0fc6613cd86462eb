"""Wall dashboard: bytes sent and time until the map has drawn, plain GeoJSON against the binary transport.

    python -m bench.dashboard [--runs 3] [--buildings 50000] [--out bench/out]

Two data sets: the demo street (data/demo) and a district of at least --buildings buildings (the first communities
of `twin demo --preset district --seed 7`, written once to bench/out/district-<N>). For each, one server; the page is
opened in headless Debian Chromium (fresh profile, so nothing is cached) with ?transport=geojson and with the
binary transport (buildings.bin), --runs times each, alternating. Measured in the same run:

- bytes: each /api/dashboard/ response the page loads, raw (decoded body) and as sent (gzip, as the browser
  accepts it), from the page's Resource Timing entries; the buildings payload and the page total;
- data ready: ms from navigation start until the buildings are fetched and decoded (twinDashboard.dataAt), and the
  fetch of the buildings payload alone (Resource Timing);
- time to map: ms from navigation start to the first deck.gl frame with the buildings layer loaded
  (window.twinDashboard.drawnAt, set in onAfterRender), median over runs. Server-side encodings are made before
  timing (one warm-up load), as on a running server where they are cached per data version.

Prints a table and ratios (GeoJSON / binary) and writes bench/out/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from tests.live import chromium_page, live_server
from web import create_app

ROOT = Path(__file__).resolve().parents[1]
TRANSPORTS = ("geojson", "binary")
BUILDINGS_URL = {"geojson": "buildings.geojson", "binary": "buildings.bin"}


def district(n_buildings: int, out: Path) -> Path:
    """A data directory with the first communities of the seed-7 district holding >= n_buildings buildings."""
    target = out / f"district-{n_buildings}"
    if (target / "incidents.csv").exists():
        return target
    from ingest.demo import generate, write

    frames = generate(seed=7, preset="district", progress=True)
    counts = frames["buildings"]["community_id"].value_counts().sort_index().cumsum()
    keep = set(counts.index[: int((counts < n_buildings).sum()) + 1])
    sub = {}
    for name, frame in frames.items():
        if "community_id" in frame.columns:
            sub[name] = frame[frame["community_id"].isin(keep)]
        else:
            sub[name] = frame
    sub["households"] = frames["households"][frames["households"]["building_id"].isin(sub["buildings"]["building_id"])]
    write(sub, target)
    return target


def load_once(page, url: str) -> dict:
    """Open `url` in `page`; the time to map and the bytes of every /api/dashboard/ response."""
    page.goto(url)
    page.wait_for_function("window.twinDashboard && twinDashboard.drawnAt && twinDashboard.kpis", timeout=600_000)
    entries = page.evaluate("""performance.getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/dashboard/'))
        .map((e) => ({name: e.name.split('/api/dashboard/')[1], raw: e.decodedBodySize, sent: e.encodedBodySize,
                      ms: e.responseEnd - e.startTime}))""")
    return {
        "drawn_ms": page.evaluate("twinDashboard.drawnAt"),
        "data_ms": page.evaluate("twinDashboard.dataAt"),
        "entries": entries,
        "buildings": page.evaluate(
            "twinDashboard.counts.classes.reduce((a, b) => a + b, 0) + twinDashboard.counts.unknown"
        ),
    }


def measure(data_dir: Path | None, label: str, runs: int) -> list[dict]:
    """Rows of one data set: per transport, bytes and median time to map over `runs` fresh page loads."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as state:
        t0 = time.perf_counter()
        app = create_app(
            {"STATE_DIR": state, "REFRESH_SECONDS": 3600, **({"DATA_DIR": str(data_dir)} if data_dir else {})}
        )
        client = app.test_client()
        encode = {}
        for name in ("buildings.bin", "buildings.geojson", "risk.bin", "incidents.bin", "grids.json", "kpis"):
            t = time.perf_counter()
            client.get("/api/dashboard/" + name)
            encode[name] = round(time.perf_counter() - t, 2)
        setup_s = time.perf_counter() - t0
        results = {tr: [] for tr in TRANSPORTS}
        with live_server(app) as base:
            steps = tqdm(total=runs * len(TRANSPORTS) + 1, desc=f"{label}: page loads", unit="load")
            with chromium_page() as page:  # warm-up: the browser's own caches of fonts, deck.gl compile paths
                load_once(page, base + "/dashboard?pulse=0")
            steps.update()
            for _ in range(runs):
                for tr in TRANSPORTS:
                    with chromium_page() as page:
                        results[tr].append(load_once(page, f"{base}/dashboard?pulse=0&transport={tr}"))
                        if page.errors:
                            raise RuntimeError(f"{label} {tr}: the page logged errors: {page.errors}")
                    steps.update()
            steps.close()
        for tr in TRANSPORTS:
            first = results[tr][0]
            entries = {e["name"]: e for e in first["entries"]}
            b = entries[BUILDINGS_URL[tr]]
            rows.append(
                {
                    "data": label,
                    "transport": tr,
                    "buildings": first["buildings"],
                    "buildings_raw": b["raw"],
                    "buildings_sent": b["sent"],
                    "total_raw": sum(e["raw"] for e in entries.values()),
                    "total_sent": sum(e["sent"] for e in entries.values()),
                    "drawn_ms": round(statistics.median(r["drawn_ms"] for r in results[tr])),
                    "drawn_ms_runs": [round(r["drawn_ms"]) for r in results[tr]],
                    "data_ms": round(statistics.median(r["data_ms"] for r in results[tr])),
                    "buildings_fetch_ms": round(
                        statistics.median(
                            next(e["ms"] for e in r["entries"] if e["name"] == BUILDINGS_URL[tr]) for r in results[tr]
                        )
                    ),
                    "server_setup_s": round(setup_s, 1),
                    "server_encode_s": encode,
                }
            )
    return rows


def main(argv=None) -> None:
    """Command line: run both data sets, print the table and ratios, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="page loads per transport and data set (median reported)")
    ap.add_argument("--buildings", type=int, default=50_000, help="buildings of the district data set")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = measure(None, "demo street", args.runs)
    rows += measure(district(args.buildings, args.out), f"district {args.buildings // 1000}k", args.runs)
    table = pd.DataFrame(rows)
    cols = [
        "data",
        "transport",
        "buildings",
        "buildings_raw",
        "buildings_sent",
        "total_raw",
        "total_sent",
        "buildings_fetch_ms",
        "data_ms",
        "drawn_ms",
        "drawn_ms_runs",
    ]
    print(table[cols].to_string(index=False))
    for data, g in table.groupby("data", sort=False):
        gj, bi = g.set_index("transport").loc["geojson"], g.set_index("transport").loc["binary"]
        print(
            f"{data}: GeoJSON/binary  buildings raw x{gj.buildings_raw / bi.buildings_raw:.1f}, "
            f"sent (gzip) x{gj.buildings_sent / bi.buildings_sent:.1f}, page total sent "
            f"x{gj.total_sent / bi.total_sent:.1f}, "
            f"buildings fetch x{gj.buildings_fetch_ms / bi.buildings_fetch_ms:.2f}, "
            f"data ready x{gj.data_ms / bi.data_ms:.2f}, time to map x{gj.drawn_ms / bi.drawn_ms:.2f}"
        )
    path = args.out / "dashboard.json"
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
