"""GET /api/reports/<period> and /api/reports/sixnos on the hand-worked month of tests/twin/incidents/report_fixture."""

import io
import json

import pandas as pd
import pytest

from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends
from tests.tiny import GA2
from tests.twin.incidents.conftest import Clock
from tests.twin.incidents.report_fixture import INCIDENTS, PAGED, PAGED_ORDER, SIX_NOS, fill
from web import create_app

TOKENS = [
    {"role": "planner", "token": "plan-t"},
    {"role": "staff", "token": "staff-t"},
    {"role": "admin", "token": "admin-t"},
]
PLANNER, STAFF = {"Authorization": "Bearer plan-t"}, {"Authorization": "Bearer staff-t"}


@pytest.fixture
def open_filled(tiny_dir, app_config):
    """A function: a test client on the tiny street filed with `rows` of report_fixture (clock at AS_OF), ids; on
    each backend (PostgreSQL: the tiny street loaded in a fresh database, its report counts made by SQL)."""
    from layers import REGISTRY
    from twin.core import Twin
    from twin.incidents import attach_incidents

    opened = []

    def opener(rows=INCIDENTS, **config):
        clock = Clock()
        twin = Twin.open(tiny_dir, REGISTRY, live=False, database_url=app_config.get("DATABASE_URL") or "")
        attach_incidents(twin, twin.store, clock=clock)
        opened.append(twin.incidents)
        ids = fill(twin.incidents, clock, rows)
        app = create_app({"TESTING": True, "TWIN": twin, "TOKENS": json.dumps(TOKENS), **config})
        return app.test_client(), ids

    yield opener
    for svc in opened:
        svc.close()


@pytest.fixture
def filled(open_filled):
    return open_filled()


def csv_of(resp) -> pd.DataFrame:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf") and "attachment" in resp.headers["Content-Disposition"]
    return pd.read_csv(io.BytesIO(resp.data), encoding="utf-8-sig", dtype={"code": str})


def test_weekly_report_json(filled):
    client, ids = filled
    r = client.get("/api/reports/weekly?date=2026-03-04", headers=PLANNER)
    assert r.status_code == 200
    rep = r.get_json()
    assert rep["period"]["label"] == "2026-W10" and rep["period"]["start"] == "2026-03-02T00:00:00+08:00"
    assert rep["total"] == 9 and rep["by_grid"][GA2] == 4 and rep["closure_rate"] == 0.4444
    assert rep["on_time"] == {"accept": 0.4444, "on_site": 0.3333, "resolve": 0.3333}
    assert [(h["category"], h["count"]) for h in rep["hotspots"]] == [("garbage", 3), ("parking", 3)]
    assert rep["hotspot_rule"] == {"radius_m": 50.0, "min_count": 3}
    assert rep["hotspots"][0]["incident_ids"] == [ids["a"], ids["b"], ids["c"]]


def test_hotspot_parameters_from_the_query(filled):
    client, _ = filled
    rep = client.get("/api/reports/weekly?date=2026-03-04&radius_m=100&min_count=4", headers=STAFF).get_json()
    assert [(h["category"], h["count"]) for h in rep["hotspots"]] == [("parking", 4)]


def test_monthly_report_csv(filled):
    client, _ = filled
    t = csv_of(client.get("/api/reports/monthly?date=2026-03-31&f=csv", headers=STAFF))
    assert list(t.columns) == ["period", "dimension", "code", "name", "metric", "value"]
    assert (t["period"] == "2026-03").all()
    total = t[(t["dimension"] == "all") & (t["code"] == "total")]["value"]
    assert total.astype(float).tolist() == [12.0]
    garbage = t[(t["dimension"] == "category") & (t["code"] == "garbage")].iloc[0]
    assert garbage["name"] == "垃圾杂物堆放" and float(garbage["value"]) == 5
    en = csv_of(client.get("/api/reports/monthly?date=2026-03-31&f=csv&lang=en", headers=STAFF))
    assert en[en["code"] == "garbage"]["name"].iloc[0] == "Garbage and clutter"


def test_quarterly_report_and_the_default_date(filled):
    client, _ = filled
    q1 = client.get("/api/reports/quarterly?date=2026-02-01", headers=PLANNER).get_json()
    assert q1["period"]["label"] == "2026Q1" and q1["total"] == 12
    # no date: the week holding today at the service's clock (2 Apr): g (31 Mar 23:00 local) and f (1 Apr 00:30)
    now = client.get("/api/reports/weekly", headers=PLANNER).get_json()
    assert now["period"]["label"] == "2026-W14" and now["total"] == 2 and now["complete"] is False


