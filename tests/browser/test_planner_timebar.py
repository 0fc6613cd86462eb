"""The planner's time bar on the demo street: the year's incidents on the map as they stood on the chosen day."""

from __future__ import annotations

import pytest

from tests.live import chromium_page, live_server
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app({"STATE_DIR": str(tmp_path_factory.mktemp("state"))})
    with live_server(app) as base:
        yield base


def test_the_planner_replays_the_year(server):
    with chromium_page() as page:
        page.goto(server + "/planner")
        page.wait_for_function("!document.getElementById('tb-day').disabled", timeout=90000)
        now = page.evaluate("twinPlanner.incidents")
        assert now > 0 and page.evaluate("twinPlanner.day") is None
        drawn = "Twin.currentMap().props.layers.find((l) => l && l.id === 'incidents')?.props.data.length ?? 0"
        assert page.evaluate(drawn) == now
        page.focus("#tb-day")
        page.keyboard.press("Home")
        page.wait_for_function("twinPlanner.day === 0", timeout=90000)
        first = page.evaluate("twinPlanner.incidents")
        assert first < now and page.evaluate(drawn) == first  # the first day of the year holds few incidents
        text = page.get_attribute("#tb-day", "aria-valuetext")
        assert text == page.locator("#tb-out").inner_text() and text[:4].isdigit()  # a date, read out
        page.click("[data-tb=live]")
        page.wait_for_function("twinPlanner.day === null", timeout=90000)
        assert page.evaluate("twinPlanner.incidents") == now
        assert page.errors == []
