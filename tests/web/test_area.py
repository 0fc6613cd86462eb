"""POST/GET /api/area on the tiny street: figures by role, every bad-input case as a 400 JSON body, exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends (SQL figures on PostgreSQL)
from tests.tiny import GA1, A, B, box
from tests.web.test_features import api, bearer  # noqa: F401 (api: admin, planner, staff limited to grid A1)
from web import create_app

COMMUNITY_A = box(114.880, 40.800, 114.884, 40.803)  # grids A1 (B1, B2: 5 households) and A2 (B3: 4)


def bad(resp, word):
    """Assert `resp` is the 400 JSON error body and its message mentions `word`."""
    assert resp.status_code == 400, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == 400 and body["code"] and word in body["message"], body
    return body


# --- figures and roles -----------------------------------------------------------------------------------------
def test_public_gets_aggregates_with_small_counts_suppressed(api):
    r = api.post("/api/area", json=COMMUNITY_A)
    assert r.status_code == 200 and r.mimetype == "application/json"
    fig = r.get_json()
    assert fig["suppressed"] is True and "households" not in fig
    assert fig["buildings"]["count"] == 3
    # 9 households, 20 people; one elderly alone (B1) and two floating (B3) are hidden, zero key-group shown;
    # other people counts are randomly rounded to base 3 (twin.access.protect): 9 stays, 20 is 18 or 21
    people = fig["people"]
    assert people.pop("population") in (18, 21)
    assert people == {"households": 9, "elderly_alone": None, "floating": None, "key_group": 0}
    states = fig["property_states"]
    assert {k: v["buildings"] for k, v in states.items()} == {"unmanaged": 2, "company": 1}
    assert states["unmanaged"]["households"] in (3, 6) and states["company"]["households"] in (3, 6)  # 5 and 4
    assert fig["compounds"] == {"count": 2, "whole": 2, "partly": 0}
    assert fig["geometry"]["type"] == "Polygon"


def test_planner_is_suppressed_like_the_public_and_refused_household_detail(api):
    fig = api.post("/api/area", json=COMMUNITY_A, headers=bearer("planner-secret")).get_json()
    assert fig["people"]["elderly_alone"] is None and fig["suppressed"] is True
    r = api.post("/api/area?households=1", json=COMMUNITY_A, headers=bearer("planner-secret"))
    assert r.status_code == 403 and r.get_json()["status"] == 403
    assert api.get(f"/api/area?grid={GA1}&format=csv&table=households").status_code == 403


def test_staff_see_exact_figures_and_households_only_in_their_grid(api):
    r = api.post("/api/area?households=1", json=COMMUNITY_A, headers=bearer("staff-a1"))
    fig = r.get_json()
    # community A reaches into grid A2 (B3: 4 households, two floating people), which staff of A1 may not see:
    # its people figures follow the public rule, or subtracting their own grid would give A2's small counts
    assert fig["suppressed"] is True
    assert fig["people"]["elderly_alone"] is None and fig["people"]["floating"] is None
    own = api.get(f"/api/area?grid={GA1}", headers=bearer("staff-a1")).get_json()
    assert own["suppressed"] is False and own["people"]["elderly_alone"] == 1 and own["people"]["households"] == 5
    assert sorted(h["household_id"] for h in fig["households"]) == ["H1", "H2", "H3", "H4", "H5"]
    assert {h["grid_code"] for h in fig["households"]} == {GA1}
    admin = api.post("/api/area?households=1", json=COMMUNITY_A, headers=bearer("admin-secret")).get_json()
    assert len(admin["households"]) == 9
    # without households=1 the list is left out, even for staff
    assert "households" not in api.post("/api/area", json=COMMUNITY_A, headers=bearer("staff-a1")).get_json()


def test_a_feature_body_and_its_name(api):
    feature = {"type": "Feature", "properties": {"name": "东风西片"}, "geometry": box(114.880, 40.800, 114.882, 40.803)}
    fig = api.post("/api/area", json=feature).get_json()
    assert fig["area"]["label"] == "东风西片" and fig["buildings"]["count"] == 2


def test_get_by_grid_community_and_compound(api):
    g = api.get(f"/api/area?grid={GA1}").get_json()
    assert g["area"]["kind"] == "grid" and g["area"]["grid_code"] == GA1 and g["buildings"]["count"] == 2
    c = api.get(f"/api/area?community={B}").get_json()
    assert c["buildings"]["count"] == 2 and c["people"]["households"] == 3 and c["people"]["elderly_alone"] is None
    comp = api.get("/api/area?compound=C2").get_json()
    assert comp["buildings"]["count"] == 1 and comp["people"]["households"] in (3, 6)  # 4, rounded to base 3
    assert comp["compounds_list"][0]["compound_id"] == "C2" and comp["compounds_list"][0]["whole"]


def test_get_a_disc(api):
    fig = api.get("/api/area?lon=114.88295&lat=40.80115&radius=30").get_json()
    assert fig["area"]["kind"] == "point" and fig["area"]["radius_m"] == 30
    assert fig["buildings"]["count"] == 1 and fig["people"]["households"] in (3, 6)  # 4, rounded to base 3


def test_rule_area_weights_a_cut_building(api):
    cut = box(114.8800, 40.8000, 114.88082, 40.8030)  # 40% of B1
    centroid = api.post("/api/area", json=cut).get_json()
    assert centroid["buildings"]["count"] == 0 and centroid["rule"] == "centroid"
    weighted = api.post("/api/area?rule=area", json=cut, headers=bearer("admin-secret")).get_json()
    assert weighted["buildings"]["count"] == pytest.approx(0.4, abs=1e-3)
    assert weighted["people"]["households"] == pytest.approx(1.2, abs=1e-3)


def test_period_filters_incidents(api):
    r = api.get(f"/api/area?grid={GA1}&from=2020-01-01&to=2020-01-31").get_json()
    assert r["period"] == {"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"}
    assert r["incidents"]["total"] == 0
    bad(api.get(f"/api/area?grid={GA1}&from=2026-03-02&to=2026-03-01"), "ends before")
    bad(api.get(f"/api/area?grid={GA1}&from=yesterday"), "not a date")


# --- bad input: every case a 400 with the error body ---------------------------------------------------------------
def test_self_intersecting_polygon_is_repaired_and_says_so(api):
    bow = {
        "type": "Polygon",
        "coordinates": [
            [[114.880, 40.800], [114.882, 40.803], [114.882, 40.800], [114.880, 40.803], [114.880, 40.800]]
        ],
    }
    fig = api.post("/api/area", json=bow).get_json()
    assert fig["area"]["repaired"] is True and "Self-intersection" in fig["area"]["repair_reason"]
    # the two triangles of the bow tie hold half of grid A1: B1's centre (114.88085, 40.80115) is in the lower one
    assert fig["geometry"]["type"] == "MultiPolygon"


def test_outside_the_street_is_zeros_not_an_error(api):
    fig = api.post("/api/area", json=box(115.5, 41.5, 115.6, 41.6)).get_json()
    assert fig["buildings"]["count"] == 0 and fig["people"]["households"] == 0
    assert fig["area"]["in_street_m2"] == 0 and fig["area"]["area_m2"] > 0 and fig["incidents"]["total"] == 0


def test_a_million_vertices_is_400(api):
    body = b'{"type":"Polygon","coordinates":[[' + b"[114.88,40.8]," * 1_000_000 + b"[114.88,40.8]]]}"
    admin = bearer("admin-secret")  # public and planner callers have a smaller limit (tests/web/attacks)
    body = bad(api.post("/api/area", data=body, content_type="application/json", headers=admin), "too many vertices")
    assert body["details"]["max_vertices"] == 100_000


def test_vertex_limit_is_a_setting(tiny_dir, tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s"), "MAX_VERTICES": 8})
    ring = [[114.880 + 0.0001 * i, 40.800 + 0.00001 * i * i] for i in range(12)]
    bad(
        app.test_client().post("/api/area", json={"type": "Polygon", "coordinates": [ring + [ring[0]]]}),
        "more than 8 vertices",
    )


@pytest.mark.parametrize(
    "geom",
    [
        {"type": "Point", "coordinates": [114.881, 40.801]},
        {"type": "LineString", "coordinates": [[114.880, 40.800], [114.882, 40.803]]},
        {"type": "GeometryCollection", "geometries": []},
    ],
)
def test_wrong_geometry_type_is_400(api, geom):
    body = bad(api.post("/api/area", json=geom), "Polygon or MultiPolygon")
    assert body["details"]["geometry_type"] == geom["type"]


@pytest.mark.parametrize("radius", ["-5", "1e9", "0", "abc", "nan"])
def test_bad_radius_is_400(api, radius):
    bad(api.get(f"/api/area?lon=114.8829&lat=40.8011&radius={radius}"), "radius")


def test_lat_lon_swapped_is_400(api):
    swapped = {"type": "Polygon", "coordinates": [[[y, x] for x, y in COMMUNITY_A["coordinates"][0]]]}
    body = bad(api.post("/api/area", json=swapped), "[lat, lon]")
    assert body["details"]["hint"] == "swap_lonlat"
    bad(api.get("/api/area?lon=40.8011&lat=114.8829&radius=50"), "[lat, lon]")


@pytest.mark.parametrize(
    "query, word",
    [
        ("", "name one area"),
        (f"grid={GA1}&community={A}", "name one area"),
        ("lon=114.88&lat=40.80", "lon, lat and radius"),
        (f"grid={GA1}&rule=majority", "rule"),
        (f"grid={GA1}&format=pdf", "format"),
        (f"grid={GA1}&format=csv&table=people", "table"),
    ],
)
def test_bad_get_queries_are_400(api, query, word):
    bad(api.get(f"/api/area?{query}"), word)


def test_bad_bodies_are_400(api):
    bad(api.post("/api/area", data=b"", content_type="application/json"), "send a GeoJSON")
    bad(api.post("/api/area", data=b'{"type": "Polygon", ', content_type="application/json"), "not valid JSON")
    bad(api.post("/api/area", json=[1, 2]), "one GeoJSON geometry")
    bad(api.post("/api/area", json={"type": "Feature", "properties": {}}), "no geometry")


def test_unknown_grid_is_404(api):
    r = api.get("/api/area?grid=999")
    assert r.status_code == 404 and r.get_json()["status"] == 404


# --- exports -----------------------------------------------------------------------------------------------------
def test_csv_export_in_chinese_and_english(api):
    r = api.get(f"/api/area?grid={GA1}&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="area-grid-figures.csv"' in r.headers["Content-Disposition"]
    rows = {
        (x["section"], x["item"]): x for x in csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff")))
    }
    assert rows[("buildings", "count")]["value"] == "2" and rows[("buildings", "count")]["label"] == "楼栋 · 楼栋数"
    assert rows[("people", "elderly_alone")]["value"] == ""  # suppressed for the public
    assert rows[("compounds", "touched")]["value"] == "1"
    en = api.get(f"/api/area?grid={GA1}&format=csv&lang=en").get_data(as_text=True)
    assert "Buildings · Buildings,2" in en and "Property management · Unmanaged / abandoned,2" in en


def test_compounds_csv(api):
    text = api.post("/api/area?format=csv&table=compounds", json=COMMUNITY_A).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert sorted(r["compound_id"] for r in rows) == ["C1", "C2"] and all(r["whole"] == "True" for r in rows)


def test_geojson_export_holds_the_area_then_each_building(api):
    r = api.post("/api/area?format=geojson", json=COMMUNITY_A)
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = json.loads(r.get_data())
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds == ["area", "building", "building", "building"]
    assert doc["features"][0]["properties"]["buildings.count"] == 3
    assert sorted(f["properties"]["building_id"] for f in doc["features"][1:]) == ["B1", "B2", "B3"]


def test_xlsx_lists_households_only_for_staff_in_their_grid(api):
    def sheets(headers):
        r = api.post("/api/area?format=xlsx", json=COMMUNITY_A, headers=headers)
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
        return load_workbook(io.BytesIO(r.data))

    pub = sheets({})
    assert pub.sheetnames == ["统计", "小区", "超时事件"]
    staff = sheets(bearer("staff-a1"))
    assert staff.sheetnames == ["统计", "小区", "超时事件", "住户"]
    ws = staff["住户"]
    header = [c.value for c in ws[1]]
    ids = sorted(row[header.index("household_id")] for row in ws.iter_rows(min_row=2, values_only=True))
    assert ids == ["H1", "H2", "H3", "H4", "H5"]


# --- the page and its pick list --------------------------------------------------------------------------------
def test_planner_page_in_chinese_and_english(api):
    zh = api.get("/planner").get_data(as_text=True)
    assert "区域查询 · 一图快查询" in zh and "画多边形" in zh and "planner.js" in zh
    en = api.get("/planner?lang=en").get_data(as_text=True)
    assert "Area query · what is in this area?" in en and "Draw a polygon" in en
    config = json.loads(zh.split('<script id="twin-config" type="application/json">')[1].split("</script>")[0])
    assert (
        config["bbox"] == [114.88, 40.8, 114.888, 40.803] and config["maxVertices"] == 5000
    )  # PUBLIC_MAX_VERTICES: the page is public


def test_places_list_grids_communities_and_compounds(api):
    places = api.get("/api/area/places").get_json()
    assert [p["id"] for p in places["grid"]] == [GA1, A + "002", B + "001"]
    assert [p["name"] for p in places["community"]] == ["东风社区", "西园社区"]
    assert [p["id"] for p in places["compound"]] == ["C1", "C2", "C3"]
