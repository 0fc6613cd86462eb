"""Files from other systems: naive local times, a foreign 311 CSV with a map, and the order of the checks."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli import main
from ingest.importing import Options, import_layer
from ingest.importing.mapping import Mapping
from layers import open_twin
from twin.errors import InvalidInput, SchemaError

from .files import FOREIGN_311, FOREIGN_MAP, OSM, write_csv, write_geojson

INCIDENT = {"category": "garbage", "source": "hotline_12345", "stage": "reported", "level": "grid", "priority": "2"}


def incidents(out):
    return open_twin(out).incidents.frame().set_index("incident_id")


def test_times_without_an_offset_are_read_in_the_office_time_zone(tmp_path, tiny_dir):
    rows = [
        {"incident_id": "T1", "lon": "114.8808", "lat": "40.8011", **INCIDENT, "reported_at": "2025-11-01 09:30:00"},
        {"incident_id": "T2", "lon": "114.8808", "lat": "40.8011", **INCIDENT, "reported_at": "2025-11-01T09:30Z"},
        {"incident_id": "T3", "lon": "114.8808", "lat": "40.8011", **INCIDENT, "reported_at": "2025-11-01T09:30+01:00"},
    ]
    src = write_csv(tmp_path / "excel.csv", rows)
    report = import_layer("incidents", src, tmp_path / "out", tiny_dir, Options(timezone="Asia/Shanghai"))
    t = pd.read_csv(tmp_path / "out" / "incidents.csv", dtype=str).set_index("incident_id")["reported_at"]
    got = {k: pd.Timestamp(v).tz_convert("UTC") for k, v in t.items()}
    assert got["T1"] == pd.Timestamp("2025-11-01T01:30Z")  # 09:30 in China is 01:30 UTC, not 09:30 UTC
    assert got["T2"] == pd.Timestamp("2025-11-01T09:30Z") and got["T3"] == pd.Timestamp("2025-11-01T08:30Z")
    assert report.defaults["times without an offset read in Asia/Shanghai (the TIMEZONE setting)"] == 1
    other = import_layer("incidents", src, tmp_path / "o2", tiny_dir, Options(timezone="Europe/Helsinki"))
    assert "times without an offset read in Europe/Helsinki (the TIMEZONE setting)" in other.defaults


def test_missing_columns_are_named_before_any_bad_row(tmp_path, tiny_dir):
    rows = [{"incident_id": "M1", "lon": "north", "lat": "40.8011", "category": "nonsense", "reported_at": "x"}]
    with pytest.raises(SchemaError, match="missing required column.* source, stage, level, priority") as err:
        import_layer("incidents", write_csv(tmp_path / "m.csv", rows), tmp_path / "out", tiny_dir)
    assert err.value.row is None


def test_lonlat_given_a_projected_crs_is_told_it_does_not_fit(tmp_path, tiny_dir):
    src = write_geojson(tmp_path / "osm.geojson", OSM)  # longitude/latitude degrees
    with pytest.raises(SchemaError, match="the coordinates do not fit EPSG:4549") as err:
        import_layer("buildings", src, tmp_path / "out", tiny_dir, Options(crs="EPSG:4549"))
    assert "--crs wgs84" in err.value.message and "Too few points" not in err.value.message
    rows = [{"incident_id": "P1", "lon": "114.8808", "lat": "40.8011", **INCIDENT, "reported_at": "2025-11-01"}]
    with pytest.raises(SchemaError, match="the coordinates do not fit EPSG:4549"):
        import_layer("incidents", write_csv(tmp_path / "p.csv", rows), tmp_path / "o", tiny_dir, Options(crs="4549"))


def test_a_foreign_311_csv_imports_with_a_map_file(tmp_path, tiny_dir, capsys):
    src = write_csv(tmp_path / "311.csv", FOREIGN_311)
    mapfile = tmp_path / "map.json"
    mapfile.write_text(json.dumps(FOREIGN_MAP), encoding="utf-8")
    base = ["import", "incidents", str(src), "--out", str(tmp_path / "out"), "--data", str(tiny_dir)]
    assert main([*base, "--map-file", str(mapfile), "--map", "priority:=3", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing written" in out
    assert (
        "row 1: incident_id=NY1, category=garbage, source=hotline_12345, stage=reported, level=grid, priority=3" in out
    )
    assert "row 2: incident_id=NY2, category=illegal_structure, source=app" in out
    assert not (tmp_path / "out" / "incidents.csv").exists()
    assert main([*base, "--map-file", str(mapfile), "--map", "priority:=3"]) == 0
    got = incidents(tmp_path / "out")
    assert got.loc["NY1", "category"] == "garbage" and got.loc["NY2", "source"] == "app"
    assert got.loc["NY1", "reported_at"] == pd.Timestamp("2025-11-01T01:30Z")  # naive, read in Asia/Shanghai
    assert got.loc["NY2", "stage"] == "reported" and got.loc["NY2", "priority"] == 3


def test_map_specs_and_their_mistakes(tmp_path, tiny_dir):
    m = Mapping.parse(["Complaint Type=category", "category:Noise=garbage", "level:=grid"])
    assert m.columns == {"Complaint Type": "category"}
    assert m.values == {"category": {"Noise": "garbage"}, "level": {"": "grid"}}
    with pytest.raises(InvalidInput, match="write COL=FIELD"):
        Mapping.parse(["Complaint Type"])
    src = write_csv(tmp_path / "311.csv", FOREIGN_311)
    with pytest.raises(InvalidInput, match="'colour' is not a field of incidents"):
        import_layer("incidents", src, tmp_path / "o", tiny_dir, Options(mapping=Mapping.parse(["Status=colour"])))
    with pytest.raises(InvalidInput, match="'Borough' the file lacks"):
        import_layer("incidents", src, tmp_path / "o", tiny_dir, Options(mapping=Mapping.parse(["Borough=grid_code"])))
