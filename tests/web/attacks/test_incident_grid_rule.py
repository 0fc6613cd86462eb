"""Issue 14 item 3: every route that returns an incident, its history or notes applies one grid rule. Staff of
grid A1 walking the sequential ids reads nothing of grid B1's incidents but what the public may read."""

from __future__ import annotations

import re

from tests.web.attacks.conftest import ADMIN, SENSOR_KEY, STAFF_A1, STAFF_B1, file_request

IN_B4 = {"lat": "40.8011", "long": "114.8851"}  # building B4, grid B1
SECRET = "张三 13812345678"


def ids_around(known: list[str]) -> list[str]:
    """Every id from the first to the last known one, by their sequence number (ids are sequential)."""
    m = re.fullmatch(r"(.*?)(\d+)", known[0])
    prefix, width = m.group(1), len(m.group(2))
    nums = [int(re.fullmatch(r".*?(\d+)", k).group(1)) for k in known]
    return [f"{prefix}{n:0{width}d}" for n in range(min(nums), max(nums) + 2)]


def test_staff_of_another_grid_cannot_walk_the_ids_into_history_notes_or_care(client):
    mine = file_request(client)  # grid A1
    theirs = file_request(client, **IN_B4, first_name="张三", phone="13812345678")
    r = client.post(
        "/api/sensors/events",
        json={"type": "sos", "device_id": "WB-9", "lon": 114.8851, "lat": 40.8011},
        headers={"X-API-Key": SENSOR_KEY},
    )
    sos = r.get_json()["incidents"][0]["incident_id"]
    for rid in (theirs, sos):
        r = client.post(f"/api/incidents/{rid}/actions", json={"action": "accept", "note": SECRET}, headers=STAFF_B1)
        assert r.status_code == 200, r.get_json()
    seen_by_b1 = client.get(f"/api/incidents/{theirs}/history", headers=STAFF_B1)
    assert seen_by_b1.status_code == 200 and SECRET in seen_by_b1.get_data(as_text=True)  # the rule lets owners in

    leaks, statuses = [], {}
    for rid in ids_around([mine, theirs, sos]):
        for path in (
            f"/api/incidents/{rid}/history",
            f"/open311/v2/requests/{rid}.json",
            f"/open311/v2/requests/{rid}.xml",
        ):
            r = client.get(path, headers=STAFF_A1)
            statuses[path] = r.status_code
            text = r.get_data(as_text=True)
            if rid != mine and ("13812345678" in text or "张三" in text or (r.status_code == 200 and rid == sos)):
                leaks.append(path)
        r = client.post(f"/api/incidents/{rid}/actions", json={"action": "resolve"}, headers=STAFF_A1)
        assert r.status_code in (403, 404, 409) or rid == mine, (rid, r.status_code)
    assert leaks == []
    assert statuses[f"/api/incidents/{theirs}/history"] == 403
    assert statuses[f"/api/incidents/{sos}/history"] == 403
    assert statuses[f"/open311/v2/requests/{sos}.json"] == 403
    assert statuses[f"/api/incidents/{mine}/history"] == 200
    assert client.get(f"/api/incidents/{sos}/history", headers=ADMIN).status_code == 200
