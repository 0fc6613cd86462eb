"""A new layer kind is one module: from a plugin distribution (entry point `community_twin.layers`) it is
discovered, loaded, indexed and served with no change to this project; an optional kind may lack its file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.tiny import write_tiny

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
"""Surveillance cameras (监控点位): a static, optional layer kind from outside the project."""
from layers.base import LayerKind
from twin.schema import Field, Schema

KIND = LayerKind(
    name="cameras", title_zh="监控点位", title_en="Cameras", load_order=90, optional=True,
    schema=Schema(id_field="camera_id", geometry="Point",
                  fields=(Field("camera_id", zh="编号", en="Id"), Field("kind", zh="类型", en="Kind"))),
)
'''

SERVE = """
import json, sys
from web import create_app
app = create_app({"TESTING": True, "DATA_DIR": sys.argv[1], "STATE_DIR": sys.argv[2]})
c = app.test_client()
ids = [x["id"] for x in c.get("/collections").get_json()["collections"]]
items = c.get("/collections/cameras/items") if "cameras" in ids else None
print(json.dumps({"collections": ids, "status": items.status_code if items else None,
                  "features": [f["id"] for f in items.get_json()["features"]] if items else []}))
"""


def plugin_site(root: Path) -> Path:
    """An installed plugin distribution: its package and its dist-info with the entry point."""
    site = root / "site"
    (site / "cameras_plugin").mkdir(parents=True)
    (site / "cameras_plugin" / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = site / "cameras_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cameras-plugin\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[community_twin.layers]\ncameras = cameras_plugin\n", encoding="utf-8")
    return site


def serve(site: Path, data: Path, state: Path) -> dict:
    env = {"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin", "HOME": str(state)}
    out = subprocess.run(
        [sys.executable, "-c", SERVE, str(data), str(state)], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_plugin_kind_is_served_with_no_other_change(tmp_path):
    site = plugin_site(tmp_path)
    data = write_tiny(tmp_path / "tiny")
    cameras = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.8808, 40.8011]},
         "properties": {"camera_id": "CAM1", "kind": "entrance"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.8812, 40.8013]},
         "properties": {"camera_id": "CAM2", "kind": "stairwell"}},
    ]  # fmt: skip
    (data / "cameras.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": cameras}))
    got = serve(site, data, tmp_path / "state")
    assert "cameras" in got["collections"] and got["status"] == 200
    assert sorted(got["features"]) == ["CAM1", "CAM2"]


def test_an_optional_kind_may_lack_its_file(tmp_path):
    got = serve(plugin_site(tmp_path), write_tiny(tmp_path / "tiny"), tmp_path / "state")
    assert "cameras" not in got["collections"] and "buildings" in got["collections"]
