"""Open311 GeoReport v2 intake and staff actions over HTTP, on the tiny street; bad input stores nothing."""
import json

import pytest

from tests.tiny import GA1, GB1
from web import create_app

STAFF, ADMIN, LIMITED = "staff-token", "admin-token", "limited-token"
TOKENS = json.dumps([{"role": "staff", "token": STAFF, "name": "李网格"}, {"role": "admin", "token": ADMIN},
                     {"role": "staff", "token": LIMITED, "grids": [GB1], "name": "赵网格"}])
GOOD = {"lat": "40.8011", "long": "114.8808", "service_code": "garbage", "description": "3号楼道堆满杂物",
        "first_name": "小明", "last_name": "王", "phone": "13800001111", "email": "wang@example.cn"}


@pytest.fixture
def app(tiny_dir, tmp_path):
    return create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state"),
                       "TOKENS": TOKENS})


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def post(client, data=None, **kw):
    return client.post("/open311/v2/requests.json", data=GOOD if data is None else data, **kw)


def test_services_in_chinese_and_english(client):
    zh = client.get("/open311/v2/services.json").get_json()
    g = next(s for s in zh if s["service_code"] == "garbage")
    assert g["service_name"] == "垃圾杂物堆放" and g["metadata"] is False and g["type"] == "realtime"
    assert g["group"] == "环境卫生" and "无垃圾杂物" in g["description"]
    assert "care_visit" not in {s["service_code"] for s in zh}
    en = client.get("/open311/v2/services.json?lang=en").get_json()
    assert next(s for s in en if s["service_code"] == "garbage")["service_name"] == "Garbage and clutter"
    assert client.get("/open311/v2/services/garbage.json").get_json() == {"service_code": "garbage",
                                                                         "attributes": []}


def test_post_then_read_back(client, app):
    r = post(client)
    assert r.status_code == 201
    [ack] = r.get_json()
    rid = ack["service_request_id"]
    assert "东风一网格" in ack["service_notice"]
    [got] = client.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert got["status"] == "open" and got["service_code"] == "garbage" and got["lat"] == 40.8011
    assert got["status_notes"] == "已上报" and got["agency_responsible"] == "东风一网格"
    ext = got["extended_attributes"]
    assert ext["stage"] == "reported" and ext["grid_code"] == GA1 and ext["compound_id"] == "C1"
    assert ext["worker"] == "李网格" and ext["building_id"] == "B1"
    assert got["expected_datetime"].endswith("+08:00")  # the accept limit, in the office's time zone
    # public callers never see contact fields; staff of the grid do
    assert "contact_phone" not in ext and "王" not in json.dumps(got, ensure_ascii=False).replace("王网格", "")
    [staff] = client.get(f"/open311/v2/requests/{rid}.json", headers=auth(STAFF)).get_json()
    assert staff["extended_attributes"]["contact_phone"] == "13800001111"
    assert staff["extended_attributes"]["contact_name"] == "小明 王"
    [other] = client.get(f"/open311/v2/requests/{rid}.json", headers=auth(LIMITED)).get_json()
    assert "contact_phone" not in other["extended_attributes"]
    lst = client.get("/open311/v2/requests.json").get_json()
    assert [x["service_request_id"] for x in lst] == [rid]
    assert "contact_phone" not in lst[0]["extended_attributes"]


def test_json_body_is_accepted(client):
    r = client.post("/open311/v2/requests.json", json=GOOD)
    assert r.status_code == 201


