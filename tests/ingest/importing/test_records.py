"""Households and incidents from CSV: by building id, by coordinates, and the errors for files that cannot work."""

from __future__ import annotations

import pytest

from ingest.importing import Options, import_layer
from layers import open_twin
from tests.tiny import GA1, GB1, A, B
from twin.errors import NotFound, SchemaError
from twin.store import read_frame

from .files import OSM, write_csv, write_geojson
from .test_crs import INCIDENT


def person(hid, **where):
    """A household row with the required columns; `where` gives building_id and/or lon/lat."""
    return {
        "household_id": hid,
        **where,
        "unit": "1",
        "floor": "2",
        "room": "201",
        "size": "2",
        "elderly_alone": "是",
        "floating": "否",
        "name": "张三",
    }


def test_households_by_building_id_and_by_coordinates(tmp_path, tiny_dir):
    rows = [
        person("P1", building_id="B3", lon="", lat=""),
        person("P2", building_id="", lon="114.88085", lat="40.80115"),  # inside B1
        person("P3", building_id="", lon="114.88130", lat="40.80115"),
    ]  # 20 m east of B1 (B2 is farther)
    report = import_layer("households", write_csv(tmp_path / "h.csv", rows), tiny_dir, tiny_dir)
    h = open_twin(tiny_dir).frame("households").set_index("household_id")
    assert h["building_id"].to_dict() == {"P1": "B3", "P2": "B1", "P3": "B1"}
    assert h.loc["P1", "grid_code"] == A + "002" and h.loc["P2", "grid_code"] == GA1
    assert bool(h.loc["P1", "elderly_alone"]) and not bool(h.loc["P1", "floating"])
    assert report.defaults["building found from the coordinates (within 30 m)"] == 2
    assert "lon" not in (tiny_dir / "households.csv").read_text(encoding="utf-8").splitlines()[0].split(",")


def test_households_too_far_from_any_building(tmp_path, tiny_dir):
    src = write_csv(tmp_path / "h.csv", [person("P1", lon="114.88130", lat="40.80115")])
    with pytest.raises(SchemaError, match="no building .* within 10 m") as err:
        import_layer("households", src, tiny_dir, tiny_dir, Options(snap_m=10))
    assert (err.value.row, err.value.column) == (1, "building_id")


def test_household_of_an_unknown_building(tmp_path, tiny_dir):
    src = write_csv(tmp_path / "h.csv", [person("P1", building_id="B1"), person("P2", building_id="B99")])
    with pytest.raises(SchemaError, match="building 'B99' is not in") as err:
        import_layer("households", src, tiny_dir, tiny_dir)
    assert err.value.row == 2


def test_csv_without_coordinates_or_building_id(tmp_path, tiny_dir):
    src = write_csv(tmp_path / "h.csv", [{"household_id": "P1", "address": "1号楼"}])
    with pytest.raises(SchemaError, match="neither coordinates .* nor a building_id column") as err:
        import_layer("households", src, tiny_dir, tiny_dir)
    assert err.value.file == str(src)


def test_schema_errors_name_the_source_row_and_column(tmp_path, tiny_dir):
    rows = [person("P1", building_id="B1"), {**person("P2", building_id="B2"), "size": "two"}]
    with pytest.raises(SchemaError) as err:
        import_layer("households", write_csv(tmp_path / "h.csv", rows), tiny_dir, tiny_dir)
    assert (err.value.row, err.value.column) == (2, "size") and "'two' is not a valid int" in err.value.message


