"""Durability: SIGKILL the real server while 200 Open311 POSTs are in flight; every acknowledged one survives once.

The server is `twin serve` in a subprocess (waitress, the production setup) on the tiny street, its SQLite state
in tmp_path. Each POST carries a unique token in its description, so after the restart we can count them.
"""
from __future__ import annotations

import collections
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.slow

N = 200
KILL_AFTER = 40            # acknowledged requests before the kill: the rest are queued or being served
SERVING = re.compile(r"Serving the community twin on (http://\S+?)/? ")


def start_server(data_dir, state_dir, log_path):
    """`twin serve` on a free port with its state in `state_dir`; returns (process, base URL) once it listens."""
    env = dict(os.environ, TWIN_STATE_DIR=str(state_dir), TWIN_PORT="0", TWIN_THREADS="8", PYTHONUNBUFFERED="1")
    log = open(log_path, "ab")
    proc = subprocess.Popen([sys.executable, "-c", "from twin.cli import main; raise SystemExit(main())",
                             "serve", "--data", str(data_dir)], stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        m = SERVING.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def fire(base, i, barrier, results):
    """POST one request with token `crash-i` once every thread is ready; record (status, id) or the exception."""
    data = {"service_code": "garbage", "lat": "40.8011", "long": "114.8808", "description": f"楼道杂物 crash-{i:03d}"}
    barrier.wait()
    try:
        r = requests.post(f"{base}/open311/v2/requests.json", data=data, timeout=60)
        rid = r.json()[0].get("service_request_id") if r.status_code == 201 else None
        results[i] = (r.status_code, rid)
    except (requests.RequestException, ValueError) as exc:
        results[i] = ("error", type(exc).__name__)


def test_sigkill_during_200_concurrent_posts_loses_and_duplicates_nothing(tiny_dir, tmp_path):
    state = tmp_path / "state"
    proc, base = start_server(tiny_dir, state, tmp_path / "server-1.log")
    results: dict[int, tuple] = {}
    barrier = threading.Barrier(N)
    threads = [threading.Thread(target=fire, args=(base, i, barrier, results), daemon=True) for i in range(N)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while sum(1 for s, _ in list(results.values()) if s == 201) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for t in threads:
        t.join(timeout=90)
    assert len(results) == N
    acked = {i: rid for i, (status, rid) in results.items() if status == 201}
    failed = [i for i, (status, _) in results.items() if status != 201]
    assert all(results[i][0] == "error" for i in failed), "only the kill may fail a request"
    assert len(acked) >= KILL_AFTER and failed, "the kill must land while requests are in flight"
    assert len(set(acked.values())) == len(acked)

    proc, base = start_server(tiny_dir, state, tmp_path / "server-2.log")
    try:
        for i, rid in acked.items():
            r = requests.get(f"{base}/open311/v2/requests/{rid}.json", timeout=30)
            assert r.status_code == 200, f"acknowledged request {rid} (crash-{i:03d}) was lost"
            [got] = r.json()
            assert got["description"].endswith(f"crash-{i:03d}")
        listed = requests.get(f"{base}/open311/v2/requests.json?page_size=1000", timeout=30).json()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    tokens = collections.Counter(re.search(r"crash-\d{3}", x["description"]).group(0) for x in listed)
    assert max(tokens.values()) == 1, "a request was stored twice"
    assert {f"crash-{i:03d}" for i in acked} <= set(tokens)
    assert len(listed) <= N and len({x["service_request_id"] for x in listed}) == len(listed)
    # the history agrees with the incidents: exactly one "report" event per stored incident, none dangling
    with sqlite3.connect(state / "twin.sqlite") as db:
        n_inc = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
        per = db.execute("SELECT h.incident_id, count(*) FROM history h LEFT JOIN incidents i "
                         "USING (incident_id) WHERE h.action = 'report' AND i.seq IS NOT NULL "
                         "GROUP BY h.incident_id").fetchall()
        n_hist = db.execute("SELECT count(*) FROM history").fetchone()[0]
    assert n_inc == len(listed) == len(per) == n_hist and all(c == 1 for _, c in per)
