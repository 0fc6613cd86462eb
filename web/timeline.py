"""The year of incidents for time playback (the dashboard's time bar), one TWB1 blob (web/transport.py).

Only what the public map may draw (no care incidents, only incidents with a place): for each, its place and
category, when it was reported, and when it reached each later stage, so that the page can tell, for any moment
of the year, which stage each incident was in, whether it was overdue and whether it met its time limits. The
limits themselves (the DEADLINES setting) travel once in the header, per category, so the rule stays where it is
(twin.incidents.deadlines/timeliness) and the page only compares times:

    header   t0 (epoch seconds of the local midnight the year starts at), now (seconds since t0), days,
             utc_offset (minutes), categories, stages, limits, deadlines {limit: [seconds per category]},
             never / untimed (the two special values of the stage arrays), count
    arrays   positions    float32 (lon, lat) offsets from header origin
             category     uint8 index into categories (255 = none)
             reported     uint32 seconds since t0
             accepted, on_site, resolved, closed
                          uint32 seconds after `reported` that stage was reached; `never` = not (yet) reached,
                          `untimed` = reached with no time recorded (counts as reached at once, met undecided)

About 25 bytes per incident before gzip; a million incidents stay a single fetch of a few tens of megabytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin import vocab
from twin.incidents.deadlines import LIMITS, Deadlines
from twin.incidents.timeliness import LIMIT_STAGE, STAGE_RANK
from twin.times import day_start, zone_of

from .transport import offsets, origin_of, pack

YEAR_DAYS = 365
NEVER = 0xFFFFFFFF
UNTIMED = 0xFFFFFFFE
LATER_STAGES = ("accepted", "on_site", "resolved", "closed")
CATEGORIES = tuple(vocab.INCIDENT_CATEGORIES)
NONE = 255


def year_start(now: pd.Timestamp, tz: str) -> pd.Timestamp:
    """The local midnight YEAR_DAYS days before `now`'s day, in UTC."""
    return day_start(now, tz) - pd.Timedelta(days=YEAR_DAYS)


def encode_timeline(service, frame: pd.DataFrame, now: pd.Timestamp) -> bytes:
    """timeline.bin of `frame` (the incidents the public map may draw) at `now` (see the module docstring)."""
    tz = zone_of(service)
    t0 = year_start(now, tz)
    reported = pd.to_datetime(frame["reported_at"], utc=True)
    is_open = ~frame["stage"].isin(("resolved", "closed")).to_numpy()
    # `now` is the minute the blob is made in (the KPIs' too); what happened later in that minute counts at `now`,
    # as it does in the KPIs, which take every incident's current stage
    late = now + pd.Timedelta(minutes=1)
    sub = frame[((reported >= t0) & (reported < late)).to_numpy() | (is_open & (reported < t0)).to_numpy()]
    reported = pd.to_datetime(sub["reported_at"], utc=True)
    now_s = int((now - t0).total_seconds())
    rep_s = np.clip((reported - t0).dt.total_seconds().to_numpy() // 1, 0, now_s).astype(np.int64)
    rank = sub["stage"].map(STAGE_RANK).fillna(0).to_numpy()
    coords = sub[["lon", "lat"]].to_numpy(dtype=np.float64)
    origin = origin_of(coords)
    arrays = {
        "positions": offsets(coords, origin),
        "category": sub["category"].map({c: i for i, c in enumerate(CATEGORIES)}).fillna(NONE).to_numpy(np.uint8),
        "reported": rep_s.astype(np.uint32),
    }
    for stage in LATER_STAGES:
        when = pd.to_datetime(sub[f"{stage}_at"], utc=True)
        at = np.minimum((when - t0).dt.total_seconds().to_numpy() // 1, now_s)
        after = np.maximum(at - rep_s, 0).astype("float64")
        out = np.where(np.isnan(after), NEVER, np.clip(np.nan_to_num(after), 0, UNTIMED - 1))
        out = np.where(np.isnan(after) & (rank >= STAGE_RANK[stage]), UNTIMED, out)
        arrays[stage] = out.astype(np.uint32)
    d = Deadlines.parse(service.deadlines)
    header = {
        "layer": "timeline",
        "count": len(sub),
        "origin": origin,
        "t0": int(t0.timestamp()),
        "now": now_s,
        "days": YEAR_DAYS,
        "utc_offset": int(now.tz_convert(tz).utcoffset().total_seconds() // 60),
        "categories": list(CATEGORIES),
        "stages": list(vocab.INCIDENT_STAGES),
        "limits": {lim: LIMIT_STAGE[lim] for lim in LIMITS},
        "deadlines": {lim: [d.seconds(c, lim) for c in CATEGORIES] for lim in LIMITS},
        "never": NEVER,
        "untimed": UNTIMED,
    }
    return pack(header, arrays, {"positions": 2})
