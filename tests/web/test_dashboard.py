"""The wall dashboard's page and data endpoints on the tiny street (tests/tiny.py): transport, ETags, KPIs."""

import gzip
import json

import numpy as np
import pytest

from tests.tiny import BUILDINGS, GA1
from web import create_app
from web.transport import QUANTUM, pack, quantized_rings, ring_offsets, unpack

PLANNER = "planner-token"
AT_B1 = {"lat": "40.8011", "long": "114.8808", "description": "楼道里有人飞线充电"}


@pytest.fixture
def app(tiny_dir, tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tiny_dir),
            "STATE_DIR": str(tmp_path / "state"),
            "TOKENS": json.dumps([{"role": "planner", "token": PLANNER}]),
        }
    )


def report(client, code="flying_line_charging", **extra):
    resp = client.post("/open311/v2/requests.json", data={**AT_B1, "service_code": code, **extra})
    assert resp.status_code == 201, resp.get_json()
    return resp


def test_pack_unpack_round_trip_and_alignment():
    arrays = {"a": np.array([1, 2, 3], dtype=np.uint8), "b": np.array([1.5, -2.25], dtype=np.float32)}
    blob = pack({"layer": "x", "名": "中文"}, arrays, {"b": 2})
    header, out = unpack(blob)
    assert header["layer"] == "x" and header["名"] == "中文"
    assert out["a"].tolist() == [1, 2, 3] and out["b"].tolist() == [1.5, -2.25]
    n = int.from_bytes(blob[4:8], "little")
    layout = json.loads(blob[8 : 8 + n])["arrays"]
    assert (8 + n) % 8 == 0 and all(off % 8 == 0 for _t, off, _l, _s in layout.values())
    assert layout["b"][3] == 2
    with pytest.raises(TypeError):
        pack({}, {"bad": np.array([1], dtype=np.int64)})


def test_quantized_rings_round_trip_and_fallback():
    coords = np.array(
        [
            [0.0, 0.0],
            [1e-4, 0.0],
            [1e-4, 2e-4],
            [0.0, 0.0],  # ring 0: 4 vertices
            [0.01, 0.02],
            [0.01003, 0.02],
            [0.01, 0.02],
        ]
    )  # ring 2: 3 vertices (ring 1 is empty)
    starts = np.array([0, 4, 4, 7], dtype=np.uint32)
    arrays = quantized_rings(coords, starts, [0.005, 0.01])
    assert arrays["ring_counts"].tolist() == [4, 0, 3]
    # first vertices (-50000, -100000), (0, 0) for the empty ring, (50000, 100000), as steps from ring to ring
    assert arrays["ring_first"].tolist() == [-50000, -100000, 50000, 100000, 50000, 100000]
    assert arrays["ring_steps"].tolist() == [0, 0, 1000, 0, 0, 2000, -1000, -2000, 0, 0, 300, 0, -300, 0]
    offsets, back_starts = ring_offsets({"origin": [0.005, 0.01]}, arrays)
    assert back_starts.tolist() == [0, 4, 4, 7]
    assert np.allclose(offsets + [0.005, 0.01], coords, atol=QUANTUM / 2)
    # an edge of 0.01° (~1 km) does not fit int16 steps of 1e-7°: the caller sends floats instead
    assert quantized_rings(np.array([[0.0, 0.0], [0.01, 0.0]]), np.array([0, 2]), [0, 0]) is None


def test_buildings_bin_carries_footprints_and_attributes(client):
    resp = client.get("/api/dashboard/buildings.bin")
    assert resp.status_code == 200 and resp.mimetype == "application/vnd.twin.binary"
    header, a = unpack(resp.data)
    assert header["count"] == 5 and header["states"][0] == "company"
    # each tiny footprint is a closed 5-vertex box, sent as quantized rings
    assert "positions" not in a and a["ring_steps"].dtype == np.int16
    offsets, starts = ring_offsets(header, a)
    assert starts.tolist() == [0, 5, 10, 15, 20, 25]
    xy = offsets + np.array(header["origin"])
    b1 = xy[0:5]
    x0, y0 = 114.8807, 40.8010
    assert np.allclose(sorted(set(np.round(b1[:, 0], 6))), [x0, x0 + 0.0003], atol=1e-6)
    assert np.allclose(sorted(set(np.round(b1[:, 1], 6))), [y0, y0 + 0.0003], atol=1e-6)
    # rings are clockwise: negative shoelace area
    area = 0.5 * np.sum(b1[:-1, 0] * b1[1:, 1] - b1[1:, 0] * b1[:-1, 1])
    assert area < 0
    assert a["height"].tolist() == [b["floors"] * 3.0 for b in BUILDINGS]
    states = [header["states"][i] for i in a["state"]]
    assert states == ["unmanaged", "unmanaged", "company", "fallback", "fallback"]
    assert a["decade"].tolist() == [2, 2, 4, 1, 1]  # 1980s, 1980s, 2000s, 1970s, 1970s
    assert a["care"].tolist() == [0] * 5  # at most one special-care household per building: never shown
    assert [header["compounds"][i] for i in a["compound"]] == [
        "纺织厂宿舍",
        "纺织厂宿舍",
        "锦绣花园",
        "机械厂家属院",
        "机械厂家属院",
    ]


