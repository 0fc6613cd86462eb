"""`twin redraw` on the tiny street (tests/tiny.py): community A's two grids hold 5 and 4 households (B1+B2 | B3),
the only contiguous two-grid split with both grids non-empty that is that balanced, so the plan keeps them; B keeps
its one grid. Checks files (.geojson / .gpkg), the metrics table, the progress bar and clear errors."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from cli import main
from tests.tiny import GA1, GA2, GB1, A, B


def test_geojson_plan_and_metrics_table(tiny_dir, tmp_path, capsys):
    out = tmp_path / "plan.geojson"
    assert main(["redraw", "--data", str(tiny_dir), "--out", str(out), "--grids", "3", "--seed", "4"]) == 0
    fc = json.loads(out.read_text(encoding="utf-8"))
    props = sorted(
        (f["properties"]["grid_code"], f["properties"]["community_id"], f["properties"]["households"])
        for f in fc["features"]
    )
    assert props == [(GA1, A, 5), (GA2, A, 4), (GB1, B, 3)]  # unchanged grids keep their codes
    assert fc["metadata"]["after"]["moved_households"] == 0
    captured = capsys.readouterr()
    lines = {ln.split("  ")[1].strip(): ln.split()[-2:] for ln in captured.out.splitlines()[2:] if ln.startswith("  ")}
    assert lines["largest deviation from ideal"] == ["11.1%", "11.1%"]  # A: 5 and 4 against an ideal 4.5
    assert lines["households moved"] == ["0", "0"]
    assert "wrote 3 grids" in captured.out
    assert "redraw" in captured.err and "100%" in captured.err  # the tqdm bar


def test_gpkg_when_out_ends_with_gpkg_and_locked_grid(tiny_dir, tmp_path, capsys):
    out = tmp_path / "plan.gpkg"
    assert main(["redraw", "--data", str(tiny_dir), "--out", str(out), "--lock", GA1, "--band", "0.2"]) == 0
    grids = gpd.read_file(out, layer="grids")
    assert set(grids["grid_code"]) == {GA1, GA2, GB1}
    assignment = gpd.read_file(out, layer="assignment")
    assert dict(zip(assignment["building_id"], assignment["grid_code"]))["B1"] == GA1
    assert len(gpd.read_file(out, layer="current_grids")) == 3


def test_target_load_sets_the_count(tiny_dir, tmp_path):
    out = tmp_path / "plan.geojson"
    # target 12 households: A (9) and B (3) get one grid each
    assert main(["redraw", "--data", str(tiny_dir), "--out", str(out), "--target-load", "12"]) == 0
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(f["properties"]["households"] for f in fc["features"]) == [3, 9]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--band", "2"], "band must be between"),
        (["--lock", "130702001001999"], "locked grids do not exist"),
        (["--grids", "9"], "too many"),
        (["--weights", "households=x"], "not name=number"),
    ],
)
def test_errors_are_one_line_and_exit_2(tiny_dir, tmp_path, capsys, argv, words):
    out = tmp_path / "plan.geojson"
    assert main(["redraw", "--data", str(tiny_dir), "--out", str(out), *argv]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_out_must_be_geojson_or_gpkg(tiny_dir, tmp_path, capsys):
    assert main(["redraw", "--data", str(tiny_dir), "--out", str(tmp_path / "plan.shp")]) == 2
    assert ".geojson or .gpkg" in capsys.readouterr().err
