"""The wall dashboard in headless Chromium on the demo street: draws, shows the API's figures, picks up new incidents,
and keeps its layers, DOM, timers and heap flat over many refresh cycles."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tests.live import chromium_page, live_server
from web import create_app

pytestmark = pytest.mark.browser

REFRESH = 2  # seconds; the page polls this often in these tests
HANG_GUARD = 90  # seconds before a wait gives up (a guard against hanging, not a speed requirement)
PLANNER = "planner-token"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
BACKGROUND = (11, 16, 26)  # Twin.palette.background

# Count timers the page has pending (set minus cleared or fired), before any page script runs.
TIMER_PROBE = """
(() => {
  const live = new Set();
  const st = window.setTimeout, ct = window.clearTimeout, si = window.setInterval, ci = window.clearInterval;
  window.setTimeout = (fn, ms, ...a) => {
    const id = st((...b) => { live.delete(id); typeof fn === "function" && fn(...b); }, ms, ...a);
    live.add(id); return id;
  };
  window.clearTimeout = (id) => { live.delete(id); ct(id); };
  window.setInterval = (fn, ms, ...a) => { const id = si(fn, ms, ...a); live.add(id); return id; };
  window.clearInterval = (id) => { live.delete(id); ci(id); };
  window.__pendingTimers = () => live.size;
})();
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo street served live, with its incident state in a temporary directory."""
    app = create_app(
        {
            "STATE_DIR": str(tmp_path_factory.mktemp("state")),
            "REFRESH_SECONDS": REFRESH,
            "TOKENS": json.dumps([{"role": "planner", "token": PLANNER}]),
        }
    )
    with live_server(app) as base:
        yield base


def get(url, token=None):
    """(JSON body, headers) of a GET."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read()), resp.headers


def post_incident(base, lon, lat, code="fire_hazard"):
    """POST an Open311 request; its new id."""
    data = urllib.parse.urlencode(
        {"service_code": code, "long": lon, "lat": lat, "description": "楼道堆放电动车电池"}
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(base + "/open311/v2/requests.json", data=data), timeout=30) as r:
        assert r.status == 201
        return json.loads(r.read())[0]["service_request_id"]


def high_risk(base) -> int:
    """High plus critical buildings, from the per-level counts in the header of /api/dashboard/risk.bin."""
    with urllib.request.urlopen(base + "/api/dashboard/risk.bin", timeout=30) as resp:
        blob = resp.read()
    assert blob[:4] == b"TWB1"
    n = int.from_bytes(blob[4:8], "little")
    by_level = json.loads(blob[8 : 8 + n])["by_level"]
    return by_level["high"] + by_level["critical"]


def open_dashboard(page, base, query=""):
    page.add_init_script(TIMER_PROBE)
    page.goto(base + "/dashboard" + query)
    page.wait_for_function("window.twinDashboard && twinDashboard.drawnAt && twinDashboard.kpis", timeout=45000)


def shown_kpis(page) -> dict:
    """data-kpi → data-value of every KPI cell on the page."""
    return page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map((n) => [n.dataset.kpi, n.dataset.value]))"
    )


def expected(kpis: dict) -> dict:
    """What the KPI cells should hold for an API answer (the same keys, values as the page writes them)."""
    flat = {
        "open": kpis["open"],
        "overdue": kpis["overdue"],
        "closure_rate_month": kpis["closure_rate_month"],
        "mean_rating_month": kpis["mean_rating_month"],
        "six_nos": kpis["six_nos"]["met"],
        "care_unanswered_today": kpis["care_unanswered_today"],
        "reported": kpis["reported_today"],
    }
    flat.update({f"open_by_stage.{k}": v for k, v in kpis["open_by_stage"].items()})
    for per in ("today", "month"):
        flat.update({f"on_time_{per}.{k}": v for k, v in kpis[f"on_time_{per}"].items()})
    return {
        k: "" if v is None else (str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v)))
        for k, v in flat.items()
    }


