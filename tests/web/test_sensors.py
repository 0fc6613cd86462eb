"""Sensor events: API key required, SOS first in a batch, household events placed at the home, bad input not stored."""

import pytest

from tests.tiny import GB1
from web import create_app

KEY = "meter-key-1"


@pytest.fixture
def app(tiny_dir, tmp_path):
    import hashlib

    digest = hashlib.sha256(b"camera-key-2").hexdigest()
    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tiny_dir),
            "STATE_DIR": str(tmp_path / "state"),
            "SENSOR_KEYS": f"{KEY}, sha256:{digest}",
        }
    )


def send(client, payload, key=KEY):
    return client.post("/api/sensors/events", json=payload, headers={"X-API-Key": key} if key else {})


def count(app):
    return app.extensions["twin"].incidents.store.count()


def test_key_is_required(client, app):
    ev = {"type": "sos", "device_id": "WB-1", "lon": 114.8851, "lat": 40.8011}
    assert send(client, ev, key=None).status_code == 401
    assert send(client, ev, key="wrong").status_code == 401
    assert count(app) == 0
    assert send(client, ev, key="camera-key-2").status_code == 201  # accepted by its sha256 digest


def test_batch_is_stored_sos_first(client, app):
    batch = {
        "events": [
            {
                "type": "camera",
                "device_id": "CAM-3",
                "category": "garbage",
                "confidence": 0.91,
                "lon": 114.8808,
                "lat": 40.8011,
            },
            {"type": "water_leak", "device_id": "WM-10", "household_id": "H10"},
            {"type": "sos", "device_id": "WB-1", "household_id": "H1", "lon": 114.8809, "lat": 40.8012},
        ]
    }
    r = send(client, batch)
    assert r.status_code == 201
    got = r.get_json()["incidents"]
    assert [g["category"] for g in got] == ["sos", "water_leak", "garbage"]
    assert [g["priority"] for g in got] == [9, 5, 3]
    assert got[1]["grid_code"] == GB1 and got[1]["building_id"] == "B4" and got[1]["worker"] == "赵网格"
    f = app.extensions["twin"].incidents.frame()
    assert list(f["category"]) == ["sos", "water_leak", "garbage"]  # stored in that order too
    assert list(f["source"]) == ["sensor", "sensor", "camera"]
    assert "0.91" in f.loc[2, "description"]


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "meteor", "device_id": "X", "lon": 114.8808, "lat": 40.8011},
        {"type": "sos", "lon": 114.8808, "lat": 40.8011},  # no device
        {"type": "sos", "device_id": "WB-1"},  # no position
        {"type": "sos", "device_id": "WB-1", "lon": 116.4, "lat": 39.9},  # outside the street
        {"type": "camera", "device_id": "C", "category": "sos", "lon": 114.8808, "lat": 40.8011},
        {"type": "camera", "device_id": "C", "category": "garbage", "confidence": 3, "lon": 114.8808, "lat": 40.8011},
        {"events": [{"type": "sos", "device_id": "ok", "lon": 114.8808, "lat": 40.8011}, {"type": "nope"}]},
        {"events": []},
        {"type": ["sos"], "device_id": "WB-1", "lon": 114.8808, "lat": 40.8011},  # type not a string
        {"type": "camera", "device_id": "C", "category": {"x": 1}, "lon": 114.8808, "lat": 40.8011},
        {"type": "sos", "device_id": "WB-1", "lon": 114.8808, "lat": 40.8011, "note": "help\x00"},
        {"type": "sos", "device_id": 42, "lon": 114.8808, "lat": 40.8011},  # device_id not text
        {"events": {"type": "sos"}},
    ],
)
def test_bad_events_store_nothing(client, app, payload):
    r = send(client, payload)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_input"
    assert count(app) == 0


def test_not_json(client, app):
    r = client.post("/api/sensors/events", data="type=sos", content_type="text/plain", headers={"X-API-Key": KEY})
    assert r.status_code == 400 and count(app) == 0


def test_oversized_batch_is_413(client, app):
    ev = {"type": "sos", "device_id": "WB-1", "lon": 114.8808, "lat": 40.8011, "note": "跌倒" * 600}
    r = send(client, {"events": [ev] * 400})
    assert r.status_code == 413 and r.get_json()["status"] == 413 and count(app) == 0
