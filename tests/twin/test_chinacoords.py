"""GCJ-02 / BD-09 transforms against published point pairs, and inverse round trips within 0.5 m."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from twin import chinacoords as cc

# WGS84 -> GCJ-02 pairs (lat, lon order in the source) from googollee/eviltransform, go/transform_test.go
# (repeated in its python/test.py): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# wandergis/coordtransform, test/app.js: conversions of (116.404, 39.915) (lon, lat order).
WANDERGIS_IN = (116.404, 39.915)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
WANDERGIS_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)  # their closed-form (approximate) inverse


def metres(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (haversine on a 6371 km sphere), vectorised."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_eviltransform(wlat, wlon, glat, glon):
    lon, lat = cc.wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_gcj02_to_wgs84_recovers_published_wgs84_within_half_a_metre(wlat, wlon, glat, glon):
    lon, lat = cc.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 0.5


def test_wandergis_pairs():
    assert cc.wgs84_to_gcj02(*WANDERGIS_IN) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=1e-9)
    assert cc.gcj02_to_bd09(*WANDERGIS_IN) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=1e-9)
    # Their inverse is Baidu's closed form (centimetres off); ours iterates, so agree within 0.1 m.
    lon, lat = cc.bd09_to_gcj02(*WANDERGIS_IN)
    assert metres(lon, lat, *WANDERGIS_BD09_TO_GCJ02) < 0.1


def test_bd09_composes_gcj02():
    lon, lat = cc.wgs84_to_bd09(116.404, 39.915)
    assert (lon, lat) == pytest.approx(cc.gcj02_to_bd09(*cc.wgs84_to_gcj02(116.404, 39.915)), abs=1e-12)
    assert (lon, lat) == pytest.approx((116.41662724378733, 39.922699552216216), abs=1e-9)


@pytest.mark.parametrize("lon, lat", [(2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688), (139.6917, 56.0)])
def test_out_of_china_points_are_unchanged(lon, lat):
    for fn in (
        cc.wgs84_to_gcj02,
        cc.gcj02_to_wgs84,
        cc.gcj02_to_bd09,
        cc.bd09_to_gcj02,
        cc.wgs84_to_bd09,
        cc.bd09_to_wgs84,
    ):
        assert fn(lon, lat) == (lon, lat)


def test_vectorised_mixes_inside_and_outside():
    lon = np.array([2.3522, 116.377817])
    lat = np.array([48.8566, 39.911954])
    glon, glat = cc.wgs84_to_gcj02(lon, lat)
    assert glon[0] == 2.3522 and glat[0] == 48.8566
    assert glon[1] == pytest.approx(116.38404722455657, abs=1e-9)


china = st.tuples(st.floats(73.5, 134.5), st.floats(18.5, 53.0))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(china)
def test_gcj02_round_trip_within_half_a_metre(p):
    lon, lat = p
    back = cc.gcj02_to_wgs84(*cc.wgs84_to_gcj02(lon, lat))
    assert metres(*back, lon, lat) < 0.5
    fwd = cc.wgs84_to_gcj02(*cc.gcj02_to_wgs84(lon, lat))
    assert metres(*fwd, lon, lat) < 0.5


@settings(derandomize=True, max_examples=300, deadline=None)
@given(china)
def test_bd09_round_trip_within_half_a_metre(p):
    lon, lat = p
    back = cc.bd09_to_wgs84(*cc.wgs84_to_bd09(lon, lat))
    assert metres(*back, lon, lat) < 0.5
    back = cc.bd09_to_gcj02(*cc.gcj02_to_bd09(lon, lat))
    assert metres(*back, lon, lat) < 0.5


def test_round_trip_on_arrays():
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(73.5, 134.5, 10_000), rng.uniform(18.5, 53.0, 10_000)
    back = cc.to_wgs84(*cc.from_wgs84(lon, lat, "bd09"), "bd09")
    assert metres(*back, lon, lat).max() < 0.5


def test_geometries_move_vertex_by_vertex():
    wgs = shapely.Polygon([(116.377817, 39.911954), (116.378, 39.911954), (116.378, 39.9121), (116.377817, 39.9121)])
    gcj = cc.geoms_from_wgs84(wgs, "gcj02")
    x, y = shapely.get_coordinates(gcj)[0]
    assert (x, y) == pytest.approx((116.38404722455657, 39.91334545536069), abs=1e-9)
    back = cc.geoms_to_wgs84(gcj, "GCJ-02")
    assert shapely.hausdorff_distance(back, wgs) < 1e-8


def test_unknown_datum_is_refused():
    with pytest.raises(ValueError, match="unknown datum"):
        cc.to_wgs84(1.0, 2.0, "tokyo")
