"""Every layer validates its file at load: a bad file fails naming the file, the data row (from 1) and the column."""

import json
from pathlib import Path

import pytest

from layers import REGISTRY, open_twin
from tests.tiny import write_tiny
from twin.errors import SchemaError


def edit_feature(path, index, change):
    fc = json.loads(path.read_text(encoding="utf-8"))
    change(fc["features"][index]["properties"])
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")


def load_error(directory, tmp_path) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        open_twin(directory, state_dir=tmp_path / "state")
    return info.value


@pytest.mark.filterwarnings("ignore:Could not parse column")
def test_a_bad_value_names_file_row_and_column(tmp_path):
    d = write_tiny(tmp_path / "street")
    edit_feature(d / "buildings.geojson", 1, lambda p: p.update(floors="six"))
    e = load_error(d, tmp_path)
    assert (Path(e.file).name, e.row, e.column) == ("buildings.geojson", 2, "floors")
    assert "buildings.geojson, row 2, column 'floors'" in e.message and "'six'" in e.message


def test_a_missing_required_value(tmp_path):
    d = write_tiny(tmp_path / "street")
    edit_feature(d / "compounds.geojson", 0, lambda p: p.pop("state"))
    e = load_error(d, tmp_path)
    assert (Path(e.file).name, e.row, e.column) == ("compounds.geojson", 1, "state")


def test_a_value_outside_its_choices(tmp_path):
    d = write_tiny(tmp_path / "street")
    edit_feature(d / "compounds.geojson", 2, lambda p: p.update(state="managed-ish"))
    e = load_error(d, tmp_path)
    assert (Path(e.file).name, e.row, e.column) == ("compounds.geojson", 3, "state")


def test_a_bad_csv_cell(tmp_path):
    d = write_tiny(tmp_path / "street")
    path = d / "households.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[3].split(",")  # the third household
    cells[header.index("size")] = "many"
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    e = load_error(d, tmp_path)
    assert (Path(e.file).name, e.row, e.column) == ("households.csv", 3, "size")


def test_personal_fields_are_declared():
    households = {f.name for f in REGISTRY["households"].schema.fields if f.personal}
    incidents = {f.name for f in REGISTRY["incidents"].schema.fields if f.personal}
    assert {"name", "phone"} <= households
    assert {"contact_name", "contact_phone", "household_id"} <= incidents
    for kind in ("communities", "compounds", "buildings"):
        assert not [f.name for f in REGISTRY[kind].schema.fields if f.personal], kind
