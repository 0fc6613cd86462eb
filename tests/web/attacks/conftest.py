"""Fixtures for the attack tests (issue 14): the tiny street with one token per role, state in tmp_path."""

from __future__ import annotations

import json

import pytest

from web import create_app

TOKENS = [
    {"role": "planner", "token": "t-planner"},
    {"role": "staff", "token": "t-staff-a1", "grids": ["130702001001001"]},
    {"role": "staff", "token": "t-staff-b1", "grids": ["130702001002001"]},
    {"role": "staff", "token": "t-staff-all"},
    {"role": "admin", "token": "t-admin"},
]


def bearer(token: str) -> dict:
    """The Authorization header of `token`."""
    return {"Authorization": f"Bearer {token}"}


SENSOR_KEY = "k-sensor"
PLANNER, STAFF_A1, STAFF_B1, STAFF, ADMIN = (bearer(t["token"]) for t in TOKENS)


def make_app(data_dir, state_dir, **config):
    """The app on the street in `data_dir` with a token per role and a sensor key; `config` overrides settings."""
    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(data_dir),
            "STATE_DIR": str(state_dir),
            "TOKENS": json.dumps(TOKENS),
            "SENSOR_KEYS": SENSOR_KEY,
            **config,
        }
    )


@pytest.fixture
def app(tiny_dir, tmp_path):
    """The app on the tiny street with a token per role."""
    return make_app(tiny_dir, tmp_path / "state")


@pytest.fixture
def client(app):
    """A test client of `app`."""
    return app.test_client()


IN_B1 = {"lat": "40.8011", "long": "114.8808"}  # a point inside building B1 (grid A1)


def file_request(client, **fields) -> str:
    """File an Open311 request (garbage in B1 unless told otherwise) and return its id."""
    data = {"service_code": "garbage", **IN_B1, **fields}
    r = client.post("/open311/v2/requests.json", data=data)
    assert r.status_code == 201, r.get_json()
    return r.get_json()[0]["service_request_id"]
