"""Issue 14 item 5: 500 idle or slow clients do not lock others out of a real `twin serve` (waitress's defaults
let 100 connections do it). Real sockets, loopback only, bounded in count and time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.cli.test_serve import STOP_S, Output, free_port

CLIENTS = 500
HANG_GUARD = 30  # seconds a normal request may wait before the test calls it locked out


@pytest.fixture
def serve(tiny_dir, tmp_path):
    """`twin serve` on the tiny street on a free loopback port; killed at the end."""
    port = free_port()
    env = {**os.environ, "TWIN_STATE_DIR": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    code = "import sys; from cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port), "--data", str(tiny_dir)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
    )
    out = Output(proc.stdout)
    out.wait_for(r"http://127\.0\.0\.1:\d+/", proc, 120)
    yield f"http://127.0.0.1:{port}/", port
    proc.terminate()
    proc.wait(timeout=STOP_S)


def test_500_idle_and_slow_clients_do_not_lock_others_out(serve):
    url, port = serve
    held = []
    try:
        for i in range(CLIENTS):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 2:  # a slow client: half a request, then silence
                s.sendall(b"GET /collections HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(s)
        time.sleep(2)  # let the server take them all in
        with urllib.request.urlopen(url + "api/area/places", timeout=HANG_GUARD) as r:
            assert r.status == 200 and "grid" in json.loads(r.read())
        with urllib.request.urlopen(url + "collections", timeout=HANG_GUARD) as r:
            assert r.status == 200
        # the held connections are still open: the answer did not come from dropping them
        alive = 0
        for s in held[::25]:
            s.setblocking(False)
            try:
                alive += s.recv(1) != b""
            except BlockingIOError:
                alive += 1
        assert alive == len(held[::25])
    finally:
        for s in held:
            s.close()
