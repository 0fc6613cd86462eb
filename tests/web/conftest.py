"""Fixtures for web tests: an app and a test client on the tiny street, with state in tmp_path."""

from __future__ import annotations

import pytest

from tests.tiny import GA1, GB1
from web import create_app


@pytest.fixture
def app(tiny_dir, tmp_path):
    """The Flask app on the tiny street; its SQLite state lives in tmp_path."""
    return create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state")})


@pytest.fixture
def client(app):
    """A Flask test client of `app`."""
    return app.test_client()


ROLE_TOKENS = [  # a caller of each kind on the tiny street (tests/tiny.py): its token is its name
    {"role": "staff", "token": "staff-a1", "grids": [GA1]},
    {"role": "staff", "token": "staff-b1", "grids": [GB1]},
    {"role": "planner", "token": "plan"},
    {"role": "admin", "token": "boss"},
]


@pytest.fixture
def roles_app(tiny_dir, tmp_path):
    """A factory: the app on the tiny street with ROLE_TOKENS and any extra settings."""
    import json

    def make(**config):
        base = {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state")}
        return create_app({**base, "TOKENS": json.dumps(ROLE_TOKENS), **config})

    return make


@pytest.fixture
def app_with(tiny_dir, tmp_path):
    """A factory of apps on the tiny street with extra settings (state in tmp_path)."""

    def make(**settings):
        return create_app(
            {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state"), **settings}
        )

    return make
