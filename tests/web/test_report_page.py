"""/reports and its data (/api/reports/page, page.xlsx) on the hand-worked month of tests/twin/incidents/report_fixture:
the same figures as /api/reports/*, planners and admins only, care counts of 1-2 hidden from planners, XLSX."""

from __future__ import annotations

import io

import pytest

from tests.twin.incidents.report_fixture import B2, INCIDENTS, PAGED, PAGED_ORDER, SIX_NOS
from tests.web.test_reports import PLANNER, STAFF, filled, open_filled  # noqa: F401 (fixtures)

ADMIN = {"Authorization": "Bearer admin-t"}
WITH_SOS = SIX_NOS + [("h", "sos", "app", B2, "2026-03-04 05:00", [])]


def test_the_page_is_a_shell_without_data(filled):  # noqa: F811
    client, _ = filled
    r = client.get("/reports")
    assert r.status_code == 200 and "周报" in r.get_data(as_text=True)
    assert 'id="twin-config" type="application/json"' in r.get_data(as_text=True)
    assert "deckgl" not in r.get_data(as_text=True)  # no map on this page, so no deck.gl
    assert "Twin" not in r.get_data(as_text=True).split('type="application/json"')[0]  # no inline script


def test_planners_and_admins_only(filled):  # noqa: F811
    client, _ = filled
    assert client.get("/api/reports/page").status_code == 401
    assert client.get("/api/reports/page", headers=STAFF).status_code == 403
    assert client.get("/api/reports/page.xlsx", headers=STAFF).status_code == 403
    assert client.get("/api/reports/page?date=2026-03-04", headers=PLANNER).status_code == 200
    assert client.get("/api/reports/page?date=2026-03-04", headers=ADMIN).status_code == 200


@pytest.mark.parametrize("query, parameter", [("period=daily", "period"), ("date=2026-02-30", "date")])
def test_bad_input_is_a_400_naming_the_parameter(filled, query, parameter):  # noqa: F811
    client, _ = filled
    r = client.get("/api/reports/page?" + query, headers=PLANNER)
    assert r.status_code == 400 and r.get_json()["details"]["parameter"] == parameter


@pytest.mark.parametrize("period, n", [("weekly", 12), ("monthly", 12), ("quarterly", 4)])
def test_the_same_figures_as_the_report_api(open_filled, period, n):  # noqa: F811
    client, _ = open_filled(SIX_NOS)
    doc = client.get(f"/api/reports/page?period={period}&date=2026-03-04", headers=ADMIN).get_json()
    api = client.get(f"/api/reports/{period}?date=2026-03-04", headers=ADMIN).get_json()
    assert doc["report"] == api and doc["report"]["hotspots_total"] == len(api["hotspots"])
    assert doc["sixnos"] == client.get("/api/reports/sixnos?quarter=2026Q1", headers=ADMIN).get_json()
    trend = doc["trend"]
    assert len(trend) == n and trend[-1]["period"] == api["period"]
    for point in trend:  # each point of the trend is that period's report
        day = point["period"]["start"][:10]
        other = client.get(f"/api/reports/{period}?date={day}", headers=ADMIN).get_json()
        assert point["period"] == other["period"]
        assert (point["total"], point["on_time"], point["closure_rate"]) == (
            other["total"],
            other["on_time"],
            other["closure_rate"],
        )
    starts = [p["period"]["start"] for p in trend]
    assert starts == sorted(starts) and len(set(starts)) == n


def test_weekly_trend_by_hand(filled):  # noqa: F811
    client, _ = filled
    trend = client.get("/api/reports/page?date=2026-03-04", headers=PLANNER).get_json()["trend"]
    # W10 holds a-e and p1-p4 (9); W09 holds p0 (local 1 Mar 04:00); the ten weeks before are empty
    assert [p["total"] for p in trend] == [0] * 10 + [1, 9]
    assert trend[-1]["on_time"] == {"accept": 0.4444, "on_site": 0.3333, "resolve": 0.3333}


