"""Every building, every household, in headless Chromium on the tiny street (tests/tiny.py): a click on a building
opens its floors × units (households only for staff of its grid), and the search box finds a compound by name and by
pinyin initials and flies the map there."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.live import chromium_page, live_server, tiny_app
from tests.tiny import GA1, GB1

pytestmark = pytest.mark.browser

TOKENS = [
    {"role": "staff", "token": "staff-a1", "grids": [GA1]},
    {"role": "staff", "token": "staff-b1", "grids": [GB1]},
]
B1_CENTRE = (114.88085, 40.80115)  # tests/tiny.py: B1 is the box 114.8807-114.8810 x 40.8010-40.8013, 18 m high
C1_CENTRE = (114.881, 40.8015)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = tiny_app(tmp_path_factory, TOKENS)
    with live_server(app) as base:
        yield base


def open_dashboard(page, base, token=None):
    if token:
        page.add_init_script(f"sessionStorage.setItem('twin.token', {json.dumps(token)})")
    page.goto(base + "/dashboard")
    page.wait_for_function("window.twinDashboard && twinDashboard.drawnAt", timeout=45000)


def click_building(page, lon, lat, height):
    """Click the roof of the building at (lon, lat) where the page's camera shows it, until the panel opens."""
    page.wait_for_load_state("networkidle")
    for _ in range(3):  # a click while deck.gl is still settling its first frames can go unpicked
        x, y = page.evaluate(
            "([lon, lat, h]) => Twin.currentMap().getViewports()[0].project([lon, lat, h]).slice(0, 2)",
            [lon, lat, height],
        )
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        try:
            page.wait_for_selector("#drill:not([hidden])", timeout=10000)
            return
        except Exception:
            continue


def test_clicking_a_building_opens_its_floors_and_units_with_households(server):
    with chromium_page() as page:
        open_dashboard(page, server, "staff-a1")
        click_building(page, *B1_CENTRE, 18)
        page.wait_for_selector("#drill[data-building='B1'][data-personal='true']", timeout=20000)
        assert page.locator("#drill .drill-cell").count() == 12  # 6 floors x 2 units x 1 room
        assert page.locator("#drill .drill-cell[data-household]").count() == 3
        # coloured by elderly living alone (the first flag): H1 differs from H2
        colours = page.evaluate(
            "() => ['H1', 'H2'].map((h) => getComputedStyle(document.querySelector("
            "`#drill .drill-cell[data-household='${h}']`)).backgroundColor)"
        )
        assert colours[0] != colours[1]
        page.click("#drill .drill-cell[data-household='H1']")
        page.wait_for_selector("#drill .drill-record[data-household='H1']", timeout=20000)
        assert "住户H1" in page.inner_text("#drill .drill-record")
        page.click("#drill .drill-flags button[data-flag='size']")
        assert page.locator("#drill .drill-legend .legend-item").count() == 5
        assert not page.errors, page.errors


@pytest.mark.parametrize("token", [None, "staff-b1"])
def test_staff_of_another_grid_and_the_public_see_no_household(server, token):
    with chromium_page() as page:
        open_dashboard(page, server, token)
        click_building(page, *B1_CENTRE, 18)
        page.wait_for_selector("#drill[data-building='B1'][data-personal='false']", timeout=20000)
        assert page.locator("#drill .drill-cell").count() == 0
        text = page.inner_text("#drill")
        assert "住户H" not in text and "1380000" not in text and "<3" in text  # one elderly person alone: hidden
        assert not page.errors, page.errors


@pytest.mark.parametrize("typed", ["纺织厂", "fzcss"])
def test_search_finds_a_compound_by_name_or_initials_and_flies_there(server, typed):
    with chromium_page() as page:
        open_dashboard(page, server)
        before = page.evaluate("twinDashboard.view()")
        page.fill("#twin-search input", typed)
        item = page.locator("#twin-search li[data-kind='compound'][data-id='C1']")
        item.wait_for(timeout=20000)
        assert "纺织厂宿舍" in item.inner_text()
        item.click()
        page.wait_for_function(
            "([x, y]) => { const v = twinDashboard.view(); "
            "return Math.abs(v[0] - x) < 2e-4 && Math.abs(v[1] - y) < 2e-4 && v[2] > 17; }",
            arg=list(C1_CENTRE),
            timeout=20000,
        )
        assert page.evaluate("twinDashboard.view()")[2] > before[2]
        assert page.evaluate("Twin.currentMap().props.layers.some((l) => l && l.id === 'search-hit')")
        assert not page.errors, page.errors


def test_tooltips_name_grid_worker_open_incidents_and_deadlines(server):
    body = json.dumps({"service_code": "garbage", "lat": 40.8011, "long": 114.8811}).encode()  # beside B1, grid A1
    req = urllib.request.Request(
        server + "/open311/v2/requests.json", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        iid = json.loads(r.read())[0]["service_request_id"]
    with chromium_page() as page:
        open_dashboard(page, server, "staff-a1")
        page.evaluate("twinDashboard.refreshNow()")
        page.wait_for_function("twinDashboard.incidents >= 1", timeout=20000)
        page.wait_for_load_state("networkidle")
        box = page.locator("#map").bounding_box()
        x, y = page.evaluate("p => Twin.currentMap().getViewports()[0].project(p).slice(0, 2)", [*B1_CENTRE, 18])
        page.mouse.move(box["x"] + x, box["y"] + y)
        tip = page.locator(".twin-tooltip")
        tip.wait_for(timeout=10000)
        text = tip.inner_text()
        assert "东风一网格" in text and "李网格" in text and "在办事件" in text
        x, y = page.evaluate("p => Twin.currentMap().getViewports()[0].project(p).slice(0, 2)", [114.8811, 40.8011, 0])
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.wait_for_function(f"document.querySelector('.twin-tooltip')?.innerText.includes('{iid}')", timeout=10000)
        text = page.locator(".twin-tooltip").inner_text()
        assert "纺织厂宿舍B1号楼" in text and "下一时限" in text
        assert not page.errors, page.errors


def test_a_building_clicked_on_the_planner_opens_its_floors_and_units(server):
    with chromium_page() as page:
        page.add_init_script("sessionStorage.setItem('twin.token', 'staff-a1')")
        page.goto(server + "/planner")
        page.wait_for_selector("body[data-planner=ready]", timeout=30_000)
        page.click("#pl-mode button[data-mode=pick]")
        box = page.locator("#map").bounding_box()
        x, y = page.evaluate("p => window.twinPlanner.project(p)", list(B1_CENTRE))
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_selector("#drill[data-building='B1'][data-personal='true']", timeout=20000)
        assert page.locator("#drill .drill-cell[data-household]").count() == 3
        assert not page.errors, page.errors
