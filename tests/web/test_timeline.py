"""/api/dashboard/timeline.bin on the hand-worked month (tests/twin/incidents/report_fixture): the stage times of every
drawable incident, the deadlines per category, no care incidents; and incidents.bin's open-first order and hidden
counts."""

from __future__ import annotations

import pandas as pd

from tests.twin.incidents.report_fixture import AS_OF, B2, INCIDENTS
from tests.web.test_reports import open_filled  # noqa: F401 (fixture)
from web.transport import unpack

WITH_CARE = INCIDENTS + [
    ("h1", "sos", "app", B2, "2026-04-01 05:00", []),
    ("h2", "care_visit", "app", B2, "2026-04-01 06:00", []),
    ("h3", "sos", "app", B2, "2026-04-01 07:00", [("accept", 1)]),
]


def blob(client, name):
    r = client.get("/api/dashboard/" + name)
    assert r.status_code == 200 and r.mimetype == "application/vnd.twin.binary"
    return unpack(r.data)


def test_the_year_with_stage_times_and_deadlines(open_filled):  # noqa: F811
    client, ids = open_filled(WITH_CARE)
    h, a = blob(client, "timeline.bin")
    t0 = pd.Timestamp(h["t0"], unit="s", tz="UTC")
    assert t0 == pd.Timestamp("2025-04-01 16:00", tz="UTC")  # local midnight of 2 Apr 2025, a year before today
    assert h["now"] == (AS_OF - t0).total_seconds() and h["count"] == len(INCIDENTS)  # no care incidents
    cats = h["categories"]
    assert h["deadlines"]["accept"][cats.index("garbage")] == 60 and h["deadlines"]["on_site"][cats.index("sos")] == 120
    # incident a: reported 2 Mar 00:00 UTC; accepted after 30 s, on site 30 min, resolved 600 min, closed 700 min
    order = [cats[c] for c in a["category"]]
    reported = t0 + pd.to_timedelta(a["reported"].astype("int64"), unit="s")
    i = next(k for k in range(h["count"]) if reported[k] == pd.Timestamp("2026-03-02 00:00", tz="UTC"))
    assert order[i] == "garbage"
    assert [int(a[s][i]) for s in ("accepted", "on_site", "resolved", "closed")] == [30, 1800, 36000, 42000]
    # c was never handled: every later stage is "never"
    j = next(k for k in range(h["count"]) if reported[k] == pd.Timestamp("2026-03-04 00:00", tz="UTC"))
    assert [int(a[s][j]) for s in ("accepted", "on_site", "resolved", "closed")] == [h["never"]] * 4
    lon, lat = float(a["positions"][2 * j]) + h["origin"][0], float(a["positions"][2 * j + 1]) + h["origin"][1]
    assert abs(lon - 114.8812) < 1e-6 and abs(lat - 40.8011) < 1e-6


def test_incidents_bin_puts_open_ones_first_and_says_what_it_leaves_off(open_filled):  # noqa: F811
    client, _ = open_filled(WITH_CARE)
    h, a = blob(client, "incidents.bin")
    stages = [h["stages"][s] for s in a["stage"]]
    done = [s in ("resolved", "closed") for s in stages]
    assert done == sorted(done) and h["open"] == done.count(False)
    assert "sos" not in {h["categories"][c] for c in a["category"]}
    kpis = client.get("/api/dashboard/kpis").get_json()
    # three care incidents are open: the KPIs count them, the map does not draw them
    assert h["hidden"]["open"] == 3 and h["open"] + 3 == kpis["open"]
    assert int(a["overdue"].sum()) + h["hidden"]["overdue"] == kpis["overdue"]
