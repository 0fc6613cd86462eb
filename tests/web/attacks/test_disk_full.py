"""Issue 14 item 10: a full disk answers 507 with a message saying storage is full; nothing is half-written and
reads keep working. The full disk is real: SQLite's max_page_count caps the test's database, so the write fails
with the genuine SQLITE_FULL error ("database or disk is full")."""

from __future__ import annotations

import errno

from tests.web.attacks.conftest import STAFF, file_request
from twin.errors import storage_full


def fill_up(app) -> None:
    """Cap the incident database at the pages it already has: the next write that needs a page fails."""
    db = app.extensions["twin"].incidents.store._db
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count={pages}")


def test_a_full_disk_is_507_and_reads_keep_working(client, app):
    rid = file_request(client)
    svc = app.extensions["twin"].incidents
    fill_up(app)
    n = len(svc.frame())
    big = "漏水" * 1900  # each report needs new pages: the capped database refuses it
    statuses = []
    for _ in range(20):
        r = client.post(
            "/open311/v2/requests.json",
            data={"service_code": "garbage", "lat": "40.8011", "long": "114.8808", "description": big},
        )
        statuses.append(r.status_code)
        if r.status_code != 201:
            break
    assert statuses[-1] == 507, statuses
    body = r.get_json()
    assert body["code"] == "storage_full" and "storage is full" in body["message"]
    stored = sum(1 for s in statuses if s == 201)
    assert len(svc.frame()) == n + stored  # nothing half-written: memory matches what was committed
    assert svc.store.count() == n + stored
    assert client.get(f"/open311/v2/requests/{rid}.json").status_code == 200  # reads keep working
    assert client.get("/open311/v2/requests.json").status_code == 200
    r = client.post(f"/api/incidents/{rid}/actions", json={"action": "accept", "note": big[:2000]}, headers=STAFF)
    assert r.status_code in (200, 507), r.get_json()


def test_storage_full_recognises_enospc_and_nothing_else():
    assert storage_full(OSError(errno.ENOSPC, "No space left on device")) is not None
    assert storage_full(OSError(errno.EACCES, "Permission denied")) is None
    assert storage_full(ValueError("x")) is None
