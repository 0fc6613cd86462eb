"""Durability: SIGKILL the real server while 200 Open311 POSTs (or 160 stage changes) are in flight; after a restart
every acknowledged write is there exactly once, and each incident's row agrees with its history.

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

from tests.postgres import BACKENDS  # noqa: F401 - tests taking `backend` run on both backends

pytestmark = pytest.mark.slow

N = 200
KILL_AFTER = 40  # acknowledged requests before the kill: the rest are queued or being served
M = 160  # incidents whose acceptance is in flight at the kill
SERVING = re.compile(r"Serving the community twin on (http://\S+?)/? ")


def start_server(data_dir, state_dir, log_path):
    """`twin serve` on a free port with its state in `state_dir`; returns (process, base URL) once it listens."""
    env = dict(os.environ, TWIN_STATE_DIR=str(state_dir), TWIN_PORT="0", TWIN_THREADS="8", PYTHONUNBUFFERED="1")
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; raise SystemExit(main())", "serve", "--data", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
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


def kill_during(proc, calls, ok: int, kill_after: int) -> dict:
    """Run every `calls[i]()` in its own thread at once; SIGKILL `proc` once `kill_after` answered `ok`.

    Returns {i: (status, json body)} or {i: ("error", exception name)} for calls the kill cut off.
    """
    results: dict[int, tuple] = {}
    barrier = threading.Barrier(len(calls))

    def run(i):
        barrier.wait()
        try:
            r = calls[i]()
            results[i] = (r.status_code, r.json())
        except (requests.RequestException, ValueError) as exc:
            results[i] = ("error", type(exc).__name__)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while sum(1 for s, _ in list(results.values()) if s == ok) < kill_after and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for t in threads:
        t.join(timeout=90)
    assert len(results) == len(calls)
    failed = [i for i, (status, _) in results.items() if status != ok]
    assert all(results[i][0] == "error" for i in failed), "only the kill may fail a call"
    assert sum(1 for s, _ in results.values() if s == ok) >= kill_after and failed, (
        "the kill must land while calls are in flight"
    )
    return results


def post_call(base, i):
    """A POST of request `crash-i` (a unique token in its description)."""
    data = {"service_code": "garbage", "lat": "40.8011", "long": "114.8808", "description": f"楼道杂物 crash-{i:03d}"}
    return lambda: requests.post(f"{base}/open311/v2/requests.json", data=data, timeout=60)


def test_sigkill_during_200_concurrent_posts_loses_and_duplicates_nothing(tiny_dir, tmp_path):
    state = tmp_path / "state"
    proc, base = start_server(tiny_dir, state, tmp_path / "server-1.log")
    results = kill_during(proc, [post_call(base, i) for i in range(N)], 201, KILL_AFTER)
    acked = {i: body[0]["service_request_id"] for i, (status, body) in results.items() if status == 201}
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
        per = db.execute(
            "SELECT h.incident_id, count(*) FROM history h LEFT JOIN incidents i "
            "USING (incident_id) WHERE h.action = 'report' AND i.seq IS NOT NULL "
            "GROUP BY h.incident_id"
        ).fetchall()
        n_hist = db.execute("SELECT count(*) FROM history").fetchone()[0]
    assert n_inc == len(listed) == len(per) == n_hist and all(c == 1 for _, c in per)


def test_sigkill_during_concurrent_stage_changes_keeps_every_acknowledged_one(
    tiny_dir, tmp_path, monkeypatch, backend, request
):
    state, staff = tmp_path / "state", {"Authorization": "Bearer crash-staff"}
    if backend == "postgres":  # the same guarantee with the live tables in PostgreSQL
        monkeypatch.setenv("TWIN_DATABASE_URL", request.getfixturevalue("tiny_database_url"))
    monkeypatch.setenv("TWIN_TOKENS", '[{"role": "staff", "token": "crash-staff", "name": "李网格"}]')
    proc, base = start_server(tiny_dir, state, tmp_path / "server-1.log")
    with requests.Session() as http:
        ids = [
            http.post(
                f"{base}/open311/v2/requests.json",
                timeout=30,
                data={"service_code": "garbage", "lat": "40.8011", "long": "114.8808"},
            ).json()[0]["service_request_id"]
            for _ in range(M)
        ]
    accept = [
        (
            lambda rid=rid: requests.post(
                f"{base}/api/incidents/{rid}/actions", data={"action": "accept"}, headers=staff, timeout=60
            )
        )
        for rid in ids
    ]
    results = kill_during(proc, accept, 200, M // 8)
    proc, base = start_server(tiny_dir, state, tmp_path / "server-2.log")
    try:
        stages = {
            rid: requests.get(f"{base}/open311/v2/requests/{rid}.json", timeout=30).json()[0]["extended_attributes"][
                "stage"
            ]
            for rid in ids
        }
        history = {
            rid: [
                e["action"]
                for e in requests.get(f"{base}/api/incidents/{rid}/history", headers=staff, timeout=30).json()
            ]
            for rid in ids
        }
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    for i, rid in enumerate(ids):
        if results[i][0] == 200:
            assert stages[rid] == "accepted" and history[rid] == ["report", "accept"], rid
        else:  # cut off by the kill: committed or not, the row and its history agree
            assert (stages[rid], history[rid]) in [("reported", ["report"]), ("accepted", ["report", "accept"])]


B, PER = 40, 10  # batches in flight at the kill, and requests in each


def test_sigkill_during_concurrent_batches_keeps_each_batch_whole_or_absent(
    tiny_dir, tmp_path, monkeypatch, backend, request
):
    """40 batches of 10 requests in flight (a hotline forwarder's), SIGKILL after 8 answered: after a restart every
    answered batch is there in full with the ids it was given, and every other batch is there in full or not at all."""
    state, hotline = tmp_path / "state", {"Authorization": "Bearer crash-hotline"}
    url = request.getfixturevalue("tiny_database_url") if backend == "postgres" else None
    if url:  # the same guarantee with the live tables in PostgreSQL
        monkeypatch.setenv("TWIN_DATABASE_URL", url)
    monkeypatch.setenv("TWIN_TOKENS", '[{"role": "staff", "token": "crash-hotline", "name": "12345热线"}]')
    proc, base = start_server(tiny_dir, state, tmp_path / "server-1.log")

    def batch_call(b):
        items = [
            {"service_code": "garbage", "lat": "40.8011", "long": "114.8808", "description": f"楼道杂物 b{b:02d}-{i}"}
            for i in range(PER)
        ]
        return lambda: requests.post(f"{base}/open311/v2/requests/batch.json", json=items, headers=hotline, timeout=60)

    results = kill_during(proc, [batch_call(b) for b in range(B)], 201, B // 5)
    acked = {b: [a["service_request_id"] for a in body] for b, (status, body) in results.items() if status == 201}
    proc, base = start_server(tiny_dir, state, tmp_path / "server-2.log")
    try:
        listed = requests.get(f"{base}/open311/v2/requests.json?page_size=1000", timeout=30).json()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    found = collections.defaultdict(dict)  # batch -> {item: request id}
    for x in listed:
        b, i = map(int, re.search(r"b(\d{2})-(\d+)$", x["description"]).groups())
        assert i not in found[b], "a request was stored twice"
        found[b][i] = x["service_request_id"]
    for b in range(B):
        assert len(found.get(b, {})) in (0, PER), f"batch {b} is half there: {sorted(found[b])}"
        if b in acked:
            assert [found[b].get(i) for i in range(PER)] == acked[b], f"answered batch {b} was lost or changed"
    n_inc, n_hist = stored_counts(state, url)
    assert n_inc == n_hist == len(listed) == PER * len(found)


def stored_counts(state, url) -> tuple[int, int]:
    """(incidents, 'report' history events) as stored: in the SQLite state file, or in PostgreSQL at `url`."""
    queries = ("SELECT count(*) FROM incidents", "SELECT count(*) FROM history WHERE action = 'report'")
    if url is None:
        with sqlite3.connect(state / "twin.sqlite") as db:
            return tuple(db.execute(q).fetchone()[0] for q in queries)
    import psycopg

    with psycopg.connect(url) as db:
        return tuple(db.execute(q).fetchone()[0] for q in queries)
