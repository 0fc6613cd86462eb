"""A plain (non-editable) install serves the demo: build the wheel, install it into a fresh venv, `twin serve`.

The venv reuses this environment's packages (--system-site-packages) and installs only the wheel (--no-deps), so no
network is needed. Live state must land in the user state directory (XDG_STATE_HOME here), not in the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live import twin_serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_wheel_serves_the_demo_street(tmp_path):
    wheels, src = tmp_path / "wheels", tmp_path / "src"  # built from a copy: setuptools leaves build/ behind
    skip = shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", "bench", "tests", "*.sqlite*"
    )
    shutil.copytree(ROOT, src, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)],
        check=True,
        timeout=600,
    )
    [wheel] = wheels.glob("community_twin-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STATE_DIR", "TWIN_STATE_DIR")}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path / "home"))
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(pip, check=True, env=env, timeout=600)
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import twin, twin.store as s; print(twin.__file__); print(s.default_data_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    ).stdout.split()
    assert where[0].startswith(str(venv)), where  # the wheel's code, not a checkout's
    assert where[1] == str(venv / "share" / "community-twin" / "demo")

    with twin_serve([str(venv / "bin" / "twin"), "serve"], env=env, cwd=tmp_path) as base:
        doc = requests.get(f"{base}/collections/buildings/items?limit=1", timeout=60).json()
        assert doc["numberMatched"] == 475  # the demo street (data/README.md)
        assert requests.get(f"{base}/open311/v2/requests.json", timeout=60).status_code == 200
    assert (tmp_path / "state" / "community-twin" / "demo" / "twin.sqlite").exists()
    assert not list((venv / "lib").rglob("twin.sqlite")) and not list((venv / "share").rglob("twin.sqlite"))
