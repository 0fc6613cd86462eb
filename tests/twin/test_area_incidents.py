"""The incident figures of an area answer against a brute-force recomputation: every incident of the store, tested
point by point against the area (no spatial index, no positions), summarised from a plain frame; again after writes
that change the answer (a new report inside, one resolved and closed with a rating, one reopened)."""

from __future__ import annotations

import pandas as pd
import shapely

from tests.tiny import box
from twin import area as ar
from twin import area_input as ai
from twin.access import PERSONAL_CATEGORIES, PUBLIC
from twin.incidents.reports import summarize_for
from twin.incidents.timeliness import timeliness

T0 = pd.Timestamp("2026-03-02T01:00:00Z")
# (category, lon, lat): inside the area box, on its edge (counted), just outside, and far away in community B
POINTS = [
    ("garbage", 114.8808, 40.8011),
    ("garbage", 114.8809, 40.8012),
    ("parking", 114.8820, 40.8015),  # on the east edge of the area: the boundary counts
    ("fire_hazard", 114.8816, 40.8021),
    ("sos", 114.8812, 40.8013),  # a care incident: public callers see it only as a protected count
    ("care_visit", 114.8817, 40.8016),
    ("drain", 114.88201, 40.8015),  # a hair east of the edge: outside
    ("elevator", 114.8866, 40.8011),  # community B
]
AREA = box(114.8800, 40.8005, 114.8820, 40.8025)


class Clock:
    """A settable clock for the incident service."""

    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def brute(twin, area, now, personal, start=None, end=None) -> tuple[dict, list]:
    """The area's incident summary and overdue ids from the whole frame, each point tested against the area."""
    svc = twin.incidents
    f = svc.frame()
    keep = shapely.intersects_xy(area.geom, f["lon"].to_numpy(), f["lat"].to_numpy())
    if start is not None:
        keep &= (f["reported_at"] >= start).to_numpy()
    if end is not None:
        keep &= (f["reported_at"] < end).to_numpy()
    sub = f[keep]
    summary = summarize_for(sub, svc.deadlines, now, personal)
    seen = sub if personal else sub[~sub["category"].isin(PERSONAL_CATEGORIES)]
    t = timeliness(seen, svc.deadlines, now)
    late = seen[t["overdue"].to_numpy()].assign(limit=t.loc[t["overdue"], "overdue_limit"])
    late = late.sort_values("reported_at", kind="stable")
    return summary, list(zip(late["incident_id"], late["limit"]))


def check(twin, area, now, **period) -> dict:
    """Both views (personal and not) agree with brute force; returns the personal one."""
    seen = {}
    for personal in (True, False):
        ans = ar.query(twin, area, now=now, personal=personal, **period)
        want, overdue = brute(twin, area, now, personal, **period)
        got = {k: v for k, v in ans.summary["incidents"].items() if k != "now"}
        assert got == want, personal
        rows = ar.figures(twin, ans, PUBLIC)["overdue_incidents"]
        assert [(r["incident_id"], r["overdue_limit"]) for r in rows] == overdue
        assert all(r["next_due"] is not None and r["reported_at"].endswith("Z") for r in rows)
        seen[personal] = got
    assert seen[False]["total"] == seen[True]["total"] - sum(seen[True]["by_category"][c] for c in PERSONAL_CATEGORIES)
    return seen[True]


def test_area_incident_figures_match_brute_force_before_and_after_writes(tiny_twin):
    svc = tiny_twin.incidents
    clock = Clock(T0)
    svc.clock = clock
    made = []
    for i, (cat, lon, lat) in enumerate(POINTS):
        clock.t = T0 + pd.Timedelta(minutes=7 * i)
        made.append(svc.create({"category": cat, "lon": lon, "lat": lat}, actor="test")["incident_id"])
    clock.t = T0 + pd.Timedelta(hours=1)
    for iid in made[:2]:
        svc.act(iid, "accept", "worker")
        svc.act(iid, "arrive", "worker")
    svc.act(made[0], "resolve", "worker")
    area = ai.from_geojson(tiny_twin, AREA)
    now = T0 + pd.Timedelta(hours=3)

    first = check(tiny_twin, area, now)
    assert first["total"] == 6 and first["by_category"]["drain"] == 0  # the hair-outside point is not counted
    assert first["by_category"]["parking"] == 1  # the edge point is
    assert first["overdue"] > 0
    check(tiny_twin, area, now, start=T0 + pd.Timedelta(minutes=10), end=T0 + pd.Timedelta(minutes=30))

    # writes that change the answer: a new report inside, one closed with a rating, one reopened
    clock.t = T0 + pd.Timedelta(hours=2)
    new = svc.create({"category": "garbage", "lon": 114.8811, "lat": 40.8020}, actor="test")["incident_id"]
    svc.act(made[1], "resolve", "worker")
    svc.act(made[1], "close", "worker", rating=4)
    svc.act(made[0], "close", "worker", rating=2)
    svc.act(made[0], "reopen", "worker")
    after = check(tiny_twin, area, now)
    assert after["total"] == first["total"] + 1
    assert after["mean_rating"] == 4.0 and after["by_stage"]["closed"] == 1
    assert new in [
        r["incident_id"] for r in ar.figures(tiny_twin, ar.query(tiny_twin, area, now=now))["overdue_incidents"]
    ]
