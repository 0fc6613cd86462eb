"""Bench: district start-up, before (layers read from files, every incident from SQLite) and after (the prepared
snapshot), in one run on one data directory: time to the first answer of `twin serve`, its memory, and `twin query`
(loading the data itself, and with --server asking the running server).

    nice -n 10 python -m bench.startup                       # generates the district into bench/out/district once
    nice -n 10 python -m bench.startup --data DIR --grid CODE

"Before" is the same code with the snapshot switched off (twin.snapshot and the incident snapshot bypassed), which is
the start-up path of the files backend before the snapshot existed. Each server runs in its own process; the first
answer is `GET /collections/buildings/items?bbox=...&limit=10` (a map's first view); memory is the server's resident
set size (VmRSS) right after that answer and again after an area query of one grid (which needs the households).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import table

OUT = Path(__file__).resolve().parent / "out" / "district"
NO_SNAPSHOT = (
    "import twin.snapshot as s; "
    "s.Snapshot.load = lambda *a, **k: None; s.Snapshot.write = lambda *a, **k: None; "
    "import twin.incidents.service as v; v.load_incidents = lambda store: store.load(); "
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def twin_cmd(prelude: str, args: list[str]) -> list[str]:
    return [sys.executable, "-c", f"{prelude}import sys; from cli import main; sys.exit(main({args!r}))"]


def serve(data: Path, prelude: str, bbox: str, grid: str) -> dict:
    """Start `twin serve`, time its first answer, measure memory, then ask for one grid's area figures."""
    port = free_port()
    env = {**os.environ, "TWIN_REFRESH_SECONDS": "3600"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        twin_cmd(prelude, ["serve", "--data", str(data), "--port", str(port)]),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        body = first_answer(proc, f"{url}/collections/buildings/items?bbox={bbox}&limit=10")
        n = len(json.loads(body)["features"])
        first = time.perf_counter() - t0
        mem_first = rss_mb(proc.pid)
        t = time.perf_counter()
        with urllib.request.urlopen(f"{url}/api/area?grid={grid}", timeout=300) as r:
            r.read()
        area_s = time.perf_counter() - t
        t = time.perf_counter()  # `twin query --server`: a fresh process asking this running server
        subprocess.run(twin_cmd("", ["query", "--grid", grid, "--server", url]), check=True, capture_output=True)
        remote = time.perf_counter() - t
        return {
            "first": first,
            "features": n,
            "rss_first": mem_first,
            "area": area_s,
            "rss_area": rss_mb(proc.pid),
            "query_server": remote,
        }
    finally:
        proc.terminate()
        proc.wait(60)


def first_answer(proc, url: str) -> bytes:
    """The body of the first successful GET of `url` from a starting server process (polling every 50 ms)."""
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"twin serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=120) as r:
                return r.read()
        except OSError:
            time.sleep(0.05)


def query(data: Path, prelude: str, grid: str) -> tuple[float, float]:
    """Seconds of one `twin query --grid` (a fresh process): wall clock, and CPU (user + system; on a shared machine
    the wall clock also counts the waits for a core)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(twin_cmd(prelude, ["query", "--data", str(data), "--grid", grid]), check=True, capture_output=True)
    wall, after = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="a district data directory (default: generate one)")
    p.add_argument("--grid", default=None, help="grid code for the area query (default: the first grid)")
    args = p.parse_args(argv)
    os.nice(10) if os.nice(0) < 10 else None
    data = args.data or OUT
    if not (data / "buildings.geojson").exists() and args.data is None:
        subprocess.run(twin_cmd("", ["demo", "--preset", "district", "--out", str(data)]), check=True)
    import geopandas as gpd

    grids = gpd.read_file(data / "grids.geojson")
    grid = args.grid or grids["grid_code"].iloc[0]
    x0, y0, _, _ = grids.total_bounds
    bbox = f"{x0},{y0},{x0 + 0.01},{y0 + 0.01}"
    print("warming up: the incident store is seeded and the snapshot written once ...", flush=True)
    query(data, "", grid)
    rows = []
    for label, prelude in (("before (files)", NO_SNAPSHOT), ("after (snapshot)", "")):
        s = serve(data, prelude, bbox, grid)
        q, cpu = query(data, prelude, grid)
        rows.append([label, s["first"], s["rss_first"], s["area"], s["rss_area"], q, cpu, s["query_server"]])
        print(f"{label}: {s}  query {q:.1f} s ({cpu:.1f} s CPU)", flush=True)
    heads = ["start", "first answer s", "RSS MB", "grid area s", "RSS after area MB", "twin query s", "CPU s"]
    heads.append("--server s")
    print(table(heads, rows))
    b, a = rows
    print(
        f"first answer x{b[1] / a[1]:.1f} faster; RSS at first answer x{b[2] / a[2]:.1f} smaller; "
        f"twin query x{b[5] / a[5]:.1f} faster"
    )


if __name__ == "__main__":
    main()