def test_six_nos_json_and_csv(open_filled):
    client, ids = open_filled(SIX_NOS)
    r = client.get("/api/reports/sixnos?quarter=2026Q1", headers=PLANNER).get_json()
    by = {c["compound_id"]: c for c in r["compounds"]}
    # see tests/twin/incidents/test_sixnos.py for the hand-worked rating
    assert by["C1"]["failed"] == ["no_garbage"] and by["C2"]["passed"] is True
    assert by["C3"]["nos"]["no_illegal_structure"] == {
        "passed": False,
        "incident_ids": [ids["L"]],
        "reasons": {ids["L"]: ["late"]},
    }
    assert r["hotspot_rule"] == {"radius_m": 50.0, "min_count": 3} and r["complete"] is True
    t = csv_of(client.get("/api/reports/sixnos?quarter=2026Q1&f=csv", headers=PLANNER))
    assert len(t) == 18 and t[t["compound_id"] == "C2"]["passed"].tolist() == [1] * 6
    row = t[(t["compound_id"] == "C3") & (t["no"] == "no_garbage")].iloc[0]
    assert row["reasons"] == "repeat;repeat;repeat" and row["incidents"] == 3
    # no quarter: the quarter holding today (2 Apr) → Q2, where only f (open past its limit) fails a no
    q2 = client.get("/api/reports/sixnos", headers=PLANNER).get_json()
    assert q2["quarter"]["label"] == "2026Q2" and q2["summary"]["passed"] == 2
    assert q2["summary"]["failed_by_reason"] == {"late": 0, "open_overdue": 1, "repeat": 0}


def test_six_nos_hotspot_rule_comes_from_the_settings(open_filled):
    # HOTSPOT_MIN_COUNT 4: C3's three prompt garbage reports at B4 are no hotspot; the query cannot change it
    client, _ = open_filled(SIX_NOS, HOTSPOT_MIN_COUNT=4)
    r = client.get("/api/reports/sixnos?quarter=2026Q1&min_count=3", headers=PLANNER).get_json()
    by = {c["compound_id"]: c for c in r["compounds"]}
    assert r["hotspot_rule"] == {"radius_m": 50.0, "min_count": 4}
    assert by["C3"]["failed"] == ["no_illegal_structure"]


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/reports/daily", "period"),
        ("/api/reports/weekly?date=2026-13-01", "date"),
        ("/api/reports/weekly?date=2026-02-30", "date"),
        ("/api/reports/monthly?date=March", "date"),
        ("/api/reports/weekly?date=2262-04-10", "date"),
        ("/api/reports/weekly?f=xml", "f"),
        ("/api/reports/weekly?radius_m=far", "radius_m"),
        ("/api/reports/weekly?radius_m=5000", "radius_m"),
        ("/api/reports/weekly?min_count=1", "min_count"),
        ("/api/reports/weekly?hotspots_limit=ten", "hotspots_limit"),
        ("/api/reports/weekly?hotspots_limit=-1", "hotspots_limit"),
        ("/api/reports/weekly?hotspots_limit=5001", "hotspots_limit"),
        ("/api/reports/weekly?hotspots_limit=1.5", "hotspots_limit"),
        ("/api/reports/weekly?hotspots_offset=-1", "hotspots_offset"),
        ("/api/reports/weekly?hotspots_offset=&f=csv", "hotspots_offset"),
        ("/api/reports/sixnos?quarter=2026Q5", "quarter"),
        ("/api/reports/sixnos?quarter=2026Q1&f=pdf", "f"),
    ],
)
def test_bad_requests_are_400(filled, url, parameter):
    client, _ = filled
    r = client.get(url, headers=PLANNER)
    assert r.status_code == 400
    body = r.get_json()
    assert body["code"] == "invalid_input" and body["details"]["parameter"] == parameter


