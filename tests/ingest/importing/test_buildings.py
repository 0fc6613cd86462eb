"""Buildings: OSM tags to floors and height, placement in the base street, formats, and the output loading."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from ingest.importing import Options, import_layer
from layers import open_twin
from tests.tiny import A, B, box
from twin.errors import InvalidInput, SchemaError

from .files import OSM, feature, write_csv, write_geojson


def imported(out):
    """The buildings layer of `out` as the twin loads it, by id."""
    return open_twin(out).frame("buildings").set_index("building_id")


def test_osm_levels_and_height_become_floors_and_height(tmp_path, tiny_dir):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    report = import_layer("buildings", src, tmp_path / "out", tiny_dir)
    b = imported(tmp_path / "out")
    # way/1: 6 levels -> 6 floors, 18 m; way/2: 31.5 m -> round(10.5) = 10 floors (banker's rounding), 31.5 m;
    # way/3: both given, both kept
    assert b.loc["way/1", ["floors", "height_m"]].tolist() == [6, 18.0]
    assert b.loc["way/2", ["floors", "height_m"]].tolist() == [10, 31.5]
    assert b.loc["way/3", ["floors", "height_m"]].tolist() == [2, 9.0]
    assert b.loc["way/1", "name"] == "1号楼"
    assert b["use"].to_dict() == {"way/1": "residential", "way/2": "residential", "way/3": "commercial"}
    assert b["compound_id"].to_dict() == {"way/1": "C1", "way/2": "C2", "way/3": "C3"}
    assert b["community_id"].to_dict() == {"way/1": A, "way/2": A, "way/3": B}
    assert b["build_year"].to_dict() == {"way/1": 1985, "way/2": 2005, "way/3": 1978}  # from the compounds
    assert report.rows_read == report.rows_written == 3
    assert report.defaults["floors from height"] == 1 and report.defaults["height from floors"] == 1
    assert report.defaults["use defaulted to residential"] == 1


def test_units_and_households_estimated_from_a_slab(tmp_path, tiny_dir):
    # a 45 m x 12 m slab of 5 floors: 3 stairwell units of 15 m, 2 flats per landing -> 30 households
    dlon = 45 / (111_320 * np.cos(np.radians(40.801)))
    dlat = 12 / 110_950
    slab = feature(
        {"id": "S1", "building": "residential", "building:levels": 5},
        box(114.8806, 40.8010, 114.8806 + dlon, 40.8010 + dlat),
    )
    shop = feature(
        {"id": "S2", "building": "retail", "building:levels": 1, "households": 0, "units": 1},
        box(114.8828, 40.8010, 114.8829, 40.8011),
    )
    import_layer("buildings", write_geojson(tmp_path / "s.geojson", [slab, shop]), tmp_path / "out", tiny_dir)
    b = imported(tmp_path / "out")
    assert b.loc["S1", ["units", "households"]].tolist() == [3, 30]
    assert b.loc["S2", ["units", "households"]].tolist() == [1, 0]


@pytest.mark.parametrize("suffix, driver", [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile")])
def test_geopackage_and_shapefile_round_trip(tmp_path, tiny_dir, suffix, driver):
    frame = gpd.GeoDataFrame(
        {"building_id": ["G1", "G2"], "building:levels": [4, 12], "build_year": [1990, 2010]},
        geometry=[shapely.box(114.8807, 40.8010, 114.8810, 40.8013), shapely.box(114.8850, 40.8010, 114.8853, 40.8013)],
        crs="EPSG:4326",
    )
    src = tmp_path / f"b{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a shapefile cuts names to 10 characters, and says so
        frame.to_file(src, driver=driver, engine="pyogrio")
    import_layer("buildings", src, tmp_path / "out", tiny_dir)
    b = imported(tmp_path / "out")
    assert b["floors"].to_dict() == {"G1": 4, "G2": 12}
    assert b["build_year"].to_dict() == {"G1": 1990, "G2": 2010}
    assert b.loc["G2", "compound_id"] == "C3"
    assert shapely.equals_exact(
        shapely.normalize(b.loc["G1", "geometry"]), shapely.normalize(frame.geometry[0]), tolerance=1e-9
    )


def test_bow_tie_is_repaired_and_reported(tmp_path, tiny_dir):
    bow = {
        "type": "Polygon",
        "coordinates": [
            [[114.8850, 40.8010], [114.8853, 40.8013], [114.8853, 40.8010], [114.8850, 40.8013], [114.8850, 40.8010]]
        ],
    }
    src = write_geojson(tmp_path / "bow.geojson", OSM[:2] + [feature({"@id": "way/9", "building": "yes"}, bow)])
    report = import_layer("buildings", src, tmp_path / "out", tiny_dir)
    assert report.repaired == ["way/9"]
    fixed = imported(tmp_path / "out").loc["way/9", "geometry"]
    # make_valid gives two triangles, each a quarter of the 0.0003-degree box; the layer holds Polygons, so the
    # largest part (here the first of two equal ones) is kept, and the report says so
    assert fixed.is_valid and fixed.geom_type == "Polygon"
    assert fixed.area == pytest.approx(0.0003**2 / 4, rel=1e-6)
    assert report.defaults["repaired footprints that fell apart: the largest part kept (stays a Polygon)"] == 1
    saved = json.loads((tmp_path / "out" / "import-buildings.report.json").read_text(encoding="utf-8"))
    assert saved["repaired"] == ["way/9"] and saved["rows_written"] == 3
    assert any("repaired geometries: way/9" in line for line in report.lines())


def test_unusable_geometries_stop_the_import_or_are_skipped_and_listed(tmp_path, tiny_dir):
    line = {"type": "LineString", "coordinates": [[114.8807, 40.8010], [114.8810, 40.8013]]}
    far = box(114.9500, 40.8010, 114.9503, 40.8013)  # east of both communities
    src = write_geojson(tmp_path / "bad.geojson", OSM + [feature({"@id": "L"}, line), feature({"@id": "F"}, far)])
    with pytest.raises(SchemaError) as err:
        import_layer("buildings", src, tmp_path / "out", tiny_dir)
    assert err.value.row == 4 and err.value.column == "geometry"
    assert "LineString, expected a polygon" in err.value.message and "1 more rows" in err.value.message
    assert not (tmp_path / "out").exists()  # nothing written
    report = import_layer("buildings", src, tmp_path / "out", tiny_dir, Options(skip_bad=True))
    assert [(p.row, p.id) for p in report.skipped] == [(4, "L"), (5, "F")]
    assert "outside every community" in report.skipped[1].reason
    assert report.rows_written == 3 and sorted(imported(tmp_path / "out").index) == ["way/1", "way/2", "way/3"]


def test_missing_geometry_column(tmp_path, tiny_dir):
    csv = write_csv(tmp_path / "b.csv", [{"building_id": "X", "floors": "5"}])
    with pytest.raises(SchemaError, match="no geometry column") as err:
        import_layer("buildings", csv, tmp_path / "out", tiny_dir)
    assert err.value.file == str(csv) and err.value.column == "geometry"
    table = tmp_path / "attributes.gpkg"  # a GeoPackage attribute table: rows, but no geometry column
    pyogrio.write_dataframe(pd.DataFrame({"building_id": ["X"], "floors": [5]}), table, layer="b")
    with pytest.raises(SchemaError, match="the file has no geometry column") as err:
        import_layer("buildings", table, tmp_path / "out", tiny_dir)
    assert err.value.file == str(table) and err.value.column == "geometry"
    nulls = write_geojson(tmp_path / "n.geojson", [feature({"building_id": "X"}, None)])
    with pytest.raises(SchemaError, match="no feature of the file has a geometry"):
        import_layer("buildings", nulls, tmp_path / "out", tiny_dir)


def test_nothing_inside_the_street_is_an_error(tmp_path, tiny_dir):
    far = write_geojson(tmp_path / "far.geojson", [feature({"@id": "F"}, box(116.0, 39.9, 116.001, 39.901))])
    with pytest.raises(InvalidInput, match="no row left to import"):
        import_layer("buildings", far, tmp_path / "out", tiny_dir, Options(skip_bad=True))


def test_no_base_to_place_in(tmp_path):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    with pytest.raises(Exception, match="give --data BASE_DIR"):
        import_layer("buildings", src, tmp_path / "out")


def test_reimport_that_orphans_households_writes_nothing(tmp_path, tiny_dir):
    before = (tiny_dir / "buildings.geojson").read_bytes()
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    with pytest.raises(SchemaError, match="would not load .*building 'B1' does not exist.*nothing was written"):
        import_layer("buildings", src, tiny_dir)
    assert (tiny_dir / "buildings.geojson").read_bytes() == before
    assert not [p for p in tiny_dir.iterdir() if ".tmp" in p.name]


def test_geopackage_with_several_layers_needs_layer(tmp_path, tiny_dir):
    src = tmp_path / "two.gpkg"
    for name, x in (("roads", 114.8807), ("buildings", 114.8850)):
        gpd.GeoDataFrame(
            {"building_id": [name]}, geometry=[shapely.box(x, 40.8010, x + 0.0003, 40.8013)], crs="EPSG:4326"
        ).to_file(src, layer=name, driver="GPKG", engine="pyogrio")
    with pytest.raises(InvalidInput, match="has 2 layers .*choose one with --layer"):
        import_layer("buildings", src, tmp_path / "out", tiny_dir)
    import_layer("buildings", src, tmp_path / "out", tiny_dir, Options(layer="buildings"))
    assert imported(tmp_path / "out")["community_id"].to_dict() == {"buildings": B}


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, tiny_dir, monkeypatch):
    from ingest.importing import output

    before = (tiny_dir / "buildings.geojson").read_bytes()
    src = write_geojson(
        tmp_path / "b.geojson",
        [
            feature({"building_id": b}, box(114.8807, 40.8010 + k * 0.0004, 114.8810, 40.8013 + k * 0.0004))
            for k, b in enumerate(["B1", "B2", "B3", "B4", "B5"])
        ],
    )

    def half_written(frame, kind, tmp):
        tmp.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(output, "_write", half_written)
    with pytest.raises(OSError, match="disk full"):
        import_layer("buildings", src, tiny_dir)
    assert (tiny_dir / "buildings.geojson").read_bytes() == before
    assert sorted(p.name for p in tiny_dir.iterdir()) == [
        "buildings.geojson",
        "communities.geojson",
        "compounds.geojson",
        "grids.geojson",
        "households.csv",
    ]


def test_blank_use_falls_back_to_the_building_tag():
    """A null `use` (common in GeoJSON) is read from building=* or defaulted, not an error."""
    from ingest.importing import osm

    df = pd.DataFrame({"use": ["Residential", None, "x"], "building": ["yes", "school", None]})
    use, defaulted, ancillary = osm.uses(df)
    assert use.tolist() == ["residential", "public", "residential"]
    assert defaulted == 1 and ancillary == {}
