"""The same questions on both backends give the same answers, for every kind of caller (privacy rounding included):
area figures (on PostgreSQL the buildings, households and people of the centroid rule come from SQL) and period
reports (on PostgreSQL their counts come from SQL), on the hand-made month of report_fixture plus care reports."""

from __future__ import annotations

import json

import pytest

from tests.tiny import GA1, box
from tests.twin.incidents.conftest import Clock
from tests.twin.incidents.report_fixture import B1, B3, INCIDENTS, fill
from web import create_app

TOKENS = [
    {"role": "planner", "token": "plan-t"},
    {"role": "staff", "token": "staff-a1", "grids": [GA1]},
    {"role": "admin", "token": "admin-t"},
]
CALLERS = {"public": {}, **{t["role"]: {"Authorization": f"Bearer {t['token']}"} for t in TOKENS}}
CARE = [  # care reports: counted for staff and admins, only as protected counts for the public and planners
    (f"c{i}", "sos" if i % 2 else "care_visit", "app", B1 if i < 4 else B3, f"2026-03-0{2 + i} 06:00", [])
    for i in range(6)
]
AREAS = {
    "community A": box(114.880, 40.800, 114.884, 40.803),
    "one building": box(114.8806, 40.8009, 114.8811, 40.8013),
    "whole street": box(114.87, 40.79, 114.90, 40.81),
    "nothing": box(114.95, 40.90, 114.96, 40.91),
}


@pytest.fixture
def pair(tiny_dir, tiny_database_url):
    """Two clients on the same month of incidents: the embedded default and PostgreSQL."""
    from layers import REGISTRY
    from twin.core import Twin
    from twin.incidents import attach_incidents
    from twin.postgres.static import close_all

    clients = []
    for url in ("", tiny_database_url):
        clock = Clock()
        twin = Twin.open(tiny_dir, REGISTRY, live=False, database_url=url)
        attach_incidents(twin, twin.store, clock=clock)
        fill(twin.incidents, clock, INCIDENTS + CARE)
        clients.append(create_app({"TESTING": True, "TWIN": twin, "TOKENS": json.dumps(TOKENS)}).test_client())
    yield clients
    for c in clients:
        c.application.extensions["twin"].incidents.close()
    close_all()


def twin_of(client):
    return client.application.extensions["twin"]


def test_postgresql_answers_by_sql_and_the_embedded_default_in_python(pair):
    from twin.analytics import analytics

    embedded, pg = (twin_of(c) for c in pair)
    assert analytics(embedded, ("buildings", "households"), incidents=True) is None
    sql = analytics(pg, ("buildings", "households"), incidents=True)
    assert sql is not None
    got = sql.area_people(__import__("shapely").geometry.shape(AREAS["community A"]).wkt)
    # community A: buildings B1, B2 (grid A1, 5 households) and B3 (A2, 4 households), 20 people (tests/test_area)
    assert len(got["buildings"]) == 3 and got["people"]["households"] == 9 and got["people"]["population"] == 20
    start, end = (__import__("pandas").Timestamp(t, tz="UTC") for t in ("2026-03-01 16:00", "2026-03-08 16:00"))
    week = sql.period_counts(start, end, ("sos", "care_visit"))
    assert week["total"] == 9 and sorted(map(len, week["apart"].values())) == [3, 3]  # W10 as report_fixture says


def test_area_answers_are_equal(pair):
    for caller, headers in CALLERS.items():
        url = "/api/area?from=2026-03-01&to=2026-03-31" + ("&households=1" if caller in ("staff", "admin") else "")
        for area, geometry in AREAS.items():
            embedded, pg = (c.post(url, json=geometry, headers=headers) for c in pair)
            assert embedded.status_code == pg.status_code == 200, (area, caller, pg.get_json())
            assert pg.get_json() == embedded.get_json(), (area, caller)


def test_reports_are_equal(pair):
    for period in ("weekly?date=2026-03-04", "monthly?date=2026-03-04", "quarterly?date=2026-02-01"):
        totals = {}
        for caller in ("planner", "staff", "admin"):
            embedded, pg = (c.get(f"/api/reports/{period}", headers=CALLERS[caller]) for c in pair)
            assert embedded.status_code == pg.status_code == 200, pg.get_json()
            got = pg.get_json()
            assert got == embedded.get_json(), (period, caller)
            totals[caller] = got["total"]
            assert got["by_category"]["sos"] == got["by_category"]["care_visit"] == 3  # 3 is shown as 3 (protect)
        assert totals["admin"] == totals["planner"] + 6 == totals["staff"] + 6  # care only as protected counts


def test_dashboard_kpis_are_equal(pair):
    embedded, pg = (c.get("/api/dashboard/kpis").get_json() for c in pair)
    assert pg == embedded and embedded["reported_month"] == 1  # f, reported 1 April local time
