"""Issue 14 items 7-10: inputs that made the server answer 500 now get a 4xx JSON error (or work)."""

from __future__ import annotations

import pytest

from tests.web.attacks.conftest import ADMIN, SENSOR_KEY, STAFF, file_request


def test_redraw_with_special_care_weight_is_accepted(client):
    r = client.post("/api/redraw", json={"weights": {"special_care": 1}, "grids": 2}, headers=ADMIN)
    assert r.status_code == 202, r.get_json()
    job = client.application.extensions["jobs"].wait(r.get_json()["id"], timeout=120)
    assert job.status == "done", job.error


def json_endpoints(client):
    """(method path, headers) of every endpoint that reads a JSON body, with a caller allowed to call it."""
    rid = file_request(client)
    return [
        ("/api/area", {}),
        ("/api/redraw", ADMIN),
        ("/open311/v2/requests.json", {}),
        ("/open311/v2/requests.xml", {}),
        (f"/api/incidents/{rid}/actions", STAFF),
        ("/api/care/calls", STAFF),
        ("/api/sensors/events", {"X-API-Key": SENSOR_KEY}),
    ]


def assert_json_error(r, *statuses):
    statuses = statuses or (400,)
    assert r.status_code in statuses, (r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json()
    assert set(body) >= {"code", "message", "status"} and body["status"] == r.status_code
    return body


@pytest.mark.parametrize("depth", [100_000, 1_000])
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(client, depth):
    nested = "[" * depth + "]" * depth
    for path, headers in json_endpoints(client):
        for text in (nested, '{"x": ' + nested + "}"):
            r = client.post(path, data=text, content_type="application/json", headers=headers)
            body = assert_json_error(r, 400, 413)  # 413: larger than the endpoint reads at all
            # /api/area counts brackets before parsing: so many of them are refused as too many vertices
            assert "deep" in body["message"] or "vertices" in body["message"] or r.status_code == 413, (path, body)


def test_nesting_inside_strings_is_not_counted(client):
    r = client.post(
        "/open311/v2/requests.json",
        json={"service_code": "garbage", "lat": 40.8011, "long": 114.8808, "description": "[[[[" * 50},
    )
    assert r.status_code == 201, r.get_json()


def test_lone_surrogate_in_json_text_is_a_400_and_stores_nothing(client, app):
    svc = app.extensions["twin"].incidents
    before = len(svc.frame())
    raw = '{"service_code": "garbage", "lat": 40.8011, "long": 114.8808, "description": "a\\ud800b"}'
    for path, headers in json_endpoints(client):
        r = client.post(path, data=raw, content_type="application/json", headers=headers)
        body = assert_json_error(r)
        assert "surrogate" in body["message"], (path, body)
    assert len(svc.frame()) == before + 1  # only the request json_endpoints filed itself
    ok = raw.replace("\\ud800", "\\ud83d\\ude00")  # a paired surrogate is an emoji, and fine
    r = client.post("/open311/v2/requests.json", data=ok, content_type="application/json")
    assert r.status_code == 201
    got = client.get(f"/open311/v2/requests/{r.get_json()[0]['service_request_id']}.json").get_json()
    assert got[0]["description"] == "a\U0001f600b"


def test_a_lone_surrogate_sent_form_encoded_is_stored_safely(client):
    raw = b"service_code=garbage&lat=40.8011&long=114.8808&description=a%ED%A0%80b"  # UTF-8 bytes of U+D800
    r = client.post("/open311/v2/requests.json", data=raw, content_type="application/x-www-form-urlencoded")
    assert r.status_code in (201, 400), r.status_code
    if r.status_code == 201:  # decoded with replacement characters: valid text, stored and served
        got = client.get(f"/open311/v2/requests/{r.get_json()[0]['service_request_id']}.xml")
        assert got.status_code == 200 and b"<description>a" in got.data
