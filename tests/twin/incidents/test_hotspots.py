"""Repeat hotspots against the rule worked out pair by pair (twin.incidents.hotspots), on seeded random layouts."""

import math

import numpy as np
import pandas as pd
import pytest

from twin.crs import MetricCRS
from twin.incidents import hotspots as module
from twin.incidents.hotspots import hotspots

CRS = MetricCRS.for_lonlat(114.88, 40.80)


def brute(frame: pd.DataFrame, radius_m: float, min_count: int) -> list[tuple]:
    """The module rule, one pair at a time: (category, count, incident ids in report order, building) per hotspot."""
    f = frame.sort_values(["category", "reported_at", "incident_id"], kind="stable").reset_index(drop=True)
    x, y = CRS.xy(f["lon"].to_numpy(dtype=float), f["lat"].to_numpy(dtype=float))
    cat = f["category"].tolist()
    bld = [None if pd.isna(b) else b for b in f["building_id"]]
    n = len(f)

    def same(i, j):
        near = math.hypot(x[i] - x[j], y[i] - y[j]) <= radius_m
        return cat[i] == cat[j] and (near or (bld[i] is not None and bld[i] == bld[j]))

    place = [[j for j in range(n) if same(i, j)] for i in range(n)]
    taken, found = set(), []
    for seed in sorted(range(n), key=lambda i: (-len(place[i]), i)):
        members = [j for j in place[seed] if j not in taken]
        if seed not in taken and len(members) >= min_count:
            taken.update(members)
            found.append(members)
    found.sort(key=lambda m: (-len(m), cat[m[0]], f["reported_at"][m[0]]))  # stable: as found on ties

    def building(m):
        known = pd.Series([bld[j] for j in m]).dropna()
        return None if known.empty else min(known.value_counts().loc[lambda c: c == c.max()].index)

    return [(cat[m[0]], len(m), [f["incident_id"][j] for j in m], building(m)) for m in found]


def layout(seed: int, n: int, shuffled: bool, text: str) -> pd.DataFrame:
    """n incidents of 3 categories in a 300 m square with a few buildings, some on one spot, some at one time."""
    rng = np.random.default_rng(seed)
    x0, y0 = CRS.xy(114.88, 40.80)
    x, y = x0 + rng.uniform(0, 300, n), y0 + rng.uniform(0, 300, n)
    spot = rng.random(n) < 0.1  # a tenth reported at one spot each with another
    x[spot], y[spot] = x0 + 150, y0 + 150
    lon, lat = CRS.lonlat(x, y)
    when = pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 40, n), unit="h")  # many ties
    ids = [f"GD{k:04d}" for k in rng.permutation(n)]
    frame = pd.DataFrame(
        {
            "incident_id": ids,
            "category": rng.choice(["drain", "garbage", "parking"], n),
            "reported_at": when,
            "lon": lon,
            "lat": lat,
            "building_id": [None if b < 0 else f"B{b}" for b in rng.integers(-6, 6, n)],
            "compound_id": "C1",
            "grid_code": [f"g{g}" for g in rng.integers(0, 3, n)],
            "community_id": "c",
        }
    )
    if not shuffled:
        frame = frame.sort_values(["reported_at", "incident_id"]).reset_index(drop=True)
    return frame.astype({c: text for c in ("incident_id", "category", "building_id", "grid_code")})


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("text", [object, "string[pyarrow]"])
def test_hotspots_follow_the_rule_pair_by_pair(seed, shuffled, text):
    frame = layout(seed, 120 + 20 * seed, shuffled, text)
    for radius, min_count in ((0, 2), (25, 3), (40, 4)):
        got = hotspots(frame, CRS, radius, min_count)
        want = brute(frame, radius, min_count)
        assert [(h["category"], h["count"], h["incident_ids"], h["building_id"]) for h in got] == want
        assert len(want) > 1  # the layout does make several hotspots
        for h in got:
            times = frame.set_index("incident_id").loc[h["incident_ids"], "reported_at"]
            assert (h["first_reported"], h["last_reported"]) == (times.min(), times.max())