def test_care_counts_of_one_or_two_are_hidden_from_planners(open_filled):  # noqa: F811
    client, _ = open_filled(WITH_SOS)
    plan = client.get("/api/reports/page?date=2026-03-04", headers=PLANNER).get_json()
    admin = client.get("/api/reports/page?date=2026-03-04", headers=ADMIN).get_json()
    assert admin["report"]["by_category"]["sos"] == 1 and admin["suppressed_categories"] == []
    assert plan["report"]["by_category"]["sos"] is None and "sos" in plan["suppressed_categories"]
    assert plan["trend"][-1]["by_category"]["sos"] is None
    assert plan["report"]["by_category"]["garbage"] == admin["report"]["by_category"]["garbage"] == 3
    assert plan["report"]["total"] == admin["report"]["total"] == 10


def test_xlsx_export(open_filled):  # noqa: F811
    from openpyxl import load_workbook

    client, _ = open_filled(INCIDENTS)
    r = client.get("/api/reports/page.xlsx?date=2026-03-04", headers=PLANNER)
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="report-2026-W10.xlsx"' in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["概况", "趋势", "类别", "网格", "重复热点", "六无"]
    summary = {row[0]: row[1] for row in wb["概况"].iter_rows(values_only=True)}
    assert summary["事件总数"] == 9 and summary["按时受理率"] == 0.4444 and summary["报告期"] == "2026-W10"
    trend = list(wb["趋势"].iter_rows(values_only=True))
    assert len(trend) == 13 and trend[-1][:2] == ("2026-W10", 9)
    cats = {row[1]: row[2] for row in wb["类别"].iter_rows(min_row=2, values_only=True)}
    assert cats["garbage"] == 3 and cats["parking"] == 4
    en = load_workbook(io.BytesIO(client.get("/api/reports/page.xlsx?date=2026-03-04&lang=en", headers=PLANNER).data))
    assert en.sheetnames[0] == "Summary"


def test_the_page_lists_the_largest_hotspots_and_counts_them_all(open_filled, monkeypatch):  # noqa: F811
    from openpyxl import load_workbook

    import web.report_page

    client, _ = open_filled(SIX_NOS)
    api = client.get("/api/reports/quarterly?date=2026-03-04", headers=PLANNER).get_json()
    assert len(api["hotspots"]) == 3  # garbage at B1 and at B4, parking on the street (P1-P4)
    monkeypatch.setattr(web.report_page, "PAGE_HOTSPOTS", 1)
    doc = client.get("/api/reports/page?period=quarterly&date=2026-03-04", headers=PLANNER).get_json()
    assert doc["report"]["hotspots"] == api["hotspots"][:1] and doc["report"]["hotspots_total"] == 3
    wb = load_workbook(
        io.BytesIO(client.get("/api/reports/page.xlsx?period=quarterly&date=2026-03-04", headers=PLANNER).data)
    )
    rows = list(wb["重复热点"].iter_rows(min_row=2, values_only=True))
    assert [(r[3], r[6]) for r in rows] == [(h["count"], ", ".join(h["incident_ids"])) for h in api["hotspots"][:1]]


def test_planners_page_neither_lists_nor_counts_care_hotspots(open_filled, monkeypatch):  # noqa: F811
    import web.report_page

    client, _ = open_filled(PAGED)
    monkeypatch.setattr(web.report_page, "PAGE_HOTSPOTS", 5)
    url = "/api/reports/page?period=quarterly&date=2026-03-04"
    admin = client.get(url, headers=ADMIN).get_json()["report"]
    plan = client.get(url, headers=PLANNER).get_json()["report"]
    assert [(h["category"], h["count"]) for h in admin["hotspots"]] == PAGED_ORDER[:5] and admin["hotspots_total"] == 6
    # the planner's page is still full (five non-care hotspots), and the hidden sos hotspot is not in its total
    assert [(h["category"], h["count"]) for h in plan["hotspots"]] == PAGED_ORDER[:5] and plan["hotspots_total"] == 5
    monkeypatch.setattr(web.report_page, "PAGE_HOTSPOTS", 6)
    assert "sos" not in [h["category"] for h in client.get(url, headers=PLANNER).get_json()["report"]["hotspots"]]
    assert client.get(url, headers=ADMIN).get_json()["report"]["hotspots"][-1]["category"] == "sos"
