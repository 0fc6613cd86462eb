"""A real Open311 GeoReport v2 client from PyPI (`georeport`) against waitress on 127.0.0.1.

`georeport` reads (services, service definitions, requests with filters, one request) in JSON and in XML; it has
no call that files a request, so the POST is the spec's plain form-encoded request, the way a 311 app sends it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

from tests.live import live_server
from tests.tiny import GA1, GB1
from web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tiny_dir, tmp_path):
    app = create_app({"DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state")})
    with live_server(app) as base:
        yield base, app


def file_request(base, **fields):
    """POST requests.json form-encoded, with the api_key and jurisdiction_id a GeoReport client adds."""
    data = {"api_key": "ignored-by-this-server", "jurisdiction_id": "130702", **fields}
    r = requests.post(f"{base}/open311/v2/requests.json", data=data, timeout=30)
    assert r.status_code == 201, r.text
    [ack] = r.json()
    return ack["service_request_id"]


def test_georeport_reads_services_and_requests(served):
    from georeport import GeoReport

    base, app = served
    client = GeoReport(f"{base}/open311/v2", jurisdiction="130702")

    services = client.get_service_list()
    codes = {s["service_code"]: s for s in services}
    assert codes["garbage"]["service_name"] == "垃圾杂物堆放" and codes["garbage"]["group"] == "环境卫生"
    assert codes["sos"]["metadata"] is False and "care_visit" not in codes
    assert client.get_service_definition("garbage") == {"service_code": "garbage", "attributes": []}

    assert client.get_service_requests() == []
    east = file_request(base, service_code="garbage", lat="40.8011", long="114.8808", description="楼道堆放杂物")
    west = file_request(
        base,
        service_code="parking",
        lat="40.8015",
        long="114.8860",
        description="消防通道停车",
        first_name="小明",
        phone="13800001111",
    )

    assert {r["service_request_id"] for r in client.get_service_requests()} == {east, west}
    [g] = client.get_service_requests(service_code="garbage")
    assert g["service_request_id"] == east and g["status"] == "open" and g["description"] == "楼道堆放杂物"
    assert g["extended_attributes"]["grid_code"] == GA1 and g["agency_responsible"] == "东风一网格"
    assert client.get_service_requests(status="closed") == []
    assert len(client.get_service_requests(status="open")) == 2
    assert client.get_service_requests(start_date="2000-01-01T00:00:00Z", end_date="2000-03-01T00:00:00Z") == []
    both = client.get_service_requests(service_request_id=f"{east},{west}")
    assert sorted(r["service_request_id"] for r in both) == sorted([east, west])

    one = client.get_service_request(west)
    assert one["service_code"] == "parking" and one["lat"] == 40.8015 and one["long"] == 114.886
    assert one["extended_attributes"]["grid_code"] == GB1 and one["extended_attributes"]["stage"] == "reported"
    assert one["expected_datetime"] > one["requested_datetime"]  # the accept deadline, same UTC offset
    assert "contact_phone" not in one["extended_attributes"]  # a public client never sees contacts
    assert app.extensions["twin"].incidents.store.count() == 2


def test_georeport_surfaces_errors_as_http_errors(served):
    from georeport import GeoReport

    base, _ = served
    client = GeoReport(f"{base}/open311/v2")
    with pytest.raises(requests.HTTPError) as e:
        client.get_service_request("GD000")
    assert e.value.response.status_code == 404 and e.value.response.json()["code"] == "not_found"
    with pytest.raises(requests.HTTPError) as e:
        client.get_service_requests(status="pending")
    assert e.value.response.status_code == 400 and e.value.response.json()["details"]["field"] == "status"


def test_georeport_reads_the_xml_format(served):
    from georeport import GeoReport

    base, _ = served
    client = GeoReport(f"{base}/open311/v2", output_format="xml")
    services = client.get_service_list()
    assert {"service_code": "garbage", "service_name": "垃圾杂物堆放"}.items() <= next(
        s for s in services if s["service_code"] == "garbage"
    ).items()
    assert next(s for s in services if s["service_code"] == "sos")["metadata"] == "false"
    assert client.get_service_definition("garbage") == {"service_code": "garbage", "attributes": None}

    r = requests.post(
        f"{base}/open311/v2/requests.xml",
        timeout=30,
        data={"service_code": "garbage", "lat": "40.8011", "long": "114.8808", "description": '水温<5度 & "冻裂"'},
    )
    assert r.status_code == 201 and r.headers["Content-Type"].startswith("text/xml")
    rid = ET.fromstring(r.content).findtext("request/service_request_id")
    file_request(base, service_code="parking", lat="40.8015", long="114.8860", description="消防通道停车")

    got = client.get_service_request(rid)  # a single <request> comes back as one dict
    assert got["service_request_id"] == rid and got["description"] == '水温<5度 & "冻裂"'
    assert got["lat"] == "40.8011" and got["extended_attributes"]["grid_code"] == GA1
    assert got["extended_attributes"]["overdue"] == "false" and got["media_url"] is None
    listed = client.get_service_requests()
    assert sorted(x["service_code"] for x in listed) == ["garbage", "parking"]


def test_xml_errors_are_the_json_error_body(served):
    base, app = served
    r = requests.post(
        f"{base}/open311/v2/requests.xml",
        data={"service_code": "garbage", "lat": "north", "long": "114.8808"},
        timeout=30,
    )
    assert r.status_code == 400 and r.json()["details"]["field"] == "lat"
    assert requests.get(f"{base}/open311/v2/requests/GD0.xml", timeout=30).status_code == 404
    assert app.extensions["twin"].incidents.store.count() == 0
