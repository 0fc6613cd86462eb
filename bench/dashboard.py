"""Wall dashboard at district scale: orbit frames per second and first frame, district against street in one run;
bytes of the page and of the incidents' year; optionally plain GeoJSON against the binary transport.

    nice -n 10 python -m bench.dashboard [--district /tmp/district] [--seconds 10] [--out bench/out]
    nice -n 10 python -m bench.dashboard --transports [--runs 3] [--buildings 50000]

Default (wall): two servers, the demo street and the whole district (`twin demo --preset district --out DIR`, made
in bench/out/district when --district is not given; its year is rebased to end now like the street's). For each,
one headless Chromium page at 1920x1080 (software WebGL, so only ratios mean anything) opens /dashboard as a wall
would (default options: the overdue pulse wherever the page runs it) and measures:

- first frame: ms from navigation start to the first deck.gl frame with the buildings drawn (twinDashboard.drawnAt);
- idle frames/s: deck.gl frames drawn per second over --seconds with nobody touching the page;
- orbit frames/s: the camera turned one degree per animation frame (set as the view state from a
  requestAnimationFrame loop), frames deck.gl drew per second over --seconds;
- bytes: every response of the page load as sent (Resource Timing encodedBodySize; static assets included) and
  /api/dashboard/incidents.bin and timeline.bin raw and gzipped (the year of incidents for the time bar).

TARGET: orbit frames/s district / street >= 0.5. Writes bench/out/dashboard-wall.json. The script drives the page
only through deck.gl and Twin.currentMap(), so it also measures an older checkout (PYTHONPATH=/path/to/old) for the
"before" figures (the timeline does not exist there).

--transports (the earlier comparison):

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
import gzip
import json
import statistics
import subprocess
import sys
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
TARGET = 0.5  # orbit frames/s, district / street
WALL = (1920, 1080)

# Frames deck.gl draws, counted by wrapping the page's onAfterRender; `orbit` turns the camera one degree per
# animation frame for `ms` milliseconds (0: leave it alone) and resolves to {frames, ms}.
MEASURE = """async ([ms, orbit]) => {
  const map = Twin.currentMap();
  let frames = 0;
  const own = map.props.onAfterRender;
  map.setProps({ onAfterRender: (...a) => { frames++; if (own) own(...a); } });
  const vp = map.getViewports()[0];
  let view = { longitude: vp.longitude, latitude: vp.latitude, zoom: vp.zoom, pitch: vp.pitch, bearing: vp.bearing };
  const t0 = performance.now();
  await new Promise((done) => {
    const step = () => {
      if (performance.now() - t0 >= ms) { done(); return; }
      if (orbit) { view = { ...view, bearing: view.bearing + 1 }; map.setProps({ viewState: view }); }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  const elapsed = performance.now() - t0;
  map.setProps({ onAfterRender: own });
  return { frames, ms: elapsed };
}"""


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


# --- the wall: frames per second at district scale against the street --------------------------------------------
def whole_district(out: Path) -> Path:
    """The whole district preset written by `twin demo` into `out` (once)."""
    if not (out / "incidents.csv").exists():
        cmd = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main(sys.argv[1:]))"]
        subprocess.run([*cmd, "demo", "--preset", "district", "--out", str(out)], check=True)
    return out


def sizes(client, name: str) -> dict | None:
    """Raw and gzipped bytes of /api/dashboard/<name> (None when the server has no such endpoint)."""
    r = client.get("/api/dashboard/" + name, headers={"Accept-Encoding": "identity"})
    if r.status_code != 200:
        return None
    return {"raw": len(r.data), "gzip": len(gzip.compress(r.data, 6, mtime=0))}


def wall(data_dir: Path | None, label: str, seconds: float) -> dict:
    """First frame, idle and orbit frames/s, and bytes of one data set (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="twin-bench-") as state:
        t0 = time.perf_counter()
        app = create_app(
            {"STATE_DIR": state, "REFRESH_SECONDS": 3600, **({"DATA_DIR": str(data_dir)} if data_dir else {})}
        )
        client = app.test_client()
        row = {
            "data": label,
            "incidents.bin": sizes(client, "incidents.bin"),
            "timeline.bin": sizes(client, "timeline.bin"),
        }
        for name in ("buildings.bin", "risk.bin", "grids.json", "kpis"):
            client.get("/api/dashboard/" + name)  # encoded once, as on a running server
        row["server_setup_s"] = round(time.perf_counter() - t0, 1)
        with live_server(app) as base, chromium_page(viewport=WALL) as page:
            page.goto(base + "/dashboard")
            page.wait_for_function(
                "window.twinDashboard && twinDashboard.drawnAt && twinDashboard.kpis", timeout=900_000
            )
            row["first_frame_ms"] = round(page.evaluate("twinDashboard.drawnAt"))
            row["buildings"] = page.evaluate(
                "twinDashboard.counts.classes.reduce((a, b) => a + b, 0) + twinDashboard.counts.unknown"
            )
            page.wait_for_timeout(3000)  # the timeline and labels arrive after the first frame
            row["page_sent"] = page.evaluate(
                "performance.getEntriesByType('resource').reduce((n, e) => n + e.encodedBodySize, 0)"
                " + performance.getEntriesByType('navigation').reduce((n, e) => n + e.encodedBodySize, 0)"
            )
            row["deckgl_sent"] = page.evaluate(
                "performance.getEntriesByType('resource').filter((e) => e.name.includes('/vendor/deckgl'))"
                ".reduce((n, e) => n + e.encodedBodySize, 0)"
            )
            for key, orbit in (("idle", False), ("orbit", True)):
                m = page.evaluate(MEASURE, [seconds * 1000, orbit])
                row[f"{key}_fps"] = round(m["frames"] / (m["ms"] / 1000), 2)
                row[f"{key}_frames"] = m["frames"]
            if page.errors:
                raise RuntimeError(f"{label}: the page logged errors: {page.errors}")
    return row


def main(argv=None) -> None:
    """Command line: the wall comparison (default) or the transport comparison (--transports)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transports", action="store_true", help="compare plain GeoJSON with the binary transport")
    ap.add_argument("--district", type=Path, default=None, help="the `twin demo --preset district` output to use")
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of idle and of orbit measured per data set")
    ap.add_argument("--runs", type=int, default=3, help="--transports: page loads per transport and data set")
    ap.add_argument("--buildings", type=int, default=50_000, help="--transports: buildings of the district data set")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.transports:
        rows = [wall(None, "demo street", args.seconds)]
        rows.append(wall(whole_district(args.district or args.out / "district"), "district", args.seconds))
        table = pd.DataFrame(rows)
        cols = [
            "data",
            "buildings",
            "first_frame_ms",
            "idle_fps",
            "orbit_fps",
            "orbit_frames",
            "page_sent",
            "deckgl_sent",
        ]
        print(table[cols].to_string(index=False))
        for r in rows:
            print(f"{r['data']}: incidents.bin {r['incidents.bin']}, timeline.bin (the year) {r['timeline.bin']}")
        street, dist = rows
        ratio = dist["orbit_fps"] / street["orbit_fps"] if street["orbit_fps"] else float("nan")
        verdict = "met" if ratio >= TARGET else "NOT met"
        print(
            f"orbit frames/s district/street {ratio:.2f} (target >= {TARGET}: {verdict}); "
            f"first frame district/street x{dist['first_frame_ms'] / street['first_frame_ms']:.2f}"
        )
        path = args.out / "dashboard-wall.json"
        path.write_text(json.dumps({"rows": rows, "orbit_ratio": ratio, "target": TARGET}, indent=1), encoding="utf-8")
        print(f"wrote {path}")
        return
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
