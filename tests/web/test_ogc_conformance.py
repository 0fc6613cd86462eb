"""The OGC API – Features conformance suite (PyPI `ogctests`, scope features/core, 29 abstract tests) against a
live `twin serve` of the tiny street, with one reported incident so every collection has features.

The suite pins its own dependencies (pytest<9, httpx<0.28, pyarrow<18), so it runs in a virtual environment of its
own, made once and kept in OGCTESTS_VENV (default ~/.cache/community-twin/ogctests-VERSION); making it needs PyPI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from tests.live import twin_serve

pytestmark = pytest.mark.slow

OGCTESTS = "ogctests==0.1.15"
CORE_TESTS = 29


def suite_python() -> Path:
    """The Python of the suite's own virtual environment, made (and the suite installed) on first use."""
    default = Path.home() / ".cache" / "community-twin" / OGCTESTS.replace("==", "-")
    venv = Path(os.environ.get("OGCTESTS_VENV", default))
    python = venv / "bin" / "python"
    if not (venv / "ok").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", OGCTESTS], check=True, timeout=900)
        (venv / "ok").write_text(OGCTESTS)
    return python


def serve_command(data_dir) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from cli import main; sys.exit(main(sys.argv[1:]))",
        "serve",
        "--data",
        str(data_dir),
    ]


def test_ogc_features_core_suite_passes_29_of_29(tiny_dir, tmp_path):
    python = suite_python()
    suite = subprocess.run(
        [str(python), "-c", "import ogctests, os; print(os.path.dirname(ogctests.__file__))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with twin_serve(serve_command(tiny_dir), env={"STATE_DIR": str(tmp_path / "state")}) as base:
        r = requests.post(
            f"{base}/open311/v2/requests.json",
            data={"lat": "40.8011", "long": "114.8808", "service_code": "garbage", "description": "楼道堆物"},
            timeout=30,
        )
        assert r.status_code in (200, 201), r.text
        report = tmp_path / "ogctests.xml"
        run = subprocess.run(
            [
                str(python),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junit-xml={report}",
                "--rootdir",
                str(tmp_path),
                f"{suite}/features/core",
            ],
            env={**os.environ, "INSTANCE_URL": base, "PYTHONPATH": ""},
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=600,
        )
    suite_result = ET.parse(report).getroot()
    suite_result = suite_result if suite_result.tag == "testsuite" else suite_result.find("testsuite")
    counts = {k: int(suite_result.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": CORE_TESTS, "failures": 0, "errors": 0, "skipped": 0}, (
        json.dumps(counts) + "\n" + run.stdout[-4000:]
    )
