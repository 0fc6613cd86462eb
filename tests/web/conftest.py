"""Fixtures for web tests: an app and a test client on the tiny street, with state in tmp_path.

A test module that sets `BACKENDS = tests.postgres.BACKENDS` runs each of its tests on the embedded default and on
PostgreSQL + PostGIS (the tiny street loaded with `twin db load` into a fresh database).
"""

from __future__ import annotations

import pytest

from tests.tiny import GA1, GB1
from web import create_app


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and hasattr(metafunc.module, "BACKENDS"):
        metafunc.parametrize("backend", metafunc.module.BACKENDS, indirect=True)


@pytest.fixture
def backend(request):
    """Which storage the app runs on: embedded (files + SQLite) unless the module asks for more."""
    return getattr(request, "param", "embedded")


@pytest.fixture
def app_config(backend, tiny_dir, tmp_path, request):
    """Settings of an app on the tiny street: live state in tmp_path, or in a fresh PostgreSQL database."""
    config = {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state")}
    if backend != "postgres":
        yield config
        return
    from twin.postgres.static import close_all

    yield {**config, "DATABASE_URL": request.getfixturevalue("tiny_database_url")}
    close_all()


@pytest.fixture
def app(app_config):
    """The Flask app on the tiny street (embedded, or PostgreSQL in modules that run on both backends)."""
    return create_app(app_config)


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
def app_with(app_config):
    """A factory of apps on the tiny street with extra settings (state in tmp_path, or the module's backend): two
    apps made by one factory share their store, as two processes would."""

    def make(**settings):
        return create_app({**app_config, **settings})

    return make