def test_households_need_buildings(tmp_path):
    src = write_csv(tmp_path / "h.csv", [person("P1", building_id="B1")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match="no buildings layer .* import buildings first"):
        import_layer("households", src, tmp_path / "out", tmp_path / "empty")


def test_incidents_by_coordinates_and_at_a_building(tmp_path, tiny_dir):
    rows = [
        {"incident_id": "GD1", "lon": "114.8808", "lat": "40.8011", "building_id": "", **INCIDENT, "grid_code": ""},
        {"incident_id": "GD2", "lon": "", "lat": "", "building_id": "B4", **INCIDENT, "grid_code": "130702001002001"},
    ]
    report = import_layer("incidents", write_csv(tmp_path / "i.csv", rows), tmp_path / "out", tiny_dir)
    inc = read_frame(tmp_path / "out" / "incidents.csv", "Point").set_index("incident_id")
    assert inc["community_id"].to_dict() == {"GD1": A, "GD2": B}
    assert inc["compound_id"].to_dict() == {"GD1": "C1", "GD2": "C3"}
    assert inc["grid_code"].to_dict() == {"GD1": GA1, "GD2": GB1}
    assert inc.loc["GD2", "geometry"].within(
        open_twin(tiny_dir).frame("buildings").set_index("building_id").loc["B4", "geometry"]
    )
    assert inc.loc["GD1", "reported_at"] == "2025-11-01T00:00:00Z"  # stored in UTC
    assert report.defaults["placed at their building"] == 1
    assert report.defaults["grid_code filled from the place"] == 1
    twin = open_twin(tmp_path / "out")  # the output directory serves: the store is seeded from the file
    assert twin.incidents.get("GD1")["grid_code"] == GA1


def test_incidents_file_noted_when_the_store_exists(tmp_path, tiny_dir):
    open_twin(tiny_dir)  # creates tiny_dir/twin.sqlite
    src = write_csv(tmp_path / "i.csv", [{"incident_id": "GD1", "lon": "114.8808", "lat": "40.8011", **INCIDENT}])
    report = import_layer("incidents", src, tiny_dir)
    assert any("delete twin.sqlite" in n for n in report.notes)


def test_buildings_then_households_into_a_new_directory(tmp_path, tiny_dir):
    out = tmp_path / "out"
    import_layer("buildings", write_geojson(tmp_path / "osm.geojson", OSM), out, tiny_dir)
    assert open_twin(out).frame("households").empty  # an empty households file, so the directory serves
    import_layer("households", write_csv(tmp_path / "h.csv", [person("P1", building_id="way/3")]), out)
    h = open_twin(out).frame("households")
    assert h["building_id"].tolist() == ["way/3"] and h["community_id"].tolist() == [B]


def test_a_gbk_csv_from_excel_is_read(tmp_path, tiny_dir):
    src = write_csv(tmp_path / "h.csv", [person("P1", building_id="B1")])
    src.write_bytes(src.read_text(encoding="utf-8").encode("gbk"))
    import_layer("households", src, tiny_dir, tiny_dir)
    h = open_twin(tiny_dir).frame("households").set_index("household_id")
    assert h.loc["P1", "name"] == "张三" and bool(h.loc["P1", "elderly_alone"])


def test_a_binary_file_is_not_a_csv(tmp_path, tiny_dir):
    src = tmp_path / "h.csv"
    src.write_bytes(b"household_id\n\xff\xfe\x00\x81\x30\n")
    with pytest.raises(SchemaError, match="neither utf-8-sig nor gb18030") as err:
        import_layer("households", src, tiny_dir, tiny_dir)
    assert err.value.file == str(src)


def test_incident_naming_an_unknown_building_is_reported(tmp_path, tiny_dir):
    rows = [
        {"incident_id": "GD1", "lon": "114.8808", "lat": "40.8011", "building_id": "B1", **INCIDENT},
        {"incident_id": "GD2", "lon": "114.8808", "lat": "40.8011", "building_id": "B77", **INCIDENT},
    ]
    report = import_layer(
        "incidents", write_csv(tmp_path / "i.csv", rows), tmp_path / "out", tiny_dir, Options(skip_bad=True)
    )
    assert [(p.row, p.id, p.column) for p in report.skipped] == [(2, "GD2", "building_id")]
    assert "building 'B77' is not in" in report.skipped[0].reason