def test_list_filters_and_paging(client):
    ids = [post(client, dict(GOOD, service_code=c)).get_json()[0]["service_request_id"]
           for c in ("garbage", "parking", "garbage", "lighting")]
    q = lambda s: [x["service_request_id"] for x in client.get("/open311/v2/requests.json" + s).get_json()]  # noqa
    assert set(q("?service_code=garbage")) == {ids[0], ids[2]}
    assert set(q("?service_code=garbage,lighting")) == {ids[0], ids[2], ids[3]}
    assert q("?page_size=3") == ids[::-1][:3] and q("?page_size=3&page=2") == [ids[0]]
    assert q(f"?service_request_id={ids[1]},{ids[3]}") == [ids[3], ids[1]]
    assert len(q("?status=open")) == 4 and q("?status=closed") == []
    assert q("?start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == []
    r = client.get("/open311/v2/requests.json?status=pending")
    assert r.status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests/GD0.json").status_code == 404


def test_staff_actions_and_closed_status(client):
    rid = post(client).get_json()[0]["service_request_id"]
    act = lambda token, **f: client.post(f"/api/incidents/{rid}/actions", data=f, headers=auth(token))  # noqa
    assert client.post(f"/api/incidents/{rid}/actions", data={"action": "accept"}).status_code == 401
    assert act(LIMITED, action="accept").status_code == 403     # grid A1 is not among the limited staff's grids
    r = act(STAFF, action="resolve")
    assert r.status_code == 409 and r.get_json()["code"] == "conflict"
    for a in ("accept", "arrive", "resolve"):
        assert act(STAFF, action=a).status_code == 200
    r = act(STAFF, action="close", rating="5", note="回访满意")
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    assert r.get_json()["extended_attributes"]["rating"] == 5
    assert act(STAFF, action="close").status_code == 409
    assert act(STAFF, action="fly").status_code == 400
    h = client.get(f"/api/incidents/{rid}/history", headers=auth(ADMIN)).get_json()
    assert [e["action"] for e in h] == ["report", "accept", "arrive", "resolve", "close"]
    assert h[-1]["actor"] == "李网格" and h[-1]["note"] == "回访满意"
    assert client.get(f"/api/incidents/{rid}/history").status_code == 401
    [got] = client.get("/open311/v2/requests.json?status=closed").get_json()
    assert got["service_request_id"] == rid


BAD = [
    ("missing lat", {k: v for k, v in GOOD.items() if k != "lat"}, "lat"),
    ("missing long", {k: v for k, v in GOOD.items() if k != "long"}, "long"),
    ("non-numeric lat", dict(GOOD, lat="north"), "lat"),
    ("non-numeric long", dict(GOOD, long="1e400"), "long"),
    ("outside the street", dict(GOOD, lat="39.9", long="116.4"), "lat"),
    ("unknown service_code", dict(GOOD, service_code="unicorn"), "service_code"),
    ("internal service_code", dict(GOOD, service_code="care_visit"), "service_code"),
    ("description too long", dict(GOOD, description="长" * 4001), "description"),
    ("script in description", dict(GOOD, description="<script>alert('x')</script>"), "description"),
    ("html in name", dict(GOOD, first_name='<img src=x onerror="alert(1)">'), "contact_name"),
    ("javascript media_url", dict(GOOD, media_url="javascript:alert(1)"), "media_url"),
    ("bad email", dict(GOOD, email="not-an-address"), "contact_email"),
]


@pytest.mark.parametrize("case,data,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_400_and_stores_nothing(client, app, case, data, field):
    r = post(client, data)
    assert r.status_code == 400
    err = r.get_json()
    assert err["status"] == 400 and err["code"] == "invalid_input" and err["message"]
    assert err["details"]["field"] == field
    assert app.extensions["twin"].incidents.store.count() == 0


@pytest.mark.parametrize("kwargs", [
    {"data": "lat=40.8011&long=114.8808&service_code=garbage", "content_type": "text/plain"},
    {"data": b"\x00\x01", "content_type": "application/octet-stream"},
    {"data": "{not json", "content_type": "application/json"},
    {"data": "[1, 2]", "content_type": "application/json"},
])
def test_body_that_is_not_form_or_json(client, app, kwargs):
    r = client.post("/open311/v2/requests.json", **kwargs)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_input"
    assert app.extensions["twin"].incidents.store.count() == 0
