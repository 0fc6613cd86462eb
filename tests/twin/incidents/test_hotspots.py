"""Repeat hotspots against the rule worked out pair by pair (twin.incidents.hotspots), on seeded random layouts."""

import math

import numpy as np
import pandas as pd
import pytest

from twin.crs import MetricCRS
from twin.incidents import hotspot_kernel
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
def test_many_groups_in_one_pass_give_each_groups_own_labels(seed):
    """Six-nos clusters thousands of (compound, category) groups in one pass: each group's hotspots are the ones it
    has alone (the way checked pair by pair above), groups never joined."""
    rng = np.random.default_rng(seed)
    n = 3000
    groups = np.sort(rng.integers(0, 200, n))  # 200 groups, all in one 300 m square
    xy = rng.uniform(0, 300, (n, 2))
    building = rng.integers(-3, 5, n)
    shared = module.labels(groups, xy, building, 25.0, 3)
    assert (shared >= 0).sum() > n // 10
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        alone = module.labels(groups[rows], xy[rows], building[rows], 25.0, 3)
        assert members(shared[rows]) == members(alone)


def members(label: np.ndarray) -> set[frozenset]:
    """Each hotspot's rows, whatever its number."""
    return {frozenset(np.flatnonzero(label == k).tolist()) for k in np.unique(label[label >= 0])}


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_chain_of_overlapping_seeds_follows_the_rule(shuffled):
    """Incidents 30 m apart along a street, reported in street order: every seed overlaps the next, so each seed's
    answer depends on the one before it."""
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


def graph_pairs(xy, groups, codes, radius_m) -> set[tuple[int, int]]:
    """The same-place pairs of hotspot_kernel.same_place_graph, each as (low row, high row)."""
    indptr, neighbours = hotspot_kernel.same_place_graph(np.asarray(xy, dtype=float), groups, codes, radius_m)
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    pairs = {(min(i, j), max(i, j)) for i, j in zip(rows.tolist(), neighbours.tolist())}
    assert len(neighbours) == 2 * len(pairs)  # every pair once each way
    return pairs


def test_same_place_pairs_by_hand():
    """Near (on the circle counts, as math.hypot measures), or sharing a code whatever the distance; never across
    groups; cells are no border."""
    xy = [[0, 0], [30, 40], [100, 0], [0, 0], [0, 60], [49.9, 0], [300, 0], [0, 0]]
    groups = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    codes = np.array([3, -1, 3, -1, 3, -1, 3, 3])
    want = {(0, 1), (0, 3), (1, 3), (0, 5), (1, 5), (3, 5), (4, 1)[::-1]}  # 50 m exactly: (0, 1), (1, 3)
    want |= {(0, 2), (0, 4), (2, 4), (0, 6), (2, 6), (4, 6)}  # code 3 spreads 300 m; row 7 is another group's
    assert graph_pairs(xy, groups, codes, 50.0) == want
    assert graph_pairs(xy, groups, np.full(8, -1), 0.0) == {(0, 3)}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("radius", [0.0, 7.5, 40.0])
@pytest.mark.parametrize("group_scale", [1, 2**40])
def test_same_place_pairs_against_every_pair(seed, radius, group_scale):
    """Seeded layouts (points on one spot, on cell borders, far apart; group numbers small or huge, which makes the
    cells coarse): the graph holds exactly the pairs a check of every pair finds."""
    rng = np.random.default_rng(seed)
    n = 300
    xy = np.round(rng.uniform(0, 400, (n, 2)) / 7.5) * 7.5  # many on the grid lines and at one distance
    xy[rng.random(n) < 0.1] = [4e6 + 0.5, 3e6]  # far off: a city-wide span
    groups = np.sort(rng.integers(0, 4, n)) * group_scale
    codes = np.where(rng.random(n) < 0.5, rng.integers(0, 20, n), -1)
    want = {
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if groups[i] == groups[j]
        and (math.hypot(*(xy[i] - xy[j])) <= radius or (codes[i] >= 0 and codes[i] == codes[j]))
    }
    assert graph_pairs(xy, groups, codes, radius) == want


def test_the_greedy_by_hand():
    """Seeds by most same-place rows, ties by row; a taken row is no seed; a seed left with too few free rows
    takes none."""
    # 0-1-2-3 a path, 4 joined to 2: sizes (itself included) 2, 3, 4, 2, 2
    pairs = [(0, 1), (1, 2), (2, 3), (2, 4)]
    n = 5
    indptr = np.zeros(n + 1, dtype=np.int64)
    adjacency = [[] for _ in range(n)]
    for i, j in pairs:
        adjacency[i].append(j)
        adjacency[j].append(i)
    np.cumsum([len(a) for a in adjacency], out=indptr[1:])
    neighbours = np.array([j for a in adjacency for j in a], dtype=np.int64)
    seeds, members, starts = hotspot_kernel.greedy(indptr, neighbours, 3)
    assert seeds.tolist() == [2] and starts.tolist() == [0, 4]  # then 1 (size 3) has only 0 free: no hotspot
    assert members.tolist() == [1, 2, 3, 4]  # in row order
    seeds, members, starts = hotspot_kernel.greedy(indptr, neighbours, 2)
    assert seeds.tolist() == [2] and members.tolist() == [1, 2, 3, 4]  # 0 alone is not enough
    seeds, members, starts = hotspot_kernel.greedy(indptr, neighbours, 5)
    assert len(seeds) == 0 and len(members) == 0 and starts.tolist() == [0]


@pytest.mark.parametrize("seed", range(3))
def test_unordered_hotspots_come_category_by_category_in_the_order_found(seed):
    """find_hotspots(ordered=False), split by category and each part sorted stably by (count desc, first report),
    gives each category's hotspots as the ordered answer lists them."""
    frame = layout(seed, 200, True, object)
    codes, values = {}, {}
    for c in ("category", *module.PLACE_COLUMNS):
        codes[c], uniques = pd.factorize(frame[c], use_na_sentinel=True)
        values[c] = list(uniques)
    args = (
        codes,
        values,
        frame["reported_at"].to_numpy(dtype="datetime64[ns]").view("int64"),
        frame["incident_id"].to_numpy(dtype=object),
        np.column_stack(CRS.xy(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float))),
        25.0,
        3,
    )
    ordered = module.find_hotspots(*args)
    parts = module.find_hotspots(*args, ordered=False).by_category()
    assert sorted(parts) == sorted(set(ordered.category.tolist())) and len(parts) > 1
    for c, part in parts.items():
        want = ordered.take(np.flatnonzero(ordered.category == c))
        got = part.take(np.lexsort((part.first, -part.count)))
        assert got.count.tolist() == want.count.tolist() and got.rows.tolist() == want.rows.tolist()
        assert (got.first.tolist(), got.last.tolist()) == (want.first.tolist(), want.last.tolist())
