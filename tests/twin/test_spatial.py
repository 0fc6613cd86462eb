"""Every query of StaticIndex and LiveIndex agrees with brute force on random data near latitude 40 (hypothesis).

Coordinates sit on a coarse lattice so that shared edges, points on boundaries and equal distances (ties) are
common, which is where indexes go wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.crs import MetricCRS
from twin.errors import InvalidInput
from twin.spatial import LiveIndex, StaticIndex, radius_bbox

LON0, LAT0, STEP = 116.30, 40.00, 0.0002  # lattice step ~17 m east, ~22 m north
CRS = MetricCRS.for_lonlat(LON0, LAT0)
PROPS = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

lattice = st.integers(0, 40)


@st.composite
def lon_lat(draw, off_lattice=True):
    """A point of the lattice, or (sometimes) anywhere in the same area."""
    if off_lattice and draw(st.booleans()):
        return (
            LON0 + draw(st.floats(-0.001, 0.009, allow_nan=False)),
            LAT0 + draw(st.floats(-0.001, 0.009, allow_nan=False)),
        )
    return LON0 + draw(lattice) * STEP, LAT0 + draw(lattice) * STEP


@st.composite
def footprint(draw):
    """A point, a lattice box or a lattice triangle (the shapes of the static layers)."""
    x, y = draw(lattice), draw(lattice)
    kind = draw(st.sampled_from(["point", "box", "triangle"]))
    if kind == "point":
        return shapely.Point(LON0 + x * STEP, LAT0 + y * STEP)
    w, h = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    if kind == "box":
        return shapely.box(LON0 + x * STEP, LAT0 + y * STEP, LON0 + (x + w) * STEP, LAT0 + (y + h) * STEP)
    return shapely.Polygon(
        [
            (LON0 + x * STEP, LAT0 + y * STEP),
            (LON0 + (x + w) * STEP, LAT0 + y * STEP),
            (LON0 + x * STEP, LAT0 + (y + h) * STEP),
        ]
    )


@st.composite
def query_polygon(draw):
    """A query area: a lattice box, or the convex hull of a few lattice points (non-degenerate)."""
    if draw(st.booleans()):
        x0, x1 = sorted(draw(st.lists(lattice, min_size=2, max_size=2, unique=True)))
        y0, y1 = sorted(draw(st.lists(lattice, min_size=2, max_size=2, unique=True)))
        return shapely.box(LON0 + x0 * STEP, LAT0 + y0 * STEP, LON0 + x1 * STEP, LAT0 + y1 * STEP)
    pts = draw(st.lists(st.tuples(lattice, lattice), min_size=3, max_size=7, unique=True))
    hull = shapely.MultiPoint([(LON0 + x * STEP, LAT0 + y * STEP) for x, y in pts]).convex_hull
    if hull.geom_type != "Polygon" or hull.area == 0:
        return shapely.box(LON0, LAT0, LON0 + 10 * STEP, LAT0 + 10 * STEP)
    return hull


geometries = st.lists(footprint(), min_size=1, max_size=60)
radii = st.floats(1.0, 1500.0, allow_nan=False)


def metres_to(geoms, lon, lat) -> np.ndarray:
    """Exact distances in the metric CRS from (lon, lat) to each geometry: the brute-force reference."""
    return shapely.distance(CRS.to_metric(np.asarray(geoms, dtype=object)), CRS.to_metric(shapely.Point(lon, lat)))


def brute_nearest(keys, d, k) -> np.ndarray:
    """Keys of the k smallest distances, ties by the smaller key."""
    keys = np.asarray(keys)
    return keys[np.lexsort((keys, d))][:k]


# --- StaticIndex ----------------------------------------------------------------------------------------------
@PROPS
@given(geometries, st.tuples(lattice, lattice, st.integers(0, 20), st.integers(0, 20)))
def test_static_bbox(geoms, box):
    x, y, w, h = box
    b = (LON0 + x * STEP, LAT0 + y * STEP, LON0 + (x + w) * STEP, LAT0 + (y + h) * STEP)
    idx = StaticIndex(geoms, CRS)
    expected = np.flatnonzero(shapely.intersects(np.asarray(geoms), shapely.box(*b)))
    np.testing.assert_array_equal(idx.bbox(*b), expected)


@PROPS
@given(geometries, query_polygon())
def test_static_polygon_intersects_and_within(geoms, poly):
    idx = StaticIndex(geoms, CRS)
    arr = np.asarray(geoms)
    np.testing.assert_array_equal(idx.intersects(poly), np.flatnonzero(shapely.intersects(arr, poly)))
    np.testing.assert_array_equal(idx.within(poly), np.flatnonzero(shapely.within(arr, poly)))


@PROPS
@given(geometries, lon_lat(), radii)
def test_static_radius(geoms, centre, metres):
    idx = StaticIndex(geoms, CRS)
    expected = np.flatnonzero(metres_to(geoms, *centre) <= metres)
    np.testing.assert_array_equal(idx.radius(*centre, metres), expected)
    got, dist = idx.radius(*centre, metres, distances=True)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(dist, metres_to(geoms, *centre)[expected], atol=1e-6)


@PROPS
@given(geometries, lon_lat(), st.integers(1, 70))
def test_static_nearest(geoms, centre, k):
    idx = StaticIndex(geoms, CRS)
    d = metres_to(geoms, *centre)
    got = idx.nearest(*centre, k)
    assert len(got) == min(k, len(geoms))
    np.testing.assert_array_equal(d[got], np.sort(d)[: len(got)])  # the k smallest distances, nearest first
    np.testing.assert_array_equal(got, brute_nearest(np.arange(len(geoms)), d, k))  # ties by position


# --- LiveIndex --------------------------------------------------------------------------------------------------
@st.composite
def live_points(draw):
    """Unique ids with lattice points, split into a bulk-loaded part and a part inserted one by one."""
    ids = draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=60, unique=True))
    pts = [draw(lon_lat(off_lattice=False)) for _ in ids]
    split = draw(st.integers(0, len(ids)))
    return np.array(ids, dtype=np.int64), np.array(pts, dtype=float), split


def build_live(ids, pts, split) -> LiveIndex:
    idx = LiveIndex.bulk(ids[:split], pts[:split, 0], pts[:split, 1], CRS)
    for i, (x, y) in zip(ids[split:], pts[split:]):
        idx.insert(int(i), float(x), float(y))
    return idx


def sorted_ids(ids, mask) -> np.ndarray:
    return np.sort(ids[mask])


@PROPS
@given(live_points(), query_polygon())
def test_live_bbox_intersects_within(data, poly):
    ids, pts, split = data
    idx = build_live(ids, pts, split)
    assert len(idx) == len(ids)
    points = shapely.points(pts)
    np.testing.assert_array_equal(
        idx.bbox(*poly.bounds), sorted_ids(ids, shapely.intersects(points, shapely.box(*poly.bounds)))
    )
    np.testing.assert_array_equal(idx.intersects(poly), sorted_ids(ids, shapely.intersects(points, poly)))
    np.testing.assert_array_equal(idx.within(poly), sorted_ids(ids, shapely.within(points, poly)))


@PROPS
@given(live_points(), lon_lat(), radii)
def test_live_radius(data, centre, metres):
    ids, pts, split = data
    idx = build_live(ids, pts, split)
    d = metres_to(shapely.points(pts), *centre)
    np.testing.assert_array_equal(idx.radius(*centre, metres), sorted_ids(ids, d <= metres))
    got, dist = idx.radius(*centre, metres, distances=True)
    np.testing.assert_array_equal(got, sorted_ids(ids, d <= metres))
    np.testing.assert_allclose(dist, [d[list(ids).index(i)] for i in got], atol=1e-6)


@PROPS
@given(live_points(), st.lists(lon_lat(), min_size=1, max_size=6), radii)
def test_live_radius_many_equals_one_radius_per_centre(data, centres, metres):
    ids, pts, split = data
    idx = build_live(ids, pts, split)
    k, got, dist = idx.radius_many([c[0] for c in centres], [c[1] for c in centres], metres)
    for j, centre in enumerate(centres):
        want, want_d = idx.radius(*centre, metres, distances=True)
        np.testing.assert_array_equal(got[k == j], want)
        np.testing.assert_allclose(dist[k == j], want_d, atol=1e-6)
    assert (np.diff(k) >= 0).all()


@PROPS
@given(live_points(), lon_lat(), st.integers(1, 70))
def test_live_nearest(data, centre, k):
    ids, pts, split = data
    idx = build_live(ids, pts, split)
    d = metres_to(shapely.points(pts), *centre)
    got = idx.nearest(*centre, k)
    assert len(got) == min(k, len(ids))
    by_id = dict(zip(ids.tolist(), d.tolist()))
    np.testing.assert_array_equal([by_id[i] for i in got.tolist()], np.sort(d)[: len(got)])
    np.testing.assert_array_equal(got, brute_nearest(ids, d, k))  # ties by id


# --- hand-made cases ----------------------------------------------------------------------------------------------
def test_radius_bbox_holds_the_disc():
    for lat in (0.0, 22.5, 40.0, 53.0):
        minx, miny, maxx, maxy = radius_bbox(116.0, lat, 1000.0)
        crs = MetricCRS.for_lonlat(116.0, lat)
        x, y = crs.xy([minx, maxx, 116.0, 116.0], [lat, lat, miny, maxy])
        cx, cy = crs.xy(116.0, lat)
        assert min(abs(x[0] - cx), abs(x[1] - cx), abs(y[2] - cy), abs(y[3] - cy)) > 1000.0


def test_live_insert_moves_an_existing_id():
    idx = LiveIndex.bulk([1, 2], [LON0, LON0 + 0.001], [LAT0, LAT0], CRS)
    idx.insert(1, LON0 + 0.005, LAT0 + 0.005)
    assert len(idx) == 2
    assert idx.bbox(LON0 - 1e-6, LAT0 - 1e-6, LON0 + 1e-6, LAT0 + 1e-6).tolist() == []
    assert idx.nearest(LON0 + 0.005, LAT0 + 0.005, 1).tolist() == [1]
    assert idx.lon[1] == pytest.approx(LON0 + 0.005)
    idx.insert(3, LON0 + 0.002, LAT0)  # not in the rtree until nearest() asks
    assert idx.nearest(LON0 + 0.0021, LAT0, 1).tolist() == [3]
    idx.insert(3, LON0 - 0.002, LAT0)  # now in it: moved there too
    idx.insert(4, LON0 + 0.0022, LAT0)
    assert idx.nearest(LON0 + 0.0021, LAT0, 2).tolist() == [4, 2] and len(idx) == 4


def test_live_box_queries_stay_exact_across_grid_rebuilds_and_moves():
    """Thousands of points (on the lattice, so many sit on cell edges): bulk-loaded, then inserted past the grid's
    rebuild threshold, then some moved; every box and polygon query agrees with brute force at each step."""
    rng = np.random.default_rng(3)
    n = 6000
    pts = np.column_stack([LON0 + rng.integers(0, 400, n) * STEP / 4, LAT0 + rng.integers(0, 400, n) * STEP / 4])
    ids = np.arange(n, dtype=np.int64) * 3
    idx = LiveIndex.bulk(ids[:3000], pts[:3000, 0], pts[:3000, 1], CRS)
    boxes = [sorted_box(rng) for _ in range(40)]

    def check(k):
        points = shapely.points(pts[:k])
        for b in boxes:
            box = shapely.box(*b)
            want = sorted_ids(ids[:k], shapely.intersects(points, box))
            np.testing.assert_array_equal(idx.bbox(*b), want)
            np.testing.assert_array_equal(idx.intersects(box), want)

    def check_radii(k):  # many centres at once, against brute force in metres
        centres = pts[rng.choice(k, 30)] + STEP / 8
        j, got, _d = idx.radius_many(centres[:, 0], centres[:, 1], 120.0)
        for c, (x, y) in enumerate(centres):
            d = metres_to(shapely.points(pts[:k]), x, y)
            np.testing.assert_array_equal(got[j == c], sorted_ids(ids[:k], d <= 120.0))

    check(3000)
    check_radii(3000)
    for k in range(3000, n):  # past max(1024, n / 32) inserted since the grid: rebuilt on a later query
        idx.insert(int(ids[k]), float(pts[k, 0]), float(pts[k, 1]))
        if k in (3050, 4500):
            check(k + 1)
            check_radii(k + 1)
    check(n)
    for k in rng.choice(3000, 50, replace=False):  # moves inside the gridded part
        pts[k] = pts[k] + STEP * 7
        idx.insert(int(ids[k]), float(pts[k, 0]), float(pts[k, 1]))
    check(n)


def sorted_box(rng) -> tuple:
    x = np.sort(LON0 + rng.integers(-10, 420, 2) * STEP / 4)
    y = np.sort(LAT0 + rng.integers(-10, 420, 2) * STEP / 4)
    return float(x[0]), float(y[0]), float(x[1]), float(y[1])


def test_live_index_grows_past_its_capacity_and_handles_ties():
    idx = LiveIndex(CRS)
    assert idx.nearest(LON0, LAT0, 3).tolist() == []
    assert idx.radius(LON0, LAT0, 10).tolist() == []
    for i in range(200, 0, -1):  # ids arrive in falling order: every insert checks for an existing id
        idx.insert(i, LON0, LAT0)  # all at one place: every distance ties
    assert len(idx) == 200
    assert idx.nearest(LON0, LAT0, 5).tolist() == [1, 2, 3, 4, 5]
    assert len(idx.radius(LON0, LAT0, 1.0)) == 200


def test_static_nearest_skips_missing_geometries():
    idx = StaticIndex([None, shapely.Point(LON0, LAT0), shapely.Point(LON0 + 0.001, LAT0)], CRS)
    assert idx.nearest(LON0, LAT0, 10).tolist() == [1, 2]


@pytest.mark.parametrize(
    "call",
    [
        lambda i: i.radius(LON0, LAT0, 0),
        lambda i: i.radius(LON0, LAT0, float("nan")),
        lambda i: i.radius(LON0, LAT0, 1e9),
        lambda i: i.nearest(LON0, LAT0, 0),
        lambda i: i.nearest(LON0, LAT0, 2.5),
        lambda i: i.nearest(float("inf"), LAT0, 1),
        lambda i: i.bbox(LON0 + 1, LAT0, LON0, LAT0 + 1),
        lambda i: i.bbox("a", LAT0, LON0, LAT0 + 1),
        lambda i: i.intersects(shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])),  # a bow tie
        lambda i: i.within(shapely.Polygon()),
        lambda i: i.within({"type": "Polygon"}),
    ],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda: StaticIndex([shapely.Point(LON0, LAT0)], CRS),
        lambda: LiveIndex.bulk([1], [LON0], [LAT0], CRS),
    ],
)
def test_bad_query_arguments_are_invalid_input(make, call):
    with pytest.raises(InvalidInput):
        call(make())


def test_bulk_rejects_duplicate_ids_and_missing_coordinates():
    with pytest.raises(InvalidInput, match="more than once"):
        LiveIndex.bulk([1, 1], [LON0, LON0], [LAT0, LAT0], CRS)
    with pytest.raises(InvalidInput, match="finite"):
        LiveIndex.bulk([1, 2], [LON0, np.nan], [LAT0, LAT0], CRS)


def test_live_index_keeps_each_points_metric_coordinates():
    """xy() answers the projection made at insertion, by id whether or not ids are positions; a moved point's anew."""
    lon, lat = LON0 + np.array([0.0, 0.001, 0.002]), LAT0 + np.array([0.0, 0.001, -0.001])
    idx = LiveIndex.bulk([0, 1, 2], lon, lat, CRS)
    idx.insert(3, LON0 + 0.003, LAT0)
    want = np.column_stack(CRS.xy(np.append(lon, LON0 + 0.003), np.append(lat, LAT0)))
    assert np.array_equal(idx.xy([3, 0, 2]), want[[3, 0, 2]])
    idx.insert(1, LON0 - 0.004, LAT0)  # moved
    assert np.allclose(idx.xy([1]), np.column_stack(CRS.xy([LON0 - 0.004], [LAT0])))
    named = LiveIndex.bulk([10, 3, 7], lon, lat, CRS)  # ids that are not positions
    assert np.array_equal(named.xy([7, 10]), want[[2, 0]])
    with pytest.raises(InvalidInput, match="id 5 is not indexed"):
        named.xy([5])
