"""Shared fixtures: the tiny hand-made street (tests/tiny.py) on disk and loaded."""

from __future__ import annotations

import pytest

from tests.tiny import write_tiny


@pytest.fixture
def tiny_dir(tmp_path):
    """A data directory holding the tiny street."""
    return write_tiny(tmp_path / "tiny")


@pytest.fixture
def tiny_twin(tiny_dir):
    """The tiny street loaded as a twin (with its incident store in the same tmp directory)."""
    from layers import open_twin

    return open_twin(tiny_dir)


from tests.postgres import database_url, pg_cluster, tiny_database_url  # noqa: E402,F401 - the throw-away PostgreSQL fixtures
