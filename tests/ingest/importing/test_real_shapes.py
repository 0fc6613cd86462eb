"""Shapes real data comes in: multi-part footprints, old OSM start dates and non-residential building types."""

from __future__ import annotations

import pyogrio
import shapely

from ingest.importing import import_layer
from layers import open_twin

from .files import MULTI, OLD_OSM, write_geojson


def imported(out):
    return open_twin(out).frame("buildings").set_index("building_id")


def test_a_multi_part_feature_becomes_one_building_per_footprint(tmp_path, tiny_dir):
    report = import_layer("buildings", write_geojson(tmp_path / "sz.geojson", MULTI), tmp_path / "out", tiny_dir)
    b = imported(tmp_path / "out")
    assert list(b.index) == ["SZ-1-1", "SZ-1-2", "SZ-1-3", "SZ-2"]
    assert b["source_id"].tolist() == ["SZ-1", "SZ-1", "SZ-1", "SZ-2"]
    assert set(b.geometry.geom_type) == {"Polygon"}
    # each part keeps its own footprint: the third is the small 0.0001-degree square
    assert abs(b.loc["SZ-1-3", "geometry"].area - 0.0001**2) < 1e-12
    assert b["floors"].tolist() == [6, 6, 6, 2]
    assert report.rows_read == 2 and report.rows_written == 4
    assert any("1 multi-part feature(s) split into 3 buildings" in n for n in report.notes)
    layer = pyogrio.read_info(tmp_path / "out" / next(p.name for p in (tmp_path / "out").glob("buildings.*")))
    assert layer["geometry_type"] in ("Polygon", "Unknown")  # never MultiPolygon


def test_old_start_dates_are_kept_and_estimates_are_reported(tmp_path, tiny_dir):
    report = import_layer("buildings", write_geojson(tmp_path / "old.geojson", OLD_OSM), tmp_path / "out", tiny_dir)
    b = imported(tmp_path / "out")
    assert b.loc["way/11", "build_year"] == 1763 and b.loc["way/12", "build_year"] == 1898
    # way/13-15 have no date: their compound's year (C1 1985, C2 2005)
    assert b.loc["way/13", "build_year"] == 2005 and b.loc["way/14", "build_year"] == 1985
    assert report.defaults["build_year before 1900 kept as the file gives it"] == 2
    assert report.defaults["build_year as the file gives it"] == 2
    assert report.defaults["build_year taken from the compound"] == 3


def test_only_residential_building_types_get_households(tmp_path, tiny_dir):
    report = import_layer("buildings", write_geojson(tmp_path / "old.geojson", OLD_OSM), tmp_path / "out", tiny_dir)
    b = imported(tmp_path / "out")
    assert b.loc["way/13", "use"] == "ancillary" and b.loc["way/13", "households"] == 0  # a 9-floor car park
    assert b.loc["way/14", "use"] == "ancillary" and b.loc["way/14", "households"] == 0
    assert b.loc["way/11", "use"] == "residential" and b.loc["way/11", "households"] > 0
    assert b.loc["way/15", "use"] == "residential"  # building=yes: residential by default, reported
    assert report.defaults["building=parking outside the mapping: use ancillary, no households"] == 1
    assert report.defaults["building=garage outside the mapping: use ancillary, no households"] == 1
    assert report.defaults["use defaulted to residential"] == 1
    assert shapely.get_type_id(b.loc["way/13", "geometry"]) == 3
