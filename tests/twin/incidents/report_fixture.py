"""A hand-made month of incidents on the tiny street, filed through the service with a settable clock.

Times are UTC; the office is UTC+8 (Asia/Shanghai). ISO week 2026-W10 runs Mon 2 Mar 00:00 to Mon 9 Mar 00:00
local = 1 Mar 16:00 to 8 Mar 16:00 UTC. Q1 ends 1 Apr 00:00 local = 31 Mar 16:00 UTC.
acc/arr/res = accept/arrive/resolve.

 name category        source         place                  reported (UTC)    actions (minutes after report)
 p0   garbage         app            B1                     Feb 28 20:00      -   (local 1 Mar 04:00: March, W09)
 a    garbage         app            B1                     Mar 2 00:00       acc .5, arr 30, res 600, close 700 (5)
 b    garbage         hotline_12345  B1 (another point)     Mar 3 00:00       accept 2, arrive 30, resolve 2000
 c    garbage         patrol         17 m east of B1 (C1)   Mar 4 00:00       -
 d    fire_hazard     hotline_12345  B3                     Mar 5 00:00       acc .5, arr 70, res 100, close 120 (3)
 e    elevator        app            B4                     Mar 6 00:00       accept .5, arrive 20, resolve 300
 p1   parking         patrol         A2 north, no compound  Mar 7 01:00       accept .5
 p2   parking         patrol         25 m east of p1        Mar 7 02:00       -
 p3   parking         app            25 m east of p2        Mar 7 03:00       -
 p4   parking         patrol         76 m east of p3 (B)    Mar 8 15:00       -   (local Sun 23:00: still W10)
 n    garbage         app            B1                     Mar 8 16:10       -   (local Mon 00:10: W11)
 g    petition        visit          B2 (C1)                Mar 31 15:00      -
 f    flying_line_... app            B3 (C2)                Mar 31 16:30      -   (local 1 Apr 00:30: Q2)
The clock ends at Apr 2 00:00 UTC, after every limit of every incident has passed.

SIX_NOS adds, for the six-nos rating only (the period reports use INCIDENTS alone; resolve limit 1 day = 1440 min):
 r1   garbage         app            B4 (C3)                Mar 10 00:00      accept .5, arrive 30, resolve 120
 r2   garbage         patrol         B5 (C3, 123 m east)    Mar 11 00:00      accept .5, arrive 30, resolve 120
 r3   garbage         app            B4 (C3)                Mar 12 00:00      accept .5, arrive 30, resolve 120
 r4   garbage         hotline_12345  B4 (C3)                Mar 13 00:00      accept .5, arrive 30, resolve 120
 L    illegal_str...  hotline_12345  B4 (C3)                Mar 20 00:00      accept .5, arrive 30, resolve 1500 (late)
 s    security        app            B1 (C1)                Apr 1 20:00       accept .5 (Q2; resolve due Apr 2 20:00)
"""

from __future__ import annotations

import pandas as pd

B1, B1b, B1e = (114.88085, 40.80115), (114.8808, 40.8011), (114.8812, 40.8011)
B2, B3, B4, B5 = (114.88125, 40.80195), (114.88295, 40.80115), (114.88515, 40.80115), (114.88665, 40.80115)
P1, P2, P3, P4 = (114.8830, 40.8028), (114.8833, 40.8028), (114.8836, 40.8028), (114.8845, 40.8028)
AS_OF = pd.Timestamp("2026-04-02 00:00", tz="UTC")

INCIDENTS = [
    ("p0", "garbage", "app", B1, "2026-02-28 20:00", []),
    (
        "a",
        "garbage",
        "app",
        B1,
        "2026-03-02 00:00",
        [("accept", 0.5), ("arrive", 30), ("resolve", 600), ("close", 700, 5)],
    ),
    ("b", "garbage", "hotline_12345", B1b, "2026-03-03 00:00", [("accept", 2), ("arrive", 30), ("resolve", 2000)]),
    ("c", "garbage", "patrol", B1e, "2026-03-04 00:00", []),
    (
        "d",
        "fire_hazard",
        "hotline_12345",
        B3,
        "2026-03-05 00:00",
        [("accept", 0.5), ("arrive", 70), ("resolve", 100), ("close", 120, 3)],
    ),
    ("e", "elevator", "app", B4, "2026-03-06 00:00", [("accept", 0.5), ("arrive", 20), ("resolve", 300)]),
    ("p1", "parking", "patrol", P1, "2026-03-07 01:00", [("accept", 0.5)]),
    ("p2", "parking", "patrol", P2, "2026-03-07 02:00", []),
    ("p3", "parking", "app", P3, "2026-03-07 03:00", []),
    ("p4", "parking", "patrol", P4, "2026-03-08 15:00", []),
    ("n", "garbage", "app", B1, "2026-03-08 16:10", []),
    ("g", "petition", "visit", B2, "2026-03-31 15:00", []),
    ("f", "flying_line_charging", "app", B3, "2026-03-31 16:30", []),
]
PROMPT = [("accept", 0.5), ("arrive", 30), ("resolve", 120)]
SIX_NOS = INCIDENTS + [
    ("r1", "garbage", "app", B4, "2026-03-10 00:00", PROMPT),
    ("r2", "garbage", "patrol", B5, "2026-03-11 00:00", PROMPT),
    ("r3", "garbage", "app", B4, "2026-03-12 00:00", PROMPT),
    ("r4", "garbage", "hotline_12345", B4, "2026-03-13 00:00", PROMPT),
    (
        "L",
        "illegal_structure",
        "hotline_12345",
        B4,
        "2026-03-20 00:00",
        [("accept", 0.5), ("arrive", 30), ("resolve", 1500)],
    ),
    ("s", "security", "app", B1, "2026-04-01 20:00", [("accept", 0.5)]),
]

# PAGED adds three more 2026Q1 hotspots to SIX_NOS's three, for paging through them: the quarter's six are, in order,
# garbage at B1 (5: p0, a, b, c, n), fire_hazard at B5 (4), then the threes by category: elevator at B3,
# garbage at B4 (r1, r3, r4), parking on the street (p1-p3), sos at B2 (a care category).
PAGED = SIX_NOS + [
    *((f"fire{k}", "fire_hazard", "app", B5, f"2026-03-1{k} 06:00", []) for k in range(4)),
    *((f"lift{k}", "elevator", "patrol", B3, f"2026-03-2{k} 06:00", []) for k in range(3)),
    *((f"sos{k}", "sos", "app", B2, f"2026-03-1{k} 09:00", []) for k in range(3)),
]
PAGED_ORDER = [
    ("garbage", 5),
    ("fire_hazard", 4),
    ("elevator", 3),
    ("garbage", 3),
    ("parking", 3),
    ("sos", 3),
]


def fill(svc, clock, rows=INCIDENTS) -> dict:
    """File every incident of `rows` (and its actions) through `svc`; name → incident id. Clock ends at AS_OF."""
    ids = {}
    for name, category, source, (lon, lat), when, actions in rows:
        t0 = pd.Timestamp(when, tz="UTC")
        clock.t = t0
        ids[name] = svc.create({"category": category, "source": source, "lon": lon, "lat": lat}, actor="test")[
            "incident_id"
        ]
        for act in actions:
            clock.t = t0 + pd.Timedelta(minutes=act[1])
            svc.act(ids[name], act[0], actor="test", rating=act[2] if len(act) > 2 else None)
    clock.t = AS_OF
    return ids
