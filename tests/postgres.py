"""A throw-away PostgreSQL 15 + PostGIS cluster for tests (Debian's postgresql-15-postgis-3), started once a session.

`initdb` refuses to run as root, so the cluster belongs to the `postgres` user when the tests run as root; it listens on
a free port of 127.0.0.1 and a private socket directory, and is stopped (`-m fast`) and removed at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

BIN = Path(os.environ.get("TWIN_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Cluster:
    """One running cluster: its directory, port and the URL of its `postgres` database."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.sock = root / "sock"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> "Cluster":
        """initdb, start on a free port, wait until it answers."""
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        run = lambda cmd: subprocess.run(_as_owner(cmd), check=True, capture_output=True, text=True)  # noqa: E731
        run([str(BIN / "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D", str(self.data)])
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=on"
        run([str(BIN / "pg_ctl"), "-w", "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts, "start"])
        return self

    def stop(self) -> None:
        """Stop fast and remove the directory."""
        subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-w", "-D", str(self.data), "-m", "fast", "stop"]), check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self, template: str = "twin_template") -> str:
        """A fresh database copied from `template` (by default an empty one with PostGIS, made once); its URL."""
        import psycopg

        base = self.url.rsplit("/", 1)[0]
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'twin_template'").fetchone():
                conn.execute("CREATE DATABASE twin_template")
                with psycopg.connect(f"{base}/twin_template", autocommit=True) as tpl:
                    tpl.execute("CREATE EXTENSION postgis")
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return f"{base}/{name}"

    def loaded_database(self, data_dir, template: str) -> str:
        """A fresh database holding `data_dir` as `twin db load` leaves it (loaded once into `template`, copied)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()
        if not exists:
            url = load_into(self.new_database(), data_dir)
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} RENAME TO {template}")
        return self.new_database(template)

    def drop_database(self, url: str) -> None:
        """Drop a database made by new_database (its connections are closed first)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def load_into(url: str, data_dir) -> str:
    """Create the tables in `url` and load `data_dir` into them, as `twin db load` does; return `url`."""
    import contextlib
    import io

    from cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["db", "--url", url, "load", str(data_dir)]) == 0
    return url


@pytest.fixture(scope="session")
def pg_cluster():
    """A running PostgreSQL + PostGIS cluster for the whole session."""
    root = Path(tempfile.mkdtemp(prefix="twin-pg-"))
    cluster = Cluster(root).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def database_url(pg_cluster):
    """The URL of a fresh, empty PostGIS database (one per test, dropped after it)."""
    url = pg_cluster.new_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture
def tiny_database_url(pg_cluster, tiny_dir):
    """A fresh database holding the tiny street (as `twin db load` leaves it), dropped after the test."""
    url = pg_cluster.loaded_database(tiny_dir, "twin_tiny")
    yield url
    pg_cluster.drop_database(url)


BACKENDS = ("embedded", "postgres")
