"""`twin serve` as a user runs it: a subprocess on the demo street that prints its URL, answers, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

STARTUP_S = 120  # loads the demo street and imports its year of incidents into a fresh SQLite store
STOP_S = 60


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Output:
    """Collects a pipe's lines in a thread, so reading never blocks the test."""

    def __init__(self, pipe):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._thread.start()

    def _pump(self, pipe):
        for line in pipe:
            self.lines.append(line)

    def wait_for(self, pattern: str, proc, timeout: float) -> re.Match:
        """The first match of `pattern` in the output, waiting up to `timeout` seconds; fails if the process ends."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"no {pattern!r} in the output of `twin serve` (exit code {proc.poll()}): {''.join(self.lines)}")

    def text(self) -> str:
        self._thread.join(timeout=5)
        return "".join(self.lines)


@pytest.fixture
def server(tmp_path):
    """`twin serve --port P` on the built-in demo street, its live state in tmp_path; killed if a test fails."""
    port = free_port()
    env = {**os.environ, "TWIN_STATE_DIR": str(tmp_path / "state"), "PYTHONUNBUFFERED": "1"}
    env.pop("TWIN_DATA_DIR", None)
    code = "import sys; from cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
    )
    out, err = Output(proc.stdout), Output(proc.stderr)
    yield proc, port, out, err
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=STOP_S)


def started(server) -> str:
    """Wait for the URL line and check it names the requested port; the URL."""
    proc, port, out, err = server
    m = out.wait_for(r"(http://127\.0\.0\.1:(\d+)/)", proc, STARTUP_S)
    url = m.group(1)
    assert int(m.group(2)) == port
    return url


def stops_cleanly(server, url: str, sig) -> None:
    """Send `sig`; the process must exit 0 within STOP_S, without a traceback, and stop listening."""
    proc, port, out, err = server
    proc.send_signal(sig)
    code = proc.wait(timeout=STOP_S)  # a hang guard: the server must stop by itself, not be killed
    assert code == 0, err.text()
    stderr = err.text()
    assert "Traceback" not in stderr, stderr
    assert "Stopped." in out.text()
    with pytest.raises(OSError):  # nobody listens any more
        urllib.request.urlopen(url, timeout=5)


def test_serve_prints_url_answers_and_stops_on_ctrl_c(server):
    url = started(server)
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        landing = json.loads(r.read())
    assert {"self", "service-desc", "conformance", "data"} <= {link["rel"] for link in landing["links"]}
    with urllib.request.urlopen(url + "collections/buildings/items?limit=1", timeout=30) as r:
        assert r.status == 200
        assert b'"numberMatched":475' in r.read().replace(b" ", b"")  # the demo street's buildings
    stops_cleanly(server, url, signal.SIGINT)


def test_serve_stops_cleanly_on_sigterm(server):
    stops_cleanly(server, started(server), signal.SIGTERM)


def test_serve_refuses_a_missing_data_directory(tmp_path):
    code = "import sys; from cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "serve", "--port", str(free_port()), "--data", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