def test_dashboard_draws_shows_the_api_figures_and_new_incidents(server, tmp_path):
    with chromium_page() as page:
        open_dashboard(page, server)
        page.wait_for_timeout(800)
        shot = page.screenshot()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "dashboard-test.png").write_bytes(shot)
        (tmp_path / "dashboard.png").write_bytes(shot)
        assert page.errors == []

        # the map is not blank: the area left of the KPI panel is mostly drawn, not background
        import io

        from PIL import Image

        img = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
        panel_left = page.evaluate("document.getElementById('kpis').getBoundingClientRect().left")
        area = img[80:880, 300 : int(panel_left) - 10]
        drawn = (np.abs(area - np.array(BACKGROUND)).sum(axis=2) > 40).mean()
        assert drawn > 0.08, f"only {drawn:.1%} of the map area differs from the background"
        colours = {tuple(c) for c in (area[::7, ::7] // 32).reshape(-1, 3)}
        assert len(colours) > 12  # several property-state colours, grid lines, incidents

        # legend: the five property states with counts that add up to the buildings, stages, overdue, grids
        legend = page.evaluate("[...document.querySelectorAll('#legend .legend-item')].map((n) => n.textContent)")
        assert legend[0].startswith("物业公司") and any(s.startswith("超时未办") for s in legend)
        counts = page.evaluate("twinDashboard.counts")
        assert sum(counts["classes"]) + counts["unknown"] == 475 and len(counts["classes"]) == 5
        assert page.locator("#kpis h2").inner_text() == "实时指标"

        # KPI cells equal /api/dashboard/kpis, and that equals the underlying APIs
        api, _ = get(server + "/api/dashboard/kpis")
        assert shown_kpis(page) == {**expected(api), "high_risk": str(high_risk(server))}
        assert page.locator('[data-kpi="open"]').inner_text() == str(api["open"])
        _, headers = get(
            server + "/open311/v2/requests.json?status=open&page_size=1"
            "&start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00Z"
        )
        assert int(headers["X-Total-Count"]) == api["open"]
        rating, _ = get(server + "/api/reports/sixnos", PLANNER)
        assert api["six_nos"]["met"] == rating["summary"]["passed"]
        assert api["six_nos"]["total"] == rating["summary"]["compounds"] == 30
        risk = page.evaluate("document.querySelector('[data-kpi=high_risk]').dataset.value")
        assert int(risk) > 0

        # hovering a building shows its tooltip: compound, floors, households, property, risk, no personal data
        spot = page.evaluate("twinDashboard.findPoint('buildings')")
        assert spot is not None
        page.mouse.move(
            spot["x"], spot["y"] + page.evaluate("document.getElementById('map').getBoundingClientRect().top")
        )
        tip = page.locator(".twin-tooltip")
        tip.wait_for(state="visible", timeout=30000)
        text = tip.inner_text()
        for label in ("小区", "层数", "户数", "物业", "风险"):
            assert label in text, text
        assert re.search(r"1\d{10}", text) is None  # no phone numbers
        page.mouse.move(5, 5)

        # a new incident posted now is on the page after the first refresh that starts after the post (so within
        # one refresh interval plus that refresh's own time), and the camera stays put. A refresh may be running
        # at the moment of the post; it counts when it finishes, so the second finished refresh surely began after.
        view = page.evaluate("twinDashboard.view()")
        before = page.evaluate("[twinDashboard.kpis.open, twinDashboard.incidents]")
        done_at_post = page.evaluate("twinDashboard.refreshes")
        post_incident(server, 114.8800, 40.7700)
        page.wait_for_function(f"twinDashboard.refreshes >= {done_at_post + 2}", timeout=HANG_GUARD * 1000)
        assert page.evaluate("[twinDashboard.kpis.open, twinDashboard.incidents]") == [before[0] + 1, before[1] + 1]
        assert page.locator('[data-kpi="open"]').inner_text() == str(before[0] + 1)
        assert page.evaluate("twinDashboard.view()") == view
        assert page.errors == []


def heap_mb(cdp) -> float:
    """JS heap in use after a full garbage collection, in MB."""
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["JSHeapUsedSize"] / 1e6


def test_many_refresh_cycles_do_not_grow_layers_dom_timers_or_heap(server):
    """200 refresh cycles (a day and a half of 10-minute... in fact ~2 hours at the default 30 s), with new data every
    20th cycle and a colour-mode switch every 10th: counts stay constant and the heap stays flat."""
    with chromium_page() as page:
        open_dashboard(page, server, "?pulse=0")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        probe = (
            "[twinDashboard.deckLayers(), document.getElementsByTagName('*').length, window.__pendingTimers(),"
            " twinDashboard.layerIds.length]"
        )

        def cycles(n, start):
            for k in range(start, start + n):
                if k % 20 == 0:
                    post_incident(server, 114.879 + 0.0001 * (k % 7), 40.771, code="garbage")
                page.evaluate("twinDashboard.refreshNow()")
                if k % 10 == 0:
                    page.click(f"#mode-switch button[data-mode={['risk', 'property', 'decade', 'care'][k // 10 % 4]}]")

        cycles(40, 0)
        base_counts, base_heap = page.evaluate(probe), heap_mb(cdp)
        cycles(160, 40)
        counts, heap = page.evaluate(probe), heap_mb(cdp)
        print(f"refresh cycles: counts {base_counts} -> {counts}, heap {base_heap:.2f} -> {heap:.2f} MB")
        assert page.evaluate("twinDashboard.changes") >= 10
        # timers: the clock, the refresh timer (absent while a refresh is running) and at most an error toast's
        assert counts[:2] + counts[3:] == base_counts[:2] + base_counts[3:], (
            f"deck layers/DOM nodes/layer ids went from {base_counts} to {counts}"
        )
        assert counts[2] <= 3, f"{counts[2]} timers pending"
        assert heap < base_heap * 1.25 + 2, f"JS heap grew from {base_heap:.1f} MB to {heap:.1f} MB"
        assert page.errors == []