@pytest.mark.parametrize("seed", range(3))
def test_many_groups_share_one_tree_with_the_same_labels(seed, monkeypatch):
    """Six-nos clusters thousands of (compound, category) groups: one tree with the groups moved apart gives the
    labels a tree per group gives (the way checked pair by pair above), groups never joined."""
    from twin.incidents import hotspots as hs

    rng = np.random.default_rng(seed)
    n = 3000
    groups = np.sort(rng.integers(0, 200, n))  # 200 groups > TREE_PER_GROUP_MAX, all in one 300 m square
    xy = rng.uniform(0, 300, (n, 2))
    building = rng.integers(-3, 5, n)
    shared = hs.labels(groups, xy, building, 25.0, 3)
    monkeypatch.setattr(hs, "TREE_PER_GROUP_MAX", 10**9)
    assert np.array_equal(shared, hs.labels(groups, xy, building, 25.0, 3))
    assert (shared >= 0).sum() > n // 10
    hot = shared >= 0
    assert all(len(set(groups[hot][shared[hot] == k])) == 1 for k in np.unique(shared[hot]))


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_chain_of_overlapping_seeds_follows_the_rule(shuffled):
    """Incidents 30 m apart along a street, reported in street order: every seed overlaps the next, so the seeds
    are decided one after another (the rounds hand over to the one-by-one greedy)."""
    n = 400
    x0, y0 = CRS.xy(114.88, 40.80)
    lon, lat = CRS.lonlat(x0 + 30.0 * np.arange(n), np.full(n, y0))
    frame = pd.DataFrame(
        {
            "incident_id": [f"GD{k:04d}" for k in range(n)],
            "category": "drain",
            "reported_at": pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="min"),
            "lon": lon,
            "lat": lat,
            "building_id": None,
            "compound_id": "C1",
            "grid_code": "g1",
            "community_id": "c",
        }
    )
    if shuffled:
        frame = frame.sample(frac=1, random_state=3)
    got = hotspots(frame, CRS, 50, 3)
    want = brute(frame, 50, 3)
    assert [(h["category"], h["count"], h["incident_ids"], h["building_id"]) for h in got] == want
    assert len(want) > 100


@pytest.mark.parametrize("share", [0, 10**9])
@pytest.mark.parametrize("seed", range(3))
def test_rounds_alone_and_one_by_one_alone_give_the_rule(seed, share, monkeypatch):
    """Seeds decided one by one after the first round (share 0) or all in rounds (share huge): one answer."""
    monkeypatch.setattr(module, "ROUNDS_SHARE", share)
    frame = layout(seed, 200, True, object)
    for radius, min_count in ((25, 3), (40, 4)):
        got = hotspots(frame, CRS, radius, min_count)
        assert [(h["category"], h["count"], h["incident_ids"], h["building_id"]) for h in got] == brute(
            frame, radius, min_count
        )


def test_pairs_sharing_a_code_whatever_the_codes_size():
    """Rows sharing a code are paired once, apart from codes whose rows all lie well within the radius; codes too
    large to sort beside their row number give the same pairs."""
    codes = np.array([3, -1, 3, 7, 3, 7, 9])
    xy = np.array([[0, 0], [1, 1], [100, 0], [0, 0], [0, 60], [0, 5], [0, 0]], dtype=float)
    want = {(0, 2), (0, 4), (2, 4)}  # code 3 spreads 100 m; code 7's rows are 5 m apart; code 9 has one row
    assert {tuple(sorted(p)) for p in module._same_code(codes, xy, 50.0**2).tolist()} == want
    big = np.where(codes >= 0, codes + np.iinfo(np.int64).max // 2, -1)
    assert {tuple(sorted(p)) for p in module._same_code(big, xy, 50.0**2).tolist()} == want
    assert len(module._same_code(codes, xy, -1.0)) == 4  # nothing left out: code 7's pair too
