"""Issue 14 item 6: what each role may ask of the area query is bounded: vertices and area for public and planner
callers (400/413 at once, before any geometry work), and a per-address rate (429 with Retry-After)."""

from __future__ import annotations

import math

import pytest

from tests.web.attacks.conftest import ADMIN, PLANNER, STAFF, make_app
from twin.errors import TooManyRequests
from web.limits import RateLimiter


def circle(n: int, r: float = 0.001) -> dict:
    """A GeoJSON polygon of `n` vertices around the tiny street."""
    pts = [[114.884 + r * math.cos(2 * math.pi * i / n), 40.8015 + r * math.sin(2 * math.pi * i / n)] for i in range(n)]
    return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}


@pytest.fixture
def limited(tiny_dir, tmp_path):
    """The tiny street with a rate of 5 area queries a minute."""
    return make_app(tiny_dir, tmp_path / "state", AREA_RATE_PER_MINUTE=5).test_client()


@pytest.mark.parametrize("who", [{}, PLANNER], ids=["public", "planner"])
def test_a_100000_vertex_polygon_is_refused_for_public_and_planner(client, who):
    r = client.post("/api/area", json=circle(100_000), headers=who)
    assert r.status_code in (400, 413), r.status_code
    body = r.get_json()
    assert body["status"] == r.status_code and ("vertices" in body["message"] or r.status_code == 413)
    r = client.post("/api/area", json=circle(6000), headers=who)  # over PUBLIC_MAX_VERTICES, under MAX_VERTICES
    assert r.status_code == 400 and "5,000 vertices" in r.get_json()["message"]
    assert client.post("/api/area", json=circle(4000), headers=who).status_code == 200


def test_staff_keep_the_larger_vertex_limit(client):
    assert client.post("/api/area", json=circle(6000), headers=STAFF).status_code == 200


def test_area_size_is_limited_for_public_and_planner(client):
    huge = circle(64, r=0.1)  # 0.1° around: about 290 km², over the default 100
    for who in ({}, PLANNER):
        r = client.post("/api/area", json=huge, headers=who)
        assert r.status_code == 400 and "km²" in r.get_json()["message"]
    assert client.post("/api/area", json=huge, headers=ADMIN).status_code == 200


def test_rate_per_address_answers_429_with_retry_after(limited):
    codes = [limited.get("/api/area?grid=130702001001001").status_code for _ in range(8)]
    assert codes == [200] * 5 + [429] * 3
    r = limited.post("/api/area", json=circle(8))
    assert r.status_code == 429 and r.get_json()["code"] == "too_many_requests"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = limited.get("/api/area?grid=130702001001001", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200  # another address has its own budget
    assert limited.get("/api/area?grid=130702001001001", headers=STAFF).status_code == 200  # staff are not limited


def test_the_window_slides():
    lim = RateLimiter(2, window_s=60)
    assert [lim.hit("a", t) for t in (0, 1)] == [0, 0]
    assert lim.hit("a", 2) == pytest.approx(58)
    assert lim.hit("a", 60.5) == 0 and lim.hit("b", 2) == 0
    assert issubclass(TooManyRequests, Exception)