def test_the_report_lists_a_page_of_hotspots_and_counts_them_all(open_filled, monkeypatch):
    import web.reports

    client, _ = open_filled(PAGED)
    url = "/api/reports/quarterly?date=2026-03-04"
    full = client.get(url, headers=STAFF).get_json()  # REPORT_HOTSPOTS (100) is more than the six
    assert [(h["category"], h["count"]) for h in full["hotspots"]] == PAGED_ORDER and full["hotspots_total"] == 6
    for limit, offset in ((2, 0), (2, 3), (4, 4), (1, 5), (0, 0), (3, 6), (3, 60)):
        page = client.get(f"{url}&hotspots_limit={limit}&hotspots_offset={offset}", headers=STAFF).get_json()
        assert page["hotspots"] == full["hotspots"][offset : offset + limit] and page["hotspots_total"] == 6
        assert {k: v for k, v in page.items() if k != "hotspots"} == {k: v for k, v in full.items() if k != "hotspots"}
    monkeypatch.setattr(web.reports, "REPORT_HOTSPOTS", 2)  # the default when not told
    assert client.get(url, headers=STAFF).get_json()["hotspots"] == full["hotspots"][:2]
    # the CSV is the full export: every hotspot, whatever the page asked
    t = csv_of(client.get(f"{url}&f=csv&hotspots_limit=1&hotspots_offset=2", headers=STAFF))
    assert (t["dimension"] == "hotspot").sum() == 6


def test_reports_are_for_planner_staff_admin(filled):
    client, _ = filled
    for url in ("/api/reports/weekly?date=2026-03-04", "/api/reports/sixnos?quarter=2026Q1"):
        r = client.get(url)
        assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
        assert client.get(url, headers={"Authorization": "Bearer admin-t"}).status_code == 200


def test_reports_carry_no_household_data(filled):
    client, _ = filled
    svc = client.application.extensions["twin"].incidents
    for _ in range(3):  # a care visit: an incident that names household H1
        visit = svc.record_call("H1", answered=False, actor="caller")["visit"]
    assert visit["household_id"] == "H1"
    assert client.get("/api/reports/weekly", headers=PLANNER).get_json()["by_category"]["care_visit"] is None  # 1
    admin = client.get("/api/reports/weekly", headers={"Authorization": "Bearer admin-t"}).get_json()
    assert admin["by_category"]["care_visit"] == 1
    for url in (
        "/api/reports/weekly",
        "/api/reports/weekly?f=csv",
        "/api/reports/quarterly",
        "/api/reports/sixnos",
        "/api/reports/sixnos?f=csv",
    ):
        r = client.get(url, headers=PLANNER)
        text = r.get_data(as_text=True)
        assert r.status_code == 200
        assert "H1" not in text and "1380000" not in text and "住户" not in text  # no household id, phone or name


def test_grid_breakdown_by_either_grid_plan(open_filled):
    # adopt a plan that merges A's two grids into one (A009): incidents keep the grid they were reported in, and
    # ?plan= reads the same month by the old plan (as before) or the new one (A's counts together)
    import geopandas as gpd
    import shapely

    from tests.tiny import GA1, GB1, A
    from twin import plans
    from web.plans import store, sync, today

    client, _ = open_filled()
    url = "/api/reports/monthly?date=2026-03-31"
    before = client.get(url, headers=STAFF).get_json()["by_grid"]
    app = client.application
    twin = app.extensions["twin"]
    g = twin.frame("grids")
    a = g[g["community_id"] == A]
    rows = [
        {**a.iloc[0].drop("geometry").to_dict(), "grid_code": A + "009", "geometry": shapely.union_all(a.geometry)},
        g[g["grid_code"] == GB1].iloc[0].to_dict(),
    ]
    new = gpd.GeoDataFrame(rows, crs="EPSG:4326").assign(previous_code=[GA1, GB1])
    with app.app_context():
        day = today()
        meta = store().publish(new, day, "test", "test", {}, day, plans.layer_rows(twin))
        app.extensions.pop("plans_synced", None)
        sync()
    assert sorted(twin.frame("grids")["grid_code"]) == [A + "009", GB1]
    now = client.get(url, headers=STAFF).get_json()["by_grid"]
    assert now[A + "009"] == 0 and {k: now[k] for k in before} == before  # kept the grid reported in
    baseline = next(p for p in client.get("/api/plans").get_json()["plans"] if p["status"] == "baseline")
    assert client.get(f"{url}&plan={baseline['id']}", headers=STAFF).get_json()["by_grid"] == before
    by_new = client.get(f"{url}&plan={meta['id']}", headers=STAFF).get_json()["by_grid"]
    assert by_new == {A + "009": before[GA1] + before[A + "002"], GB1: before[GB1]}
    assert sum(before.values()) > 0
    assert client.get(f"{url}&plan=77", headers=STAFF).status_code == 404
