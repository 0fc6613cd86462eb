"""A throw-away PostgreSQL + PostGIS cluster for anchors in benches: started when the binaries are present.

    with postgis_cluster(tmp) as conn:      # None when PostgreSQL is not installed
        ...

initdb refuses root, so as root the cluster runs as the `postgres` user (runuser); it listens on a unix socket
in the temporary directory only (no TCP), and is stopped and removed on exit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PORT = 54329


def _run(args: list[str]) -> None:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextlib.contextmanager
def postgis_cluster(tmp: Path):
    """A psycopg connection to a fresh PostGIS database in `tmp`, or None without PostgreSQL or psycopg."""
    try:
        import psycopg
    except ImportError:
        psycopg = None
    if psycopg is None or not (PG_BIN / "initdb").exists():
        yield None
        return
    root = Path(tmp) / "pg"
    data, sock = root / "data", root / "sock"
    sock.mkdir(parents=True)
    if os.geteuid() == 0:
        os.chmod(tmp, os.stat(tmp).st_mode | 0o011)  # the postgres user must pass through to its directory
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    _run(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-o",
            f"-k {sock} -p {PORT} -c listen_addresses='' -c fsync=off -c shared_buffers=256MB",
            "start",
        ]
    )
    try:
        conn = psycopg.connect(host=str(sock), port=PORT, user="postgres", dbname="postgres", autocommit=True)
        conn.execute("CREATE EXTENSION postgis")
        yield conn
        conn.close()
    finally:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
