"""Source coordinates: GCJ-02 and BD-09 web-map offsets, a CGCS2000 Gauss-Krüger zone, CGCS2000, unknown CRSs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from ingest.importing import Options, import_layer
from layers import open_twin
from tests.tiny import A, box, write_tiny
from tests.twin.test_chinacoords import EVILTRANSFORM, metres
from twin import chinacoords
from twin.errors import InvalidInput, SchemaError

from .files import OSM, feature, write_csv, write_geojson

INCIDENT = {
    "category": "care_visit",
    "source": "visit",
    "stage": "reported",
    "level": "grid",
    "priority": "2",
    "reported_at": "2025-11-01T08:00:00+08:00",
}


def moved(features, fn):
    """The features with every vertex passed through fn(lon array, lat array) -> (x, y)."""
    out = []
    for f in features:
        g = shapely.geometry.shape(f["geometry"])
        g = shapely.transform(g, lambda c: np.column_stack(fn(c[:, 0], c[:, 1])))
        out.append(feature(f["properties"], json.loads(shapely.to_geojson(g))))
    return out


def worst_error_m(out, features) -> float:
    """Largest distance in metres between a stored vertex and the known WGS84 vertex."""
    b = open_twin(out).frame("buildings").set_index("building_id")
    worst = 0.0
    for f in features:
        want = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        got = shapely.get_coordinates(b.loc[f["properties"]["@id"], "geometry"])
        assert len(got) == len(want)
        worst = max(worst, float(metres(want[:, 0], want[:, 1], got[:, 0], got[:, 1]).max()))
    return worst


@pytest.mark.parametrize("crs, forward", [("gcj02", chinacoords.wgs84_to_gcj02), ("bd09", chinacoords.wgs84_to_bd09)])
def test_web_map_offsets_land_within_half_a_metre(tmp_path, tiny_dir, crs, forward):
    src = write_geojson(tmp_path / f"{crs}.geojson", moved(OSM, forward))
    # the offsets are hundreds of metres: read as WGS84, the same file lands elsewhere
    shifted = shapely.get_coordinates(shapely.geometry.shape(moved(OSM, forward)[0]["geometry"]))[0]
    assert metres(114.8807, 40.8010, *shifted) > 200
    report = import_layer("buildings", src, tmp_path / "out", tiny_dir, Options(crs=crs))
    assert report.crs == crs.upper() and "not as the file's declared" in report.notes[0]
    assert worst_error_m(tmp_path / "out", OSM) < 0.5


# CGCS2000 3-degree Gauss-Krüger around 114.88E: CM 114E, without (4547) and with (4526, zone 38) the zone prefix
@pytest.mark.parametrize("epsg", ["EPSG:4547", "EPSG:4526"])
def test_gauss_kruger_zone_declared_in_the_file(tmp_path, tiny_dir, epsg):
    to_gk = Transformer.from_crs("EPSG:4326", epsg, always_xy=True)
    src = write_geojson(tmp_path / "gk.geojson", moved(OSM, to_gk.transform), crs=epsg)
    report = import_layer("buildings", src, tmp_path / "out", tiny_dir)
    assert report.crs == epsg
    assert worst_error_m(tmp_path / "out", OSM) < 0.5


def test_gauss_kruger_csv_needs_its_crs(tmp_path, tiny_dir):
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True).transform(114.8808, 40.8011)
    src = write_csv(tmp_path / "inc.csv", [{"incident_id": "GD1", "x": f"{x:.3f}", "y": f"{y:.3f}", **INCIDENT}])
    with pytest.raises(SchemaError, match="do not fit CRS EPSG:4326") as err:
        import_layer("incidents", src, tmp_path / "out", tiny_dir)
    assert (err.value.row, err.value.column) == (1, "x")
    import_layer("incidents", src, tmp_path / "out", tiny_dir, Options(crs="EPSG:4547"))
    text = (tmp_path / "out" / "incidents.csv").read_text(encoding="utf-8").splitlines()
    lon, lat = map(float, text[1].split(",")[:2])
    assert metres(114.8808, 40.8011, lon, lat) < 0.5


def test_cgcs2000_is_taken_as_is(tmp_path, tiny_dir):
    src = write_csv(tmp_path / "inc.csv", [{"incident_id": "GD1", "lon": "114.8808", "lat": "40.8011", **INCIDENT}])
    report = import_layer("incidents", src, tmp_path / "out", tiny_dir, Options(crs="cgcs2000"))
    assert report.crs == "EPSG:4490"
    assert (
        (tmp_path / "out" / "incidents.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("114.8808,40.8011,GD1")
    )


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_published_gcj02_points_import_to_their_wgs84_place(tmp_path, wlat, wlon, glat, glon):
    base = write_tiny(tmp_path / "base")  # then one community around the published point
    (base / "communities.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature(
                        {"community_id": A, "name": "测试社区"}, box(wlon - 0.01, wlat - 0.01, wlon + 0.01, wlat + 0.01)
                    )
                ],
            }
        ),
        encoding="utf-8",
    )
    src = write_csv(tmp_path / "inc.csv", [{"incident_id": "GD1", "lng": glon, "lat": glat, **INCIDENT}])
    import_layer("incidents", src, tmp_path / "out", base, Options(crs="GCJ-02"))
    lon, lat = map(
        float, (tmp_path / "out" / "incidents.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[:2]
    )
    assert metres(wlon, wlat, lon, lat) < 0.5


@pytest.mark.parametrize("spec", ["mars", "EPSG:999999", "EPSG:5714"])  # 5714: a height, not a place
def test_unknown_crs_is_a_clear_error(tmp_path, tiny_dir, spec):
    src = write_geojson(tmp_path / "osm.geojson", OSM)
    with pytest.raises(InvalidInput) as err:
        import_layer("buildings", src, tmp_path / "out", tiny_dir, Options(crs=spec))
    assert str(src) in err.value.message and ("unknown CRS" in err.value.message or "neither" in err.value.message)
    assert "gcj02" in err.value.message  # says what would work
    assert not (tmp_path / "out").exists()
