"""The storage contract runs once per backend: the embedded default (files + SQLite) and PostgreSQL + PostGIS."""

from __future__ import annotations

import pytest

from tests.postgres import BACKENDS
from twin.store import open_storage


@pytest.fixture(params=BACKENDS)
def backend(request, tiny_dir, tmp_path):
    """A function opening (again and again, as another process would) the tiny street's Storage on one backend."""
    if request.param == "postgres":
        url = request.getfixturevalue("tiny_database_url")
        opened = []

        def reopen():
            opened.append(open_storage(database_url=url))
            return opened[-1]

        yield reopen
        for store in opened:
            store.close()
    else:
        yield lambda: open_storage(tiny_dir, tmp_path / "state")
