"""Fixtures for web tests: an app and a test client on the tiny street, with state in tmp_path."""

from __future__ import annotations

import pytest

from web import create_app


@pytest.fixture
def app(tiny_dir, tmp_path):
    """The Flask app on the tiny street; its SQLite state lives in tmp_path."""
    return create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state")})


@pytest.fixture
def client(app):
    """A Flask test client of `app`."""
    return app.test_client()


@pytest.fixture
def app_with(tiny_dir, tmp_path):
    """A factory of apps on the tiny street with extra settings (state in tmp_path)."""

    def make(**settings):
        return create_app(
            {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state"), **settings}
        )

    return make