def test_geojson_baseline_matches_binary(client):
    header, a = unpack(client.get("/api/dashboard/buildings.bin").data)
    fc = client.get("/api/dashboard/buildings.geojson").get_json()
    props = [f["properties"] for f in fc["features"]]
    assert [p["state"] for p in props] == [header["states"][i] for i in a["state"]]
    assert [p["decade"] for p in props] == a["decade"].tolist()
    assert [p["height"] for p in props] == a["height"].tolist()
    assert [p["households"] for p in props] == [3, 2, 4, 1, 2]


def test_etag_304_and_gzip(client):
    first = client.get("/api/dashboard/buildings.bin", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    raw = client.get("/api/dashboard/buildings.bin").data
    assert gzip.decompress(first.data) == raw
    again = client.get("/api/dashboard/buildings.bin", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_new_incident_changes_incidents_kpis_and_risk(client):
    kpis0 = client.get("/api/dashboard/kpis")
    inc0 = client.get("/api/dashboard/incidents.bin")
    risk0 = unpack(client.get("/api/dashboard/risk.bin").data)[1]["score"].copy()
    assert kpis0.get_json()["open"] == 0 and unpack(inc0.data)[0]["count"] == 0
    report(client)
    # the ETags the page holds no longer match: the next refresh gets the new data
    k = client.get("/api/dashboard/kpis", headers={"If-None-Match": kpis0.headers["ETag"]})
    assert k.status_code == 200
    k = k.get_json()
    assert k["open"] == 1 and k["open_by_stage"] == {"reported": 1, "accepted": 0, "on_site": 0}
    assert k["reported_today"] == 1 and k["overdue"] == 0
    inc = client.get("/api/dashboard/incidents.bin", headers={"If-None-Match": inc0.headers["ETag"]})
    header, a = unpack(inc.data)
    assert header["count"] == 1 and header["stages"][a["stage"][0]] == "reported" and a["overdue"][0] == 0
    lon, lat = a["positions"].astype(np.float64) + np.array(header["origin"])
    assert abs(lon - 114.8808) < 1e-5 and abs(lat - 40.8011) < 1e-5
    assert header["categories"][a["category"][0]] == "flying_line_charging"
    risk1 = unpack(client.get("/api/dashboard/risk.bin").data)[1]["score"]
    assert risk1[0] > risk0[0] and risk1[1:].tolist() == risk0[1:].tolist()  # only B1 got riskier


def test_six_nos_kpi_equals_the_report(client):
    for _ in range(3):  # three fire hazards at B1 make a repeat hotspot in compound C1: C1 fails "no fire hazard"
        report(client, code="fire_hazard")
    six = client.get("/api/dashboard/kpis").get_json()["six_nos"]
    rating = client.get("/api/reports/sixnos", headers={"Authorization": f"Bearer {PLANNER}"}).get_json()
    assert six["met"] == rating["summary"]["passed"] == 2 and six["total"] == 3
    assert six["quarter"] == rating["quarter"]["label"]


def test_grids_json(client):
    grids = client.get("/api/dashboard/grids.json").get_json()["grids"]
    a1 = next(g for g in grids if g["code"] == GA1)
    assert len(a1["paths"]) == 1 and len(a1["paths"][0]) == 5
    lon, lat = a1["label"]
    assert 114.880 < lon < 114.882 and 40.800 < lat < 40.803
    assert "worker" not in a1 and "worker_phone" not in a1


def test_page_in_chinese_and_english(client):
    zh = client.get("/dashboard").get_data(as_text=True)
    assert "一图看社区" in zh and "物业状态" in zh and "dashboard.js" in zh
    cfg = json.loads(zh.split('id="twin-config" type="application/json">')[1].split("</script>")[0])
    assert cfg["lang"] == "zh" and cfg["transport"] == "binary" and cfg["refreshSeconds"] == 30
    assert cfg["bbox"] == [114.88, 40.8, 114.888, 40.803] and cfg["levels"] == ["low", "medium", "high", "critical"]
    en = client.get("/dashboard?lang=en&transport=geojson").get_data(as_text=True)
    assert "Property" in en and '"transport":"geojson"' in en.replace(" ", "")
    landing = client.get("/", headers={"Accept": "text/html"})
    assert landing.status_code == 200 and "dashboard.js" in landing.get_data(as_text=True)


def test_refresh_and_base_map_settings_reach_the_page(tiny_dir, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tiny_dir),
            "STATE_DIR": str(tmp_path / "s"),
            "REFRESH_SECONDS": 2,
            "TILE_URL": "http://tiles.local/{z}/{x}/{y}.png",
            "TILE_CRS": "GCJ02",
        }
    )
    html = app.test_client().get("/dashboard").get_data(as_text=True)
    cfg = json.loads(html.split('id="twin-config" type="application/json">')[1].split("</script>")[0])
    assert cfg["refreshSeconds"] == 2 and cfg["tileCrs"] == "gcj02"
    assert cfg["tileUrl"] == "http://tiles.local/{z}/{x}/{y}.png"


def test_care_incidents_are_counted_but_not_drawn(app, client):
    app.extensions["twin"].incidents.create({"category": "sos", "source": "sensor", "household_id": "H1"}, actor="t")
    report(client)
    header, a = unpack(client.get("/api/dashboard/incidents.bin").data)
    assert header["count"] == 1 and header["categories"][a["category"][0]] == "flying_line_charging"
    assert client.get("/api/dashboard/kpis").get_json()["open"] == 2
