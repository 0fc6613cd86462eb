"""The /redraw page in headless Chromium: start a job from the form on the hand-made street, watch the progress
bar, then the two maps and a metrics table showing the same figures as the API, with no console errors."""

from __future__ import annotations

import json

import pytest
import requests

from tests.browser.signin import sign_in
from tests.live import chromium_page, live_server
from tests.twin.redraw.fixture import A, B, street
from twin.redraw.metrics import METRIC_ROWS
from web import create_app

pytestmark = pytest.mark.browser

TOKEN = "page-admin-token"
PASSWORD = "redraw-pass-1"
FORMATS = {  # the page's formats (web/static/redraw.js FORMAT), in Chinese
    "int": lambda v: f"{v:,}",
    "pct": lambda v: f"{v:.1f}%",
    "share": lambda v: f"{100 * v:.1f}%",
    "pp": lambda v: f"{v:.3f}",
    "bool": lambda v: "是" if v else "否",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "TWIN": street(),
            "STATE_DIR": str(tmp_path_factory.mktemp("state")),
            "TOKENS": json.dumps([{"role": "admin", "token": TOKEN}]),
            "REDRAW_WORKERS": 1,
        }
    )
    app.extensions["accounts"].add("office-head", "admin", PASSWORD)  # a redraw is for admins
    with live_server(app) as base:
        yield base


def test_start_a_job_and_see_the_same_metrics_as_the_api(server):
    with chromium_page() as page:
        sign_in(page, server, "office-head", PASSWORD, "/redraw")
        assert page.locator("h1").inner_text() == "网格重划"
        assert page.locator("#twin-user").get_attribute("data-name") == "office-head"
        page.check("input[name=count_mode][value=grids]")
        page.fill("#rd-count", "5")
        page.fill("#rd-band", "5")
        page.select_option("#rd-start", "fresh")
        page.click("#rd-start-btn")
        page.wait_for_selector("body[data-redraw=done]", timeout=60_000)
        assert page.locator(".progress-bar").get_attribute("aria-valuenow") == "100"
        job_id = page.evaluate("document.body.dataset.job")
        api = requests.get(
            f"{server}/api/jobs/{job_id}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ).json()
        assert api["status"] == "done" and api["params"]["grids"] == 5 and api["params"]["band"] == 0.05
        summary = api["summary"]
        assert summary["after"]["max_deviation_pct"] <= 5.0
        shown = page.evaluate("""() => [...document.querySelectorAll('#rd-table tbody tr')]
            .map(tr => [tr.dataset.key, tr.querySelector('th').textContent, tr.querySelector('td.before').textContent,
                        tr.querySelector('td.after').textContent])""")
        assert [row[0] for row in shown] == [key for key, *_ in METRIC_ROWS]  # every row, worker load change too
        for (key, label, before, after), (_, _en, zh, kind) in zip(shown, METRIC_ROWS):
            assert [label, before, after] == [
                zh,
                FORMATS[kind](summary["before"][key]),
                FORMATS[kind](summary["after"][key]),
            ], key
        assert page.locator("#map-before canvas").count() == 1 and page.locator("#map-after canvas").count() == 1
        assert page.locator("#rd-legend .legend-ramp").count() == 1
        assert page.locator("#rd-downloads").is_visible()
        page.wait_for_timeout(500)  # let deck.gl draw a frame
        assert page.errors == []


def test_bad_band_and_missing_sign_in_are_shown_not_thrown(server):
    with chromium_page(locale="en-GB") as page:
        page.goto(f"{server}/redraw?lang=en")
        assert page.locator("h1").inner_text() == "Grid redraw"
        page.click("#rd-start-btn")
        assert page.locator("#twin-toast").inner_text() == "Sign in as an admin first"
        sign_in(page, server, "office-head", PASSWORD, "/redraw?lang=en")
        page.fill("#rd-band", "80")
        page.click("#rd-start-btn")
        page.wait_for_function("document.getElementById('twin-toast').textContent.includes('band')")
        assert "band must be between" in page.locator("#twin-toast").inner_text()
        assert page.locator("#rd-start-btn").is_enabled()
        errors = [e for e in page.errors if "400" not in e]  # the refused POST itself is logged by Chromium
        assert errors == []


LEGEND_BAND = "[...document.querySelectorAll('#rd-legend .legend-item')].map((n) => n.textContent).join(' | ')"
RAMP_LABELS = "document.querySelector('#rd-legend .legend-ramp-labels').textContent"


def test_band_before_a_run_follows_the_field_and_the_grid_tooltip_covers_the_legend(server):
    with chromium_page() as page:
        sign_in(page, server, "office-head", PASSWORD, "/redraw")
        # before a run the legend shows the band typed in, as typed (7.5 is not rounded to 7 or 8)
        assert page.input_value("#rd-band") == "10" and "容差带 ±10%" in page.evaluate(LEGEND_BAND)
        page.fill("#rd-band", "7.5")
        assert "容差带 ±7.5%" in page.evaluate(LEGEND_BAND) and "15%" in page.evaluate(RAMP_LABELS)
        # a run with the street's names in its progress, never a community's code
        page.evaluate("""() => { window.seen = new Set();
            new MutationObserver(() => window.seen.add(document.getElementById('rd-progress-msg').textContent))
              .observe(document.getElementById('rd-progress-msg'), {childList: true, characterData: true,
                                                                    subtree: true}); }""")
        page.check("input[name=count_mode][value=grids]")
        page.fill("#rd-count", "5")
        page.click("#rd-start-btn")
        page.wait_for_selector("body[data-redraw=done]", timeout=60_000)
        seen = page.evaluate("[...window.seen]")
        assert seen and not any(A in m or B in m for m in seen), seen
        assert "容差带 ±7.5%" in page.evaluate(LEGEND_BAND)  # the run's band (the field's at its start)
        # hover a grid in the middle of the proposed map and bring the legend under its tooltip
        box = page.locator("#map-after").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(".twin-tooltip .tt-title", state="visible", timeout=10_000)
        top = page.evaluate("""() => {
            const el = document.querySelector('.twin-tooltip');
            el.style.pointerEvents = 'auto';  // hit-testable (deck.gl's tooltip lets the pointer through)
            const tip = el.getBoundingClientRect();
            const legend = document.getElementById('rd-legend');
            const maps = legend.offsetParent.getBoundingClientRect();
            const x = tip.left + tip.width / 2, y = tip.top + tip.height / 2;
            Object.assign(legend.style, {left: (x - maps.left - 10) + 'px', top: (y - maps.top - 10) + 'px',
                                         right: 'auto', bottom: 'auto'});
            const over = document.elementFromPoint(x, y);
            el.style.visibility = 'hidden';
            const under = document.elementFromPoint(x, y);
            return [Boolean(over.closest('.twin-tooltip')), Boolean(under.closest('#rd-legend'))];
        }""")
        assert top == [True, True]  # the tooltip is on top where it overlaps the legend (which is there)
        assert page.errors == []
