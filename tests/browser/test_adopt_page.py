"""Adopting a redraw in headless Chromium on the tiny street (tests/tiny.py; issue 19): run a redraw as admin, read the
hand-over list, pick a point on the trade-off chart, adopt it, see the new grids on the dashboard and the old plan in
the history, roll back (and the dashboard shows today's grids again)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.browser.signin import sign_in
from tests.live import chromium_page, live_server
from tests.tiny import GA1, GA2, GB1, write_tiny
from web import create_app

pytestmark = pytest.mark.browser

TOKEN = "adopt-admin-token"
PASSWORD = "adopt-pass-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TODAY = sorted([GA1, GA2, GB1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(write_tiny(tmp_path_factory.mktemp("data") / "tiny")),
            "STATE_DIR": str(tmp_path_factory.mktemp("state")),
            "TOKENS": json.dumps([{"role": "admin", "token": TOKEN, "name": "street-admin"}]),
            "REDRAW_WORKERS": 1,
        }
    )
    app.extensions["accounts"].add("office-head", "admin", PASSWORD)  # the office head signs in to adopt
    with live_server(app) as base:
        yield base


def dashboard_grids(page, base) -> list:
    page.goto(f"{base}/dashboard")
    page.wait_for_function("window.twinDashboard && twinDashboard.gridCodes", timeout=45_000)
    return sorted(page.evaluate("twinDashboard.gridCodes"))


def test_redraw_handover_pick_adopt_history_rollback(server):
    with chromium_page() as page:
        assert dashboard_grids(page, server) == TODAY
        sign_in(page, server, "office-head", PASSWORD, "/redraw")
        page.check("input[name=count_mode][value=grids]")
        page.fill("#rd-count", "4")
        page.fill("#rd-band", "5")
        page.select_option("#rd-start", "fresh")
        assert page.is_checked("#rd-frontier-on")
        page.click("#rd-start-btn")
        page.wait_for_selector("body[data-redraw=done]", timeout=90_000)
        job = requests.get(
            f"{server}/api/jobs/{page.evaluate('document.body.dataset.job')}", headers=AUTH, timeout=10
        ).json()
        assert [p["keep"] for p in job["frontier"]] == [0.0, 0.3, 0.6, 0.9]

        # the hand-over list is the API's, row for row
        def shown_moves():
            return page.evaluate("""() => [...document.querySelectorAll('#rd-moves tbody tr')]
                .map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent))""")

        moves = job["handover"]["moves"]
        assert len(moves) > 0
        assert [r[:2] + r[5:] for r in shown_moves()] == [
            [m["from_grid"] or "–", m["to_grid"], f"{m['households']:,}"] for m in moves
        ]
        # pick the frontier point that keeps most of today's plan
        page.click("#rd-frontier-chart circle[data-keep='0.9']")
        page.wait_for_selector("body[data-keep='0.9']")
        page.wait_for_selector("#rd-frontier-chart circle.chosen[data-keep='0.9']")
        picked = requests.get(f"{server}{job['handover_url']}?keep=0.9", headers=AUTH, timeout=10).json()
        assert len(shown_moves()) == len(picked["moves"])
        new_codes = sorted(
            f["properties"]["grid_code"]
            for f in requests.get(f"{server}{job['result_url']}?keep=0.9", headers=AUTH, timeout=10).json()["features"]
        )
        assert new_codes != TODAY
        # adopt from today
        page.click("#rd-adopt-btn")
        page.wait_for_selector("body[data-adopted]")
        plan_id = page.evaluate("document.body.dataset.adopted")
        page.wait_for_selector(f"#rd-history li.in-force[data-plan='{plan_id}']")
        assert page.locator("#rd-history li[data-status=baseline]").count() == 1
        plans = requests.get(f"{server}/api/plans", timeout=10).json()["plans"]
        assert plans[0]["id"] == int(plan_id) and plans[0]["summary"]["params"]["keep"] == 0.9
        old = requests.get(f"{server}{plans[1]['url']}", timeout=10).json()
        assert sorted(f["properties"]["grid_code"] for f in old["features"]) == TODAY
        assert page.errors == []

        assert dashboard_grids(page, server) == new_codes
        # roll back from the history list on the redraw page: today's grids again on the dashboard
        page.goto(f"{server}/redraw")
        page.click(f"#rd-history li[data-plan='{plan_id}'] button.rollback")
        page.wait_for_selector(f"body[data-rolled-back='{plan_id}']")
        page.wait_for_selector(f"#rd-history li[data-plan='{plan_id}'][data-status=rolled_back]")
        assert dashboard_grids(page, server) == TODAY
        assert page.errors == []
