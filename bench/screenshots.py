"""Regenerate docs/dashboard-zh.png and docs/dashboard-en.png: the wall dashboard on the demo street, 1600x900.

    python -m bench.screenshots [--out docs] [--data DIR]

Serves the demo street (incident state in a temporary directory, so the demo's year ends today) and photographs
the page in headless Debian Chromium once the map has drawn: Chinese coloured by property-management state,
English coloured by risk level.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.live import chromium_page, live_server
from web import create_app

SIZE = (1600, 900)
SHOTS = (
    ("dashboard-zh.png", "?lang=zh&mode=property&pulse=0", "zh-CN"),
    ("dashboard-en.png", "?lang=en&mode=risk&pulse=0", "en-GB"),
)


def shoot(out: Path, data: str | None = None) -> list[Path]:
    """Take both screenshots into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="twin-shots-") as state:
        cfg = {"STATE_DIR": state, **({"DATA_DIR": data} if data else {})}
        with live_server(create_app(cfg)) as base:
            for name, query, locale in SHOTS:
                with chromium_page(viewport=SIZE, locale=locale) as page:
                    page.goto(base + "/dashboard" + query)
                    page.wait_for_function(
                        "window.twinDashboard && twinDashboard.drawnAt && twinDashboard.kpis", timeout=60000
                    )
                    page.wait_for_timeout(1500)  # fonts of the grid codes, last frame
                    if page.errors:
                        raise RuntimeError(f"{name}: the page logged errors: {page.errors}")
                    path = out / name
                    page.screenshot(path=str(path))
                    written.append(path)
                    print(f"wrote {path}")
    return written


def main(argv=None) -> None:
    """Command line: --out (docs) and --data (the built-in demo street when absent)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    ap.add_argument("--data", default=None, help="data directory (default: the built-in demo street)")
    args = ap.parse_args(argv)
    shoot(args.out, args.data)


if __name__ == "__main__":
    main()
