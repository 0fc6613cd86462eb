"""The incidents collection on a real IncidentService: pages answered from its indexes, equal to brute force."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest

from tests.tiny import GA1
from twin.access import PERSONAL_CATEGORIES
from web import create_app

TOKENS = [{"role": "admin", "token": "boss"}, {"role": "staff", "token": "staff-a1", "grids": [GA1]}]
CARE = sorted(PERSONAL_CATEGORIES)[0]
POINTS = [(114.8808, 40.8011), (114.8829, 40.8011), (114.8851, 40.8011), (114.8866, 40.8011)]


class Clock:
    """A clock that moves on by one hour each time it is read, from 2026-05-01 00:00 UTC."""

    def __init__(self):
        self.t = pd.Timestamp("2026-05-01", tz="UTC")

    def __call__(self):
        self.t += pd.Timedelta(hours=1)
        return self.t


@pytest.fixture
def live(tiny_dir, tmp_path):
    """(client, service) on the tiny street with ten incidents written through the real service."""
    app = create_app(
        {"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s"), "TOKENS": json.dumps(TOKENS)}
    )
    service = app.extensions["twin"].incidents
    service.clock = Clock()
    for k in range(10):
        lon, lat = POINTS[k % len(POINTS)]
        category = CARE if k % 4 == 3 else ("garbage", "lighting")[k % 2]
        service.create({"category": category, "lon": lon, "lat": lat, "contact_phone": f"1370000000{k}"}, "test")
    return app.test_client(), service


def brute(service, admin: bool, bbox=None, start=None, end=None, **equals) -> list[str]:
    """Ids matching the query by a scan of the full frame, in position order."""
    f = service.frame()
    keep = np.ones(len(f), dtype=bool)
    if not admin:
        keep &= ~f["category"].isin(PERSONAL_CATEGORIES).to_numpy()
    if bbox is not None:
        keep &= (f["lon"].between(bbox[0], bbox[2]) & f["lat"].between(bbox[1], bbox[3])).to_numpy()
    if start is not None:
        keep &= (f["reported_at"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (f["reported_at"] <= pd.Timestamp(end)).to_numpy()
    for name, value in equals.items():
        keep &= (f[name] == value).to_numpy(dtype=bool)
    return f["incident_id"][keep].tolist()


QUERIES = [
    ({}, {}),
    ({"bbox": "114.880,40.800,114.884,40.802"}, {"bbox": (114.880, 40.800, 114.884, 40.802)}),
    (
        {"datetime": "2026-05-01T03:00:00Z/2026-05-01T07:00:00Z"},
        {"start": "2026-05-01T03:00:00Z", "end": "2026-05-01T07:00:00Z"},
    ),
    ({"datetime": "../2026-05-01T04:00:00Z"}, {"end": "2026-05-01T04:00:00Z"}),
    ({"category": "garbage"}, {"category": "garbage"}),
    ({"filter": "category = 'lighting'"}, {"category": "lighting"}),
    (
        {"stage": "reported", "bbox": "114.885,40.800,114.890,40.802"},
        {"stage": "reported", "bbox": (114.885, 40.8, 114.89, 40.802)},
    ),
]


@pytest.mark.parametrize("token", [None, "boss"])
@pytest.mark.parametrize("query, expected", QUERIES)
def test_a_write_then_a_page_equals_brute_force(live, token, query, expected):
    client, service = live
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client.get("/collections/incidents/items?limit=3", headers=headers)  # an earlier version answered once
    new = service.create({"category": "garbage", "lon": POINTS[0][0], "lat": POINTS[0][1]}, "test")
    want = brute(service, token == "boss", **expected)
    for limit, offset in ((100, 0), (2, 1), (3, 4)):
        args = urlencode({**query, "limit": limit, "offset": offset})
        r = client.get(f"/collections/incidents/items?{args}", headers=headers)
        assert r.status_code == 200, r.json
        assert [f["id"] for f in r.json["features"]] == want[offset : offset + limit]
        assert r.json["numberMatched"] == len(want)
    if not query:
        assert new["incident_id"] in want
    full = client.get(f"/collections/incidents/items?{urlencode({**query, 'limit': 100})}", headers=headers).json
    for feature in full["features"]:
        row = service.get(feature["id"])
        assert feature["properties"]["category"] == row["category"]
        assert feature["geometry"]["coordinates"] == [round(row["lon"], 7), round(row["lat"], 7)]
        assert ("contact_phone" in feature["properties"]) == (token == "boss")


def test_a_page_reads_only_its_rows_never_the_full_frame(live):
    client, service = live
    calls = []
    whole = service.frame
    service.frame = lambda: calls.append(1) or whole()  # a wrapper counting calls on the real service
    for path in (
        "/collections/incidents/items?limit=5",
        "/collections/incidents/items?limit=5&bbox=114.880,40.800,114.884,40.802",
        "/collections/incidents/items?limit=5&datetime=2026-05-01T03:00:00Z/..",
        "/collections/incidents/items?limit=5&category=garbage&filter=stage%3D'reported'",
    ):
        service.create({"category": "garbage", "lon": POINTS[1][0], "lat": POINTS[1][1]}, "test")
        for token in (None, "boss", "staff-a1"):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = client.get(path, headers=headers)
            assert r.status_code == 200 and r.json["features"], (path, r.json)
    one = r.json["features"][0]["id"]
    assert (
        client.get(f"/collections/incidents/items/{one}", headers={"Authorization": "Bearer boss"}).status_code == 200
    )
    assert calls == []
