"""A hand-made street for redraw tests: community A (120 m × 90 m) with a 4 × 3 block of twelve buildings of
10 households each (two compounds: the west half and the east half) and today's three grids as uneven strips;
community B (60 m × 90 m) east of it with three buildings in one grid.

    y=90 +----+----+----+----+-------+
         | b8 | b9 |b10 |b11 | B: c0 |
         | b4 | b5 | b6 | b7 |    c1 |
         | b0 | b1 | b2 | b3 |    c2 |
    y=0  +----+----+----+----+-------+
        x=0  30   60   90  120      180     today: A1 = x<20 (b0,b4,b8), A2 = 20..100, A3 = x>100
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from layers import REGISTRY
from twin.core import Twin

LON0, LAT0 = 114.88, 40.80
M_LON, M_LAT = 1 / 84_300, 1 / 111_000
A, B = "130702001001", "130702001002"


def box(x0, y0, x1, y1):
    """A WGS84 box from metre offsets."""
    return shapely.box(LON0 + x0 * M_LON, LAT0 + y0 * M_LAT, LON0 + x1 * M_LON, LAT0 + y1 * M_LAT)


def frames(households=None) -> dict:
    """The street's frames; `households` overrides the 12 + 3 per-building household counts."""
    hh = list(households or [10] * 12 + [10, 10, 10])
    bld = []
    for n in range(12):
        i, j = n % 4, n // 4
        bld.append(
            dict(
                building_id=f"b{n}",
                compound_id="W" if i < 2 else "E",
                community_id=A,
                geometry=box(i * 30 + 8, j * 30 + 8, i * 30 + 22, j * 30 + 20),
            )
        )
    for n in range(3):
        bld.append(
            dict(
                building_id=f"c{n}", compound_id=None, community_id=B, geometry=box(135, 68 - n * 30, 160, 82 - n * 30)
            )
        )
    for b, h in zip(bld, hh):
        b.update(
            name=b["building_id"], floors=6, height_m=18.0, units=2, households=h, use="residential", build_year=1990
        )
    grids = [
        dict(grid_code=A + "001", geometry=box(0, 0, 20, 90)),
        dict(grid_code=A + "002", geometry=box(20, 0, 100, 90)),
        dict(grid_code=A + "003", geometry=box(100, 0, 120, 90)),
        dict(grid_code=B + "001", geometry=box(120, 0, 180, 90)),
    ]
    for g in grids:
        g.update(community_id=g["grid_code"][:12], name=g["grid_code"][-3:], worker="w", type="community")
    hrows = [
        dict(
            household_id=f"{b['building_id']}-{k}",
            building_id=b["building_id"],
            unit=1,
            floor=1,
            room=str(k),
            size=1 + k % 3,
            elderly_alone=k % 5 == 0,
            floating=False,
            key_group=False,
            name="x",
            phone=None,
        )
        for b in bld
        for k in range(b["households"])
    ]
    return {
        "communities": gpd.GeoDataFrame(
            [
                dict(community_id=A, name="A", street_name="S", geometry=box(0, 0, 120, 90)),
                dict(community_id=B, name="B", street_name="S", geometry=box(120, 0, 180, 90)),
            ],
            crs="EPSG:4326",
        ),
        "buildings": gpd.GeoDataFrame(bld, crs="EPSG:4326"),
        "grids": gpd.GeoDataFrame(grids, crs="EPSG:4326"),
        "households": gpd.GeoDataFrame(
            pd.DataFrame(hrows), geometry=gpd.GeoSeries([None] * len(hrows), crs="EPSG:4326")
        ),
    }


def street(households=None) -> Twin:
    """The street as a twin (static layers only)."""
    f = frames(households)
    return Twin.from_frames(f, {k: REGISTRY[k] for k in f})
