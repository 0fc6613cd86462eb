"""The report page in headless Chromium on the hand-worked month (tests/twin/incidents/report_fixture): its charts and
tables show the numbers /api/reports/* serve, and its print view is A4."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.live import chromium_page, live_server
from tests.twin.incidents.conftest import Clock
from tests.twin.incidents.report_fixture import SIX_NOS, fill

pytestmark = pytest.mark.browser

TOKEN = "plan-t"
A4_PT = (595.92, 842.88)  # Chromium's A4 page in PostScript points
A4_TEXT_PX = 186 / 25.4 * 96  # A4 width less two 12 mm margins, in CSS pixels


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The tiny street with the six-nos month of incidents, served live; the clock stands at 2 April 2026."""
    from layers import REGISTRY
    from tests.tiny import write_tiny
    from twin.core import Twin
    from twin.incidents import attach_incidents
    from web import create_app

    clock = Clock()
    twin = Twin.open(write_tiny(tmp_path_factory.mktemp("tiny") / "tiny"), REGISTRY, live=False)
    attach_incidents(twin, twin.store, clock=clock)
    fill(twin.incidents, clock, SIX_NOS)
    app = create_app({"TESTING": True, "TWIN": twin, "TOKENS": json.dumps([{"role": "planner", "token": TOKEN}])})
    with live_server(app) as base:
        yield base
    twin.incidents.close()


def api(base, path):
    """A report API answer as the planner."""
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def at(doc, key):
    """The value at a dotted path ("on_time.accept", "by_grid.<code>")."""
    for part in key.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def shown(page, selector) -> dict:
    """data-key → data-value of the figures under `selector`."""
    return page.evaluate(
        f"Object.fromEntries([...document.querySelectorAll('{selector} [data-key]')]"
        ".map((n) => [n.dataset.key || n.getAttribute('data-key'), n.dataset.value ?? n.getAttribute('data-value')]))"
    )


def as_text(v) -> str:
    return "" if v is None else str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def open_report(page, base, query):
    page.goto(f"{base}/reports?{query}")
    page.fill("#rp-token", TOKEN)
    page.press("#rp-token", "Enter")
    page.wait_for_function("window.twinReports && twinReports.rendered > 0", timeout=60000)


def test_the_charts_show_the_api_numbers(server):
    with chromium_page() as page:
        open_report(page, server, "date=2026-03-04")
        weekly = api(server, "/api/reports/weekly?date=2026-03-04")
        assert page.locator("#rp-title").inner_text() == "周报 · 2026-W10"

        figures = shown(page, "#rp-figures")
        assert figures["total"] == "9" and figures["on_time.accept"] == "0.4444"
        for key, value in figures.items():
            assert value == as_text(at(weekly, key)), key

        cats = shown(page, "#rp-category")
        assert set(cats) == {f"by_category.{c}" for c in weekly["by_category"]}
        for key, value in cats.items():
            assert value == as_text(at(weekly, key)), key

        grids = shown(page, "#rp-grid")
        busiest = sorted(weekly["by_grid"].values(), reverse=True)[: len(grids)]
        assert sorted((int(v) for v in grids.values()), reverse=True) == busiest and busiest[0] == 4
        for key, value in grids.items():
            assert value == as_text(at(weekly, key)), key

        # the trend: twelve weeks, each bar and dot the weekly report of that week
        trend = shown(page, "#rp-trend")
        periods = page.evaluate(
            "[...document.querySelectorAll('#rp-trend rect[data-period]')].map((n) => n.dataset.period)"
        )
        assert len(periods) == 12 and periods[-1] == "2026-W10"
        for i, label in enumerate(periods):
            year, week = label.split("-W")
            from datetime import date

            monday = date.fromisocalendar(int(year), int(week), 1).isoformat()
            rep = api(server, f"/api/reports/weekly?date={monday}")
            assert trend[f"trend.{i}.total"] == as_text(rep["total"]), label
            for lim in ("accept", "on_site", "resolve"):
                assert trend[f"trend.{i}.on_time.{lim}"] == as_text(rep["on_time"][lim]), (label, lim)

        # repeat hotspots: the page lists the API's, largest first; "export all" downloads the report's CSV
        listed = page.evaluate(
            "[...document.querySelectorAll('#rp-hotspots-table tbody tr[data-category]')]"
            ".map((tr) => [tr.dataset.category, +tr.dataset.count, tr.dataset.ids])"
        )
        assert listed == [[h["category"], h["count"], " ".join(h["incident_ids"])] for h in weekly["hotspots"]]
        assert listed and page.locator("#rp-hotspots-meta").get_attribute("data-total") == str(len(listed))
        with page.expect_download() as got:
            page.click("#rp-csv")
        csv_text = open(got.value.path(), encoding="utf-8-sig").read()
        assert got.value.suggested_filename == "report-2026-W10.csv"
        hotspot_rows = [line for line in csv_text.splitlines() if ",hotspot," in line]
        assert len(hotspot_rows) == len(weekly["hotspots"])
        assert sorted(int(float(line.rsplit(",", 1)[1])) for line in hotspot_rows) == sorted(
            h["count"] for h in weekly["hotspots"]
        )

        # six-nos: the failing compounds of Q1 with the incidents behind each failed "no"
        six = api(server, "/api/reports/sixnos?quarter=2026Q1")
        meta = page.locator("#rp-sixnos-meta")
        assert (meta.get_attribute("data-passed"), meta.get_attribute("data-total")) == (
            str(six["summary"]["passed"]),
            str(six["summary"]["compounds"]),
        )
        rows = page.evaluate(
            "[...document.querySelectorAll('#rp-sixnos-table tbody tr[data-compound]')]"
            ".map((tr) => [tr.dataset.compound, Object.fromEntries([...tr.querySelectorAll('td[data-no]')]"
            ".map((td) => [td.dataset.no, td.dataset.ids]))])"
        )
        failing = {c["compound_id"]: c for c in six["compounds"] if not c["passed"]}
        assert {cid for cid, _ in rows} == set(failing) and failing
        for cid, cells in rows:
            assert cells == {no: " ".join(v["incident_ids"]) for no, v in failing[cid]["nos"].items()}

        # monthly: the same page, another period
        page.click("#rp-period button[data-period=monthly]")
        page.wait_for_function("twinReports.rendered > 1", timeout=60000)
        monthly = api(server, "/api/reports/monthly?date=2026-03-04")
        assert (
            shown(page, "#rp-figures")["total"] == as_text(monthly["total"]) == "17"
        )  # INCIDENTS in March and the five of SIX_NOS
        assert page.errors == []


def test_the_print_view_fits_a4(server, tmp_path):
    with chromium_page() as page:
        open_report(page, server, "date=2026-03-04&period=quarterly")
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "none"
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('#report, #report svg, #report table')]"
            ".map((n) => n.getBoundingClientRect().width))"
        )
        page.set_viewport_size({"width": round(A4_TEXT_PX), "height": 1000})
        assert page.evaluate("document.documentElement.scrollWidth") <= round(A4_TEXT_PX) + 1
        pdf = page.pdf(format="A4", print_background=True)
        (tmp_path / "report.pdf").write_bytes(pdf)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
        pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
        assert pages >= 1 and len(boxes) >= 1
        for w, h in boxes:
            assert abs(float(w) - A4_PT[0]) < 1 and abs(float(h) - A4_PT[1]) < 1
        assert pages <= 3, f"{pages} A4 pages for one quarter of the tiny street"
        assert widest > 300  # the report did lay out (charts and table are there)
        assert page.errors == []
