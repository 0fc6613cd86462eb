"""The grid worker's phone at 390×844 in headless Chromium on the tiny street: the list and the map are both in
view, and a report with a photo from the 'camera' (a file input) ends in the new incident's detail with its photo."""

from __future__ import annotations

import io
import json
import urllib.request

import pytest
from PIL import Image

from tests.browser.signin import sign_in
from tests.live import chromium_page, live_server, tiny_app
from tests.tiny import GA1

pytestmark = pytest.mark.browser

TOKENS = [{"role": "staff", "token": "staff-a1", "grids": [GA1]}]
PASSWORD = "patrol-pass-1"
PHONE = (390, 844)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = tiny_app(tmp_path_factory, TOKENS)
    app.extensions["accounts"].add("worker", "staff", PASSWORD, grids=[GA1])  # the grid worker signs in on his phone
    with live_server(app) as base:
        body = json.dumps({"service_code": "garbage", "lat": 40.8015, "long": 114.8809}).encode()
        req = urllib.request.Request(
            base + "/open311/v2/requests.json", data=body, headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(req, timeout=30).close()
        yield base


def test_the_phone_shows_list_and_map_and_a_report_with_photo_ends_in_its_detail(server, tmp_path):
    photo = tmp_path / "stairwell.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 160, 60)).save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())
    with chromium_page(viewport=PHONE) as page:
        sign_in(page, server, "worker", PASSWORD, next_path="/patrol")
        page.wait_for_selector("#pt-list li.pt-item", timeout=30000)
        m, lst = page.locator("#map").bounding_box(), page.locator("#pt-list-view").bounding_box()
        assert m["width"] >= PHONE[0] - 2 and m["height"] >= 180
        assert lst["y"] >= m["y"] + m["height"] - 1 and lst["height"] >= 200  # below the map, not over it
        assert lst["y"] + 40 < PHONE[1]
        page.click("#pt-new")
        x, y = page.evaluate("() => Twin.currentMap().getViewports()[0].project([114.8808, 40.8011]).slice(0, 2)")
        page.mouse.click(m["x"] + x, m["y"] + y)
        page.wait_for_selector("#pt-send:not([disabled])", timeout=10000)
        page.select_option("#pt-category", "flying_line_charging")
        page.fill("#pt-form textarea[name=description]", "三楼窗口飞线充电")
        page.set_input_files("#pt-photo", str(photo))
        page.click("#pt-send")
        page.wait_for_selector("#pt-detail-view:not([hidden]) #pt-detail img[data-loaded='1']", timeout=30000)
        detail = page.evaluate("twinPatrol.detail")
        assert detail["category"] == "flying_line_charging" and detail["grid_code"] == GA1
        assert detail["photo"].endswith(detail["incident_id"] + "/photo")
        assert page.inner_text("#pt-detail").count("三楼窗口飞线充电") == 1
        # on site, then resolved with a note, through the existing actions API
        for action in ("accept", "arrive"):
            page.click(f"#pt-actions [data-action={action}]")
            page.wait_for_selector(f"#pt-actions [data-action={action}][disabled]", timeout=10000)
        page.fill("#pt-note", "已清理")
        page.click("#pt-actions [data-action=resolve]")
        page.wait_for_function("twinPatrol.detail && twinPatrol.detail.stage === 'resolved'", timeout=10000)
        assert "已清理" in page.inner_text("#pt-detail")
        assert not page.errors, page.errors


@pytest.mark.parametrize("path", ["/dashboard", "/planner", "/redraw", "/patrol"])
def test_every_page_at_390_px_leaves_the_map_in_view(server, path):
    """Sample the phone screen on a 12 × 20 grid: a fair share of the points must land on a map, not on a panel."""
    with chromium_page(viewport=PHONE) as page:
        sign_in(page, server, "worker", PASSWORD, next_path=path)
        page.wait_for_selector(".map", timeout=30000)
        page.wait_for_timeout(500)  # let the page lay its panels out (a settle, not a speed requirement)
        share = page.evaluate(
            """() => {
              let on = 0, n = 0;
              for (let i = 0; i < 12; i++) for (let j = 0; j < 20; j++) {
                const el = document.elementFromPoint((i + 0.5) * innerWidth / 12, (j + 0.5) * innerHeight / 20);
                n++; if (el && el.closest('.map')) on++;
              }
              return on / n;
            }"""
        )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert share >= 0.3, f"{path}: only {share:.0%} of the phone screen shows the map"
        assert width <= PHONE[0] + 1, f"{path} is {width} px wide at {PHONE[0]} px"
        assert not page.errors, page.errors
