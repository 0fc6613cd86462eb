"""The risk model: hand-checked points on the tiny street, and properties that must hold for any incidents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import tiny
from twin import risk
from twin.errors import InvalidInput
from twin.incidents.figures import FigureIndex
from twin.incidents.timeliness import DONE_STAGES

NOW = pd.Timestamp("2026-06-30T08:00:00Z")
W = risk.parse_weights()


def frames():
    """Plain frames of the tiny street (buildings with their grid, as the twin derives it)."""
    b = pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in tiny.BUILDINGS])
    b["grid_code"] = b["building_id"].map(
        {"B1": tiny.GA1, "B2": tiny.GA1, "B3": tiny.GA2, "B4": tiny.GB1, "B5": tiny.GB1}
    )
    c = pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in tiny.COMPOUNDS])
    g = pd.DataFrame([{k: v for k, v in r.items() if k != "geometry"} for r in tiny.GRIDS])
    h = pd.DataFrame(tiny.HOUSEHOLDS)
    return b, c, g, h


def incidents(rows):
    """An incidents frame from (building_id, category, stage, days_ago) tuples."""
    b, *_ = frames()
    comp = dict(zip(b["building_id"], b["compound_id"]))
    return pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(len(rows))],
            "building_id": [r[0] for r in rows],
            "compound_id": [comp.get(r[0]) for r in rows],
            "category": [r[1] for r in rows],
            "stage": [r[2] for r in rows],
            "reported_at": pd.to_datetime([NOW - pd.Timedelta(days=r[3]) for r in rows], utc=True),
        }
    )


def run(rows=(), overdue=None, weights=W):
    b, c, g, h = frames()
    inc = incidents(list(rows)) if rows else None
    return risk.score_frames(b, c, g, h, inc, overdue, NOW, weights)


def test_points_by_hand():
    b, c, g = run()
    # B1: unmanaged 30 + no owners' committee 4 + built 1985 (41 years: (41-20)/30*15 = 10.5) + 1 elderly 4
    assert b.loc["B1", "score"] == pytest.approx(48.5)
    assert b.loc["B1", "factors"][0] == ["property_state", 30.0]
    assert [f for f, _ in b.loc["B1", "factors"]] == [
        "property_state",
        "build_age",
        "no_owners_committee",
        "elderly_alone",
    ]
    # B3: company-managed, built 2005 (21 years: 0.5 points), no elderly → low
    assert b.loc["B3", "score"] == pytest.approx(0.5)
    assert b.loc["B3", "level"] == "low"
    # B4: fallback 12 + no committee 4 + 1978 (48 years: 14) + 1 elderly 4 = 34 → medium
    assert b.loc["B4", "score"] == pytest.approx(34.0)
    assert b.loc["B4", "level"] == "medium"
    # C1 = household-weighted mean of B1 (3 households, 48.5) and B2 (2, 44.5) = 46.9
    assert c.loc["C1", "score"] == pytest.approx((3 * 48.5 + 2 * 44.5) / 5, abs=0.05)
    assert c.loc["C1", "max_building_score"] == pytest.approx(48.5)
    assert g.loc[tiny.GA2, "score"] == pytest.approx(0.5)
    assert list(g.index) == [tiny.GA1, tiny.GA2, tiny.GB1]


def test_incident_points_by_hand():
    rows = [
        ("B3", "fire_hazard", "reported", 1),
        ("B3", "fire_hazard", "closed", 30),
        ("B3", "flying_line_charging", "resolved", 100),  # outside the 90-day window
        ("B3", "garbage", "accepted", 2),
    ]
    b, _, _ = run(rows, overdue=np.array([True, False, False, False]))
    f = dict(b.loc["B3", "factors"])
    # 2 open × 3 = 6; 1 overdue × 8; 2 fire hazards in window × 10 = 20; 1 repeat (fire hazard twice) × 5
    assert f["fire_hazard"] == 20 and f["overdue_incidents"] == 8 and f["open_incidents"] == 6
    assert f["repeat_incidents"] == 5 and "flying_line_charging" not in f
    assert b.loc["B3", "score"] == pytest.approx(0.5 + 20 + 8 + 6 + 5)


def test_new_company_compound_without_incidents_is_low():
    b, c, g, h = frames()
    b.loc[b["building_id"] == "B3", "build_year"] = 2020
    c.loc[c["compound_id"] == "C2", "build_year"] = 2020
    rb, rc, _ = risk.score_frames(b, c, g, h, None, None, NOW, W)
    assert rb.loc["B3", "score"] == 0 and rb.loc["B3", "level"] == "low" and rb.loc["B3", "factors"] == []
    assert rc.loc["C2", "level"] == "low"


def test_levels_and_weights_from_config():
    w = risk.parse_weights('{"property_state": {"company": 60}, "levels": {"medium": 10}}')
    assert w["property_state"]["company"] == 60 and w["property_state"]["unmanaged"] == 30
    b, _, _ = run(weights=w)
    assert b.loc["B3", "level"] == "high"
    assert list(risk.level_of([0, 24.9, 25, 50, 75, 100], W)) == [
        "low",
        "low",
        "medium",
        "high",
        "critical",
        "critical",
    ]


@pytest.mark.parametrize(
    "raw, words",
    [
        ("{", "not valid JSON"),
        ('{"nonsense": 1}', "unknown entry"),
        ('{"fire_hazard": {"each": -1}}', "0 to 1000"),
        ('{"levels": {"medium": 90}}', "must rise"),
        ('{"property_state": 5}', "must be an object"),
    ],
)
def test_bad_weights_are_refused_with_a_reason(raw, words):
    with pytest.raises(InvalidInput, match=words):
        risk.parse_weights(raw)


BUILDING = st.sampled_from(["B1", "B2", "B3", "B4", "B5"])
CATEGORY = st.sampled_from(["fire_hazard", "flying_line_charging", "garbage", "roof_leak", "petition"])
STAGE = st.sampled_from(["reported", "accepted", "on_site", "resolved", "closed"])
ROW = st.tuples(BUILDING, CATEGORY, STAGE, st.integers(min_value=0, max_value=200))


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROW, max_size=40), overdue_bits=st.lists(st.booleans(), min_size=40, max_size=40), target=BUILDING)
def test_an_overdue_fire_hazard_never_lowers_a_score(rows, overdue_bits, target):
    od = np.array(overdue_bits[: len(rows)], dtype=bool)
    before = run(rows, overdue=od)
    after = run(rows + [(target, "fire_hazard", "reported", 0)], overdue=np.append(od, True))
    for b0, b1 in zip(before, after):
        assert (b1["score"] >= b0["score"] - 1e-9).all()
        assert ((b0["score"] >= 0) & (b0["score"] <= 100)).all()
    # it raises the target's score unless the score is at 100 or every factor the incident feeds is at its cap
    mine = [(r, o) for r, o in zip(rows, od) if r[0] == target]
    recent = [r for r, _ in mine if r[3] <= W["window_days"]]
    n_open = sum(r[2] not in DONE_STAGES for r, _ in mine)
    n_overdue = sum(r[2] not in DONE_STAGES and o for r, o in mine)
    n_fire = sum(r[1] == "fire_hazard" for r in recent)
    n_repeat = sum(max(0, sum(x[1] == c for x in recent) - 1) for c in {x[1] for x in recent})
    capped = all(
        n * W[f]["each"] >= W[f]["max"]
        for f, n in (
            ("open_incidents", n_open),
            ("overdue_incidents", n_overdue),
            ("fire_hazard", n_fire),
            ("repeat_incidents", n_repeat),
        )
    )
    assert (
        after[0].loc[target, "score"] > before[0].loc[target, "score"]
        or before[0].loc[target, "score"] == 100
        or capped
    )


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROW, max_size=60))
def test_scores_stay_in_range_and_factors_explain_them(rows):
    for t in run(rows, overdue=np.ones(len(rows), dtype=bool)):
        assert ((t["score"] >= 0) & (t["score"] <= 100)).all()
        assert set(t["level"]) <= set(risk.LEVELS)
        for s, factors in zip(t["score"], t["factors"]):
            pts = [p for _, p in factors]
            assert pts == sorted(pts, reverse=True)
            assert len(factors) <= risk.TOP_FACTORS and all(p > 0 for p in pts)
            assert s <= 100 and (s == 100 or len(factors) == risk.TOP_FACTORS or abs(sum(pts) - s) < 0.2)


class FakeIncidents:
    """Just enough of the incident service for risk.score: its rows, figures, a version, deadlines and a clock."""

    def __init__(self, frame, version="v1"):
        self._frame, self.version, self.deadlines = frame.reset_index(drop=True), version, None
        self.figures = FigureIndex(self._frame)

    def __len__(self):
        return len(self._frame)

    def open_positions(self):
        return self.figures.open_positions()

    def positions(self, start=None):
        return self.figures.between(start)

    def rows(self, positions):
        return self._frame.iloc[positions]

    def overdue(self, positions, now):
        return self.figures.overdue(positions, self.deadlines, now)

    def now(self):
        return NOW


def test_score_on_a_twin_is_cached_per_incident_version(tiny_twin):
    inc = incidents([("B3", "fire_hazard", "reported", 0)])
    for col in ("accepted_at", "on_site_at", "resolved_at", "closed_at"):
        inc[col] = pd.NaT
    tiny_twin.incidents = FakeIncidents(inc)
    r1 = risk.score(tiny_twin)
    assert risk.score(tiny_twin) is r1
    # reported at NOW with no accept: not overdue yet (1 minute to accept); a minute later it is
    assert "overdue_incidents" not in dict(r1.buildings.loc["B3", "factors"])
    later = risk.score(tiny_twin, now=NOW + pd.Timedelta(minutes=5))
    assert dict(later.buildings.loc["B3", "factors"])["overdue_incidents"] == 8
    tiny_twin.incidents = FakeIncidents(inc.iloc[:0], version="v2")
    assert risk.score(tiny_twin).buildings.loc["B3", "score"] < r1.buildings.loc["B3", "score"]
    assert set(r1.compounds.columns) >= {"score", "level", "factors"}


def test_a_fifth_overdue_fire_hazard_adds_nothing_once_every_factor_it_feeds_is_capped():
    # B3 (0.5 points of age) with four open, overdue fire hazards today: open 12, overdue 24, fire 20, repeats 15
    # are all at their caps (71.5 points); a fifth such incident cannot raise the score.
    rows = [("B3", "fire_hazard", "reported", 0)] * 4
    before = run(rows, overdue=np.ones(4, bool))
    after = run(rows + [("B3", "fire_hazard", "reported", 0)], overdue=np.ones(5, bool))
    assert before[0].loc["B3", "score"] == pytest.approx(71.5) == after[0].loc["B3", "score"]
