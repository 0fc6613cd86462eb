"""OGC API – Features Part 2 on the tiny street: crs, bbox-crs, Content-Crs, axis order, 3D and antimeridian boxes."""

from __future__ import annotations

import math

import pytest

from tests.web.test_features import ids, incidents_api  # noqa: F401  (fixture)

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
R = 6378137.0  # the WGS84 semi-major axis: Web Mercator's sphere


def mercator(lon, lat):
    """Web Mercator by its closed formula (independent of pyproj)."""
    return R * math.radians(lon), R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def test_collections_list_the_served_crs_and_storage_crs(client):
    for c in client.get("/collections").json["collections"]:
        assert c["storageCrs"] == CRS84
        assert {CRS84, CGCS2000, MERCATOR} <= set(c["crs"])
    conf = client.get("/conformance").json["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf


def test_default_answer_is_crs84_and_says_so(client):
    r = client.get("/collections/buildings/items?limit=1")
    assert r.headers["Content-Crs"] == f"<{CRS84}>"
    assert r.json["features"][0]["geometry"]["coordinates"][0][0] == [114.8807, 40.801]


@pytest.mark.parametrize("form", [CGCS2000, "EPSG:4490", "[EPSG:4490]", CGCS2000.replace("http:", "https:")])
def test_cgcs2000_answers_latitude_first(client, form):
    r = client.get(f"/collections/buildings/items?limit=1&crs={form}")
    assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{CGCS2000}>"
    ring = r.json["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == pytest.approx([40.801, 114.8807], abs=1e-6)  # B1's south-west corner, lat first
    one = client.get(f"/collections/buildings/items/B1?crs={form}")
    assert one.headers["Content-Crs"] == f"<{CGCS2000}>"
    assert one.json["geometry"]["coordinates"][0][0] == pytest.approx([40.801, 114.8807], abs=1e-6)


def test_web_mercator_answers_metres(client):
    r = client.get(f"/collections/buildings/items/B1?crs={MERCATOR}")
    assert r.headers["Content-Crs"] == f"<{MERCATOR}>"
    x, y = r.json["geometry"]["coordinates"][0][0]
    ex, ey = mercator(114.8807, 40.801)
    assert x == pytest.approx(ex, abs=0.01) and y == pytest.approx(ey, abs=0.01)


def test_a_point_collection_is_reprojected_too(incidents_api):  # noqa: F811
    r = incidents_api.get(f"/collections/incidents/items/E1?crs={CGCS2000}")
    assert r.json["geometry"] == {"type": "Point", "coordinates": [40.8011, 114.8808]}


def test_bbox_in_each_crs_selects_the_same_buildings(client):
    west, south, east, north = 114.884, 40.800, 114.888, 40.803  # holds B4 and B5 only
    x0, y0 = mercator(west, south)
    x1, y1 = mercator(east, north)
    for query in (
        f"bbox={west},{south},{east},{north}",
        f"bbox={west},{south},{east},{north}&bbox-crs={CRS84}",
        f"bbox={south},{west},{north},{east}&bbox-crs=EPSG:4490",
        f"bbox={x0},{y0},{x1},{y1}&bbox-crs={MERCATOR}",
        f"bbox={west},{south},-10,{east},{north},100",  # 3D: heights ignored
    ):
        r = client.get(f"/collections/buildings/items?{query}")
        assert r.status_code == 200, (query, r.json)
        assert ids(r.json) == ["B4", "B5"], query


def test_bbox_across_the_antimeridian_is_two_boxes(client):
    # west edge 170°E, east edge 114.8835°E: everything from 170°E eastwards round to 114.8835°E, i.e. B1–B3
    r = client.get("/collections/buildings/items?bbox=170,40.8,114.8835,40.803")
    assert r.status_code == 200 and ids(r.json) == ["B1", "B2", "B3"]
    assert client.get("/collections/buildings/items?bbox=170,40.8,-170,40.803").json["numberMatched"] == 0


@pytest.mark.parametrize(
    "query, word",
    [
        ("crs=EPSG:2000", "is not served"),
        ("bbox-crs=EPSG:32650&bbox=1,2,3,4", "is not served"),
        ("bbox-crs=EPSG:32650", "is not served"),
        ("bbox=200,0,201,1", "[-180, 180]"),
        ("bbox=114.8,40.8,114.9,40.9&bbox-crs=EPSG:4490", "axis 1 lies in [-90, 90]"),
        ("bbox=1e8,0,1e8,1&bbox-crs=EPSG:3857", "axis 1 lies in"),
        ("bbox=20,0,10,1&bbox-crs=EPSG:3857", "easting comes first"),
    ],
)
def test_bad_crs_and_boxes_are_400_with_a_hint(client, query, word):
    r = client.get(f"/collections/buildings/items?{query}")
    assert r.status_code == 400 and r.json["code"] == "invalid_input" and word in r.json["message"], r.json


def test_405_names_the_allowed_methods(client):
    r = client.post("/collections")
    assert r.status_code == 405 and "GET" in r.headers["Allow"] and r.json["code"] == "method_not_allowed"


def test_openapi_bbox_and_crs_parameters_state_what_is_enforced(client):
    params = client.get("/openapi").json["components"]["parameters"]
    assert params["bbox"]["schema"]["minItems"] == 4 and params["bbox"]["schema"]["maxItems"] == 6
    assert params["bbox"]["schema"]["items"]["maximum"] == 20048966.1
    assert "[-180, 180]" in params["bbox"]["description"] and "antimeridian" in params["bbox"]["description"]
    assert {CRS84, CGCS2000, MERCATOR} <= set(params["crs"]["schema"]["enum"])


def test_temporal_reference_system_uri(incidents_api):  # noqa: F811
    trs = incidents_api.get("/collections/incidents").json["extent"]["temporal"]["trs"]
    assert trs == "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
