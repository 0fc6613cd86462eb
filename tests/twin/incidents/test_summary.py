"""summarize(): figures checked against answers worked out by hand."""

import pandas as pd

from twin.incidents.reports import summarize

T0 = pd.Timestamp("2026-03-02 08:00", tz="UTC")
M = pd.Timedelta(minutes=1)


def test_summary_by_hand():
    rows = [
        # category, source, stage, accepted, on_site, resolved, rating
        ("garbage", "app", "closed", 0.5, 30, 600, 5),  # met all three
        ("garbage", "app", "resolved", 2, 30, 2000, None),  # accept late, on-site ok, resolve late
        ("sos", "sensor", "on_site", 0.2, 1, None, None),  # on-site in time (2 min limit)
        ("parking", "patrol", "reported", None, None, None, None),  # accept missed (clock +10 min)
        ("fire_hazard", "hotline_12345", "closed", 0.5, 70, 100, 3),  # on-site late
    ]
    f = pd.DataFrame(
        [
            {
                "category": c,
                "source": s,
                "stage": st,
                "reported_at": T0,
                "accepted_at": T0 + a * M if a is not None else None,
                "on_site_at": T0 + o * M if o is not None else None,
                "resolved_at": T0 + r * M if r is not None else None,
                "rating": rt,
            }
            for c, s, st, a, o, r, rt in rows
        ]
    )
    for col in ("accepted_at", "on_site_at", "resolved_at"):
        f[col] = pd.to_datetime(f[col], utc=True)
    s = summarize(f, None, T0 + 10 * M)
    assert s["total"] == 5 and s["open"] == 2 and s["overdue"] == 1
    assert s["by_stage"] == {"reported": 1, "accepted": 0, "on_site": 1, "resolved": 1, "closed": 2}
    assert s["by_category"]["garbage"] == 2 and s["by_category"]["elevator"] == 0
    assert s["by_source"]["app"] == 2 and s["by_source"]["sensor"] == 1
    # accept: met 1,3,5 ; late 2 ; missed 4 -> 3/5.  on_site: met 1,2,3 ; late 5 -> 3/4.
    # resolve: met 1,5 ; late 2 -> 2/3
    assert s["on_time"] == {"accept": 0.6, "on_site": 0.75, "resolve": 0.6667}
    assert s["closure_rate"] == 0.6 and s["mean_rating"] == 4.0


def test_summary_of_nothing():
    f = pd.DataFrame(
        columns=["category", "source", "stage", "reported_at", "accepted_at", "on_site_at", "resolved_at", "rating"]
    )
    s = summarize(f, None, T0)
    assert s["total"] == 0 and s["closure_rate"] is None and s["mean_rating"] is None
    assert s["on_time"] == {"accept": None, "on_site": None, "resolve": None}
