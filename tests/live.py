"""Live servers and a real browser for tests: waitress on 127.0.0.1 in a thread, Debian's Chromium via Playwright."""

from __future__ import annotations

import contextlib
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
                page = context.pages[0] if context.pages else context.new_page()
                page.errors = []
                page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
                page.on("pageerror", lambda e: page.errors.append(str(e)))
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def tiny_app(tmp_path_factory, tokens: list):
    """The app on a fresh copy of the tiny street (tests/tiny.py) with these bearer tokens, state in a temp dir."""
    import json

    from tests.tiny import write_tiny
    from web import create_app

    data = write_tiny(tmp_path_factory.mktemp("tiny"))
    return create_app(
        {"DATA_DIR": str(data), "STATE_DIR": str(tmp_path_factory.mktemp("state")), "TOKENS": json.dumps(tokens)}
    )
