"""Live servers and a real browser for tests: waitress on 127.0.0.1 in a thread, Debian's Chromium via Playwright."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import threading

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


@contextlib.contextmanager
def live_server(app, threads: int = 8):
    """Serve `app` with waitress on a free loopback port in a background thread; yield its base URL."""
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads, ident="twin-test")
    stopping = threading.Event()

    def run():
        try:
            server.run()
        except OSError:
            # closing the sockets from this side interrupts the select() of the serving loop; only then expected
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        server.close()
        thread.join(timeout=10)


def _predicates_without_eval(page) -> None:
    """Let wait_for_function take plain expressions under the pages' CSP (no 'unsafe-eval'): Playwright evaluates
    an expression with eval in the page, a function it passes as a function, so expressions become arrow functions."""
    plain = page.wait_for_function

    def wait_for_function(expression, *args, **kwargs):
        if isinstance(expression, str) and not re.match(
            r"\s*(async\s+)?(function\b|\(?[\w\s,\[\]{}]*\)?\s*=>)", expression
        ):
            expression = f"() => ({expression})"
        return plain(expression, *args, **kwargs)

    page.wait_for_function = wait_for_function


@contextlib.contextmanager
def chromium_page(viewport=(1600, 900), locale: str = "zh-CN"):
    """A Playwright page in headless Debian Chromium with a fresh profile; collects console errors in page.errors."""
    from playwright.sync_api import sync_playwright

    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package (see README, Tests)")
    profile = tempfile.mkdtemp(prefix="twin-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
                locale=locale,
            )
            try:
                context.on("page", _predicates_without_eval)  # pages a test opens later in the context too
                page = context.pages[0] if context.pages else context.new_page()
                _predicates_without_eval(page)
                page.errors = []
                page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
                page.on("pageerror", lambda e: page.errors.append(str(e)))
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def twin_serve(command: list[str], env: dict | None = None, timeout: float = 120, cwd=None):
    """Run `twin serve --port 0 ...` (`command`) as a subprocess; yield its base URL once it says it is serving.

    `env` is a whole environment when it has PATH, else variables laid over this process's environment.
    """
    import os
    import re
    import subprocess

    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env if env and "PATH" in env else {**os.environ, **(env or {})},
        cwd=cwd,
    )
    lines: list[str] = []
    found = threading.Event()
    base: list[str] = []

    def read():
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"Serving the community twin on (http://[\d.]+:\d+)/", line)
            if m and not found.is_set():
                base.append(m.group(1))
                found.set()
        found.set()

    reader = threading.Thread(target=read, name="twin-serve-output", daemon=True)
    reader.start()
    try:
        found.wait(timeout)
        if not base:
            raise RuntimeError(f"twin serve did not start: {''.join(lines)[-3000:]}")
        yield base[0]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tiny_app(tmp_path_factory, tokens: list):
    """The app on a fresh copy of the tiny street (tests/tiny.py) with these bearer tokens, state in a temp dir."""
    import json

    from tests.tiny import write_tiny
    from web import create_app

    data = write_tiny(tmp_path_factory.mktemp("tiny"))
    return create_app(
        {"DATA_DIR": str(data), "STATE_DIR": str(tmp_path_factory.mktemp("state")), "TOKENS": json.dumps(tokens)}
    )
