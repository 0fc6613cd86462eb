"""`twin import` from the command line: the printed report, JSON, exit codes and one-line errors."""

from __future__ import annotations

import json

from cli import main
from ingest.importing import Options, import_layer
from layers import open_twin
from tests.ingest.importing.files import OSM, write_csv, write_geojson


def run(capsys, *argv):
    """(exit code, stdout, stderr) of `twin import ...`."""
    code = main(["import", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_prints_the_report_and_the_directory_serves(capsys, tmp_path, tiny_dir):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    code, out, _ = run(capsys, "buildings", str(src), "--out", str(tmp_path / "out"), "--data", str(tiny_dir))
    assert code == 0
    assert out.startswith(f"imported buildings from {src} (EPSG:4326) into {tmp_path / 'out' / 'buildings.geojson'}")
    assert "rows read 3, written 3, repaired 0, skipped 0" in out
    assert f"report: {tmp_path / 'out' / 'import-buildings.report.json'}" in out
    twin = open_twin(tmp_path / "out")
    assert len(twin.frame("buildings")) == 3 and len(twin.frame("grids")) == 3


def test_json_report(capsys, tmp_path, tiny_dir):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    code, out, _ = run(
        capsys, "buildings", str(src), "--out", str(tmp_path / "out"), "--data", str(tiny_dir), "--json", "--quiet"
    )
    assert code == 0
    body = json.loads(out)
    assert body["rows_written"] == 3 and body["layer"] == "buildings" and body["crs"] == "EPSG:4326"
    assert body == json.loads((tmp_path / "out" / "import-buildings.report.json").read_text(encoding="utf-8"))


def test_unknown_crs_exits_non_zero_with_one_line(capsys, tmp_path, tiny_dir):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    code, out, err = run(
        capsys, "buildings", str(src), "--out", str(tmp_path / "out"), "--data", str(tiny_dir), "--crs", "mars"
    )
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"twin: error: file {src}: unknown CRS 'mars'") and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_missing_geometry_column_and_missing_file(capsys, tmp_path, tiny_dir):
    src = write_csv(tmp_path / "b.csv", [{"building_id": "X", "floors": "5"}])
    code, _, err = run(capsys, "buildings", str(src), "--out", str(tmp_path / "out"), "--data", str(tiny_dir))
    assert code == 2
    assert err.strip().splitlines()[-1].startswith(f"twin: error: file {src}, column 'geometry': ")
    code, _, err = run(capsys, "households", str(tmp_path / "nope.csv"), "--out", str(tiny_dir))
    assert code == 2 and err.strip().endswith(f"file {tmp_path / 'nope.csv'} does not exist")


def test_json_error(capsys, tmp_path, tiny_dir):
    src = write_csv(tmp_path / "h.csv", [{"household_id": "P1", "address": "1号楼"}])
    code, _, err = run(capsys, "households", str(src), "--out", str(tiny_dir), "--json", "--quiet")
    assert code == 2
    body = json.loads(err.strip().splitlines()[-1])
    assert body["code"] == "schema_error" and body["details"]["file"] == str(src)


def test_progress_bar_on_stderr_when_shown_and_quiet_has_none(capsys, tmp_path, tiny_dir):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    import_layer("buildings", src, tmp_path / "a", tiny_dir, Options(show=True))
    assert "validating buildings" in capsys.readouterr().err
    code, out, err = run(
        capsys, "buildings", str(src), "--out", str(tmp_path / "b"), "--data", str(tiny_dir), "--quiet"
    )
    assert code == 0 and out == "" and "validating" not in err


def test_the_web_app_serves_the_imported_directory(capsys, tmp_path, tiny_dir):
    from web import create_app

    out = tmp_path / "out"
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    assert run(capsys, "buildings", str(src), "--out", str(out), "--data", str(tiny_dir), "--quiet")[0] == 0
    client = create_app({"TESTING": True, "DATA_DIR": str(out), "STATE_DIR": str(tmp_path / "state")}).test_client()
    assert client.get("/").status_code == 200
    page = client.get("/collections/buildings/items?f=json")
    assert page.status_code == 200
    assert sorted(f["id"] for f in page.get_json()["features"]) == ["way/1", "way/2", "way/3"]
