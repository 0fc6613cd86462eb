"""The work queue (/work) in headless Chromium on the tiny street: a clerk of one grid signs in, sees only her grid,
filters, works an incident accept → on site → resolve through the buttons and reads the history; a transition the
lifecycle does not allow is never offered; an SOS posted by a wristband through the sensor endpoint raises an alert
on the open page (and on the wall dashboard of a signed-in clerk) without a reload."""

from __future__ import annotations

import pytest
import requests

from tests.browser.signin import sign_in
from tests.live import chromium_page, live_server
from tests.tiny import GA1
from web import create_app

pytestmark = pytest.mark.browser

PASSWORD = "clerk-pass-1"
A1 = {"lat": "40.8011", "long": "114.8808"}  # grid A1
B1 = {"lat": "40.8011", "long": "114.8851"}  # grid B1


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.tiny import write_tiny

    data = write_tiny(tmp_path_factory.mktemp("tiny"))
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(data),
            "STATE_DIR": str(tmp_path_factory.mktemp("state")),
            "SENSOR_KEYS": "band-key",
            "ALERT_POLL_SECONDS": 1,
        }
    )
    app.extensions["accounts"].add("clerk", "staff", PASSWORD, grids=[GA1])
    with live_server(app) as base:
        for where, code in ((A1, "garbage"), (A1, "water_leak"), (B1, "garbage")):
            r = requests.post(f"{base}/open311/v2/requests.json", data={**where, "service_code": code}, timeout=10)
            assert r.status_code == 201
        yield base, app


@pytest.fixture(scope="module")
def app(live):
    return live[1]


@pytest.fixture(scope="module")
def server(live):
    return live[0]


def items(page):
    return page.evaluate(
        "() => [...document.querySelectorAll('#wk-items li')].map(li => [li.dataset.id, li.dataset.grid])"
    )


def reload_list(page, action):
    page.evaluate("document.body.dataset.work = 'stale'")
    action()
    page.wait_for_selector("body[data-work=ready]", timeout=15_000)


def test_sign_in_filter_and_work_an_incident_through_the_buttons(server):
    with chromium_page() as page:
        sign_in(page, server, "clerk", PASSWORD, "/work")
        page.wait_for_selector("body[data-work=ready]", timeout=30_000)
        assert page.locator("h1").inner_text() == "工单台"
        assert page.locator("#twin-user").get_attribute("data-name") == "clerk"
        shown = items(page)
        assert len(shown) == 2 and {g for _, g in shown} == {GA1}  # the B1 report is not hers
        reload_list(page, lambda: page.select_option("#wk-category", "water_leak"))
        [(rid, _)] = items(page)
        page.click(f"#wk-items li[data-id='{rid}']")
        page.wait_for_selector(f"#wk-detail[data-id='{rid}'][data-stage=reported]")
        offered = page.eval_on_selector_all("#wk-d-actions button", "bs => bs.map(b => b.dataset.action)")
        assert offered == ["accept", "escalate"]  # no "on site" before accepting, no close
        assert page.locator("#wk-d-limits tr").count() == 3
        for action, stage in (("accept", "accepted"), ("arrive", "on_site"), ("resolve", "resolved")):
            page.fill("#wk-d-note", f"{action} by the page")
            page.click(f"#wk-d-actions button[data-action={action}]")
            page.wait_for_selector(f"#wk-detail[data-stage={stage}]", timeout=15_000)
        offered = page.eval_on_selector_all("#wk-d-actions button", "bs => bs.map(b => b.dataset.action)")
        assert offered == ["close", "reopen"]
        history = page.eval_on_selector_all("#wk-d-history li", "ls => ls.map(l => l.dataset.action)")
        assert history == ["report", "accept", "arrive", "resolve"]
        assert "resolve by the page" in page.locator("#wk-d-history").inner_text()
        api = requests.get(f"{server}/open311/v2/requests/{rid}.json", timeout=10).json()[0]
        assert api["extended_attributes"]["stage"] == "resolved"
        reload_list(page, lambda: page.select_option("#wk-stage", "open"))
        assert rid not in [i for i, _ in items(page)]  # done: off the open list
        assert page.errors == []


def test_a_refused_action_shows_the_servers_reason(server, app):
    with chromium_page() as page:
        sign_in(page, server, "clerk", PASSWORD, "/work")
        page.wait_for_selector("body[data-work=ready]", timeout=30_000)
        rid = items(page)[0][0]
        page.click(f"#wk-items li[data-id='{rid}']")
        page.wait_for_selector(f"#wk-detail[data-id='{rid}'] #wk-d-actions button[data-action=accept]")
        no_token = page.evaluate(
            """id => fetch(`/api/incidents/${id}/actions`, {method: 'POST',
                 headers: {'Content-Type': 'application/json'}, body: JSON.stringify({action: 'accept'})})
                 .then(r => r.status)""",
            rid,
        )
        assert no_token == 403  # a script on the page without the CSRF token is refused
        app.extensions["twin"].incidents.act(rid, "accept", actor="another clerk")  # the button is now stale
        page.click("#wk-d-actions button[data-action=accept]")
        page.wait_for_function("document.getElementById('twin-toast').textContent.includes('cannot accept')")
        assert not page.locator("#twin-toast").is_hidden()


def test_wrong_password_shows_a_message(server):
    with chromium_page() as page:
        page.goto(f"{server}/login")
        page.fill("#login-name", "clerk")
        page.fill("#login-password", "not-the-password")
        page.click("#login-submit")
        page.wait_for_selector("#login-message")
        assert page.locator("#login-message").inner_text().startswith("用户名或密码错误")


def test_an_sos_from_the_sensor_endpoint_raises_an_alert_on_the_open_pages(server):
    with chromium_page() as page:
        sign_in(page, server, "clerk", PASSWORD, "/work")
        page.wait_for_selector("body[data-work=ready]", timeout=30_000)
        wall = page.context.new_page()
        wall.goto(f"{server}/dashboard")
        wall.wait_for_function("window.twinDashboard && twinDashboard.drawnAt && twinDashboard.kpis", timeout=45_000)
        assert wall.evaluate("Twin.user.name") == "clerk"
        page.wait_for_timeout(2500)  # both pages have taken the current alert number
        r = requests.post(
            f"{server}/api/sensors/events",
            json={"type": "sos", "device_id": "band-3", "household_id": "H1"},
            headers={"X-API-Key": "band-key"},
            timeout=10,
        )
        assert r.status_code == 201
        rid = r.json()["incidents"][0]["incident_id"]
        for p in (page, wall):  # the promise: within 5 s, without a reload
            p.wait_for_selector(f"#twin-alerts .alert[data-kind=sos][data-id='{rid}']", timeout=5_000)
        page.wait_for_selector(f"#wk-items li[data-id='{rid}']", timeout=5_000)  # the list reloaded by itself
        page.wait_for_timeout(16_000)
        assert page.locator(f"#twin-alerts .alert[data-kind=sos][data-id='{rid}']").count() == 1  # SOS stays
        page.click(f"#twin-alerts .alert[data-id='{rid}'] button")
        assert page.locator("#twin-alerts .alert[data-kind=sos]").count() == 0
