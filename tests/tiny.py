"""A tiny hand-made street whose right answers can be worked out by hand (see the diagram in the docstring).

Two communities side by side, lon 114.880-114.884 (A) and 114.884-114.888 (B), lat 40.800-40.803.
A has two grids split at lon 114.882 (west ...001, east ...002); B is one grid.

    lat 40.803 +-----------+-----------+-----------------------+
               | grid A1   | grid A2   | grid B1               |
               |  C1:B1,B2 |  C2:B3    |  C3: B4, B5           |
    lat 40.800 +-----------+-----------+-----------------------+
          114.880     114.882     114.884                 114.888

Households: B1 3 (one elderly alone), B2 2, B3 4 (two floating), B4 1 (elderly alone), B5 2 = 12 households.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

A, B = "130702001001", "130702001002"
GA1, GA2, GB1 = A + "001", A + "002", B + "001"


def box(x0, y0, x1, y1):
    """A GeoJSON Polygon for the box, counter-clockwise."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


COMMUNITIES = [
    {
        "community_id": A,
        "name": "东风社区",
        "street_name": "示范街道",
        "geometry": box(114.880, 40.800, 114.884, 40.803),
    },
    {
        "community_id": B,
        "name": "西园社区",
        "street_name": "示范街道",
        "geometry": box(114.884, 40.800, 114.888, 40.803),
    },
]
GRIDS = [
    {
        "grid_code": GA1,
        "community_id": A,
        "name": "东风一网格",
        "worker": "李网格",
        "worker_phone": "13900000001",
        "type": "renewal",
        "geometry": box(114.880, 40.800, 114.882, 40.803),
    },
    {
        "grid_code": GA2,
        "community_id": A,
        "name": "东风二网格",
        "worker": "王网格",
        "worker_phone": "13900000002",
        "type": "community",
        "geometry": box(114.882, 40.800, 114.884, 40.803),
    },
    {
        "grid_code": GB1,
        "community_id": B,
        "name": "西园一网格",
        "worker": "赵网格",
        "worker_phone": "13900000003",
        "type": "dispute",
        "geometry": box(114.884, 40.800, 114.888, 40.803),
    },
]
COMPOUNDS = [
    {
        "compound_id": "C1",
        "name": "纺织厂宿舍",
        "community_id": A,
        "state": "unmanaged",
        "build_year": 1985,
        "has_owners_committee": False,
        "has_party_branch": False,
        "geometry": box(114.8805, 40.8005, 114.8815, 40.8025),
    },
    {
        "compound_id": "C2",
        "name": "锦绣花园",
        "community_id": A,
        "state": "company",
        "build_year": 2005,
        "has_owners_committee": True,
        "has_party_branch": True,
        "property_company": "万家物业",
        "assessment_score": 88.5,
        "fee_yuan_month": 1.2,
        "geometry": box(114.8825, 40.8005, 114.8835, 40.8025),
    },
    {
        "compound_id": "C3",
        "name": "机械厂家属院",
        "community_id": B,
        "state": "fallback",
        "build_year": 1978,
        "has_owners_committee": False,
        "has_party_branch": True,
        "property_company": "城投物业",
        "fee_yuan_month": 20,
        "geometry": box(114.8845, 40.8005, 114.8875, 40.8025),
    },
]


def _bld(bid, comp, comm, x0, y0, floors, hh, year, use="residential"):
    return {
        "building_id": bid,
        "name": f"{bid}号楼",
        "compound_id": comp,
        "community_id": comm,
        "floors": floors,
        "height_m": floors * 3.0,
        "units": 2,
        "households": hh,
        "use": use,
        "build_year": year,
        "geometry": box(x0, y0, x0 + 0.0003, y0 + 0.0003),
    }


BUILDINGS = [
    _bld("B1", "C1", A, 114.8807, 40.8010, 6, 3, 1985),
    _bld("B2", "C1", A, 114.8811, 40.8018, 5, 2, 1985),
    _bld("B3", "C2", A, 114.8828, 40.8010, 18, 4, 2005),
    _bld("B4", "C3", B, 114.8850, 40.8010, 6, 1, 1978),
    _bld("B5", "C3", B, 114.8865, 40.8010, 6, 2, 1978),
]


def _hh(hid, bid, floor, size, elderly=False, floating=False):
    return {
        "household_id": hid,
        "building_id": bid,
        "unit": 1,
        "floor": floor,
        "room": f"{floor}01",
        "size": size,
        "elderly_alone": elderly,
        "floating": floating,
        "key_group": False,
        "name": f"住户{hid}",
        "phone": f"1380000{hid[1:].zfill(4)}",
    }


HOUSEHOLDS = [
    _hh("H1", "B1", 1, 1, elderly=True),
    _hh("H2", "B1", 2, 3),
    _hh("H3", "B1", 3, 2),
    _hh("H4", "B2", 1, 4),
    _hh("H5", "B2", 2, 2),
    _hh("H6", "B3", 1, 3),
    _hh("H7", "B3", 2, 2, floating=True),
    _hh("H8", "B3", 3, 1, floating=True),
    _hh("H9", "B3", 4, 2),
    _hh("H10", "B4", 1, 1, elderly=True),
    _hh("H11", "B5", 1, 2),
    _hh("H12", "B5", 2, 3),
]


def _collection(rows):
    feats = [
        {"type": "Feature", "properties": {k: v for k, v in r.items() if k != "geometry"}, "geometry": r["geometry"]}
        for r in rows
    ]
    return {"type": "FeatureCollection", "features": feats}


def write_tiny(directory) -> Path:
    """Write the tiny street's layer files into `directory` and return it."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for name, rows in (
        ("communities", COMMUNITIES),
        ("grids", GRIDS),
        ("compounds", COMPOUNDS),
        ("buildings", BUILDINGS),
    ):
        (d / f"{name}.geojson").write_text(json.dumps(_collection(rows), ensure_ascii=False), encoding="utf-8")
    with open(d / "households.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(HOUSEHOLDS[0]))
        w.writeheader()
        w.writerows(HOUSEHOLDS)
    return d


# Two hand-made grid plans over the same three boxes, for following a grid worker through adoptions. Each maps a grid
# as loaded (its box, name and worker: the worker stays with the box) to (its new code, the code it had before).
# Plan 1, over the grids as loaded, swaps A's codes: the west box (B1, B2) is ...002, the east (B3) ...001.
# Plan 2, over plan 1, renumbers the west box ...003 and keeps the east's ...001. B's grid keeps its code.
GA3 = A + "003"
PLAN_1 = {GA1: (GA2, GA1), GA2: (GA1, GA2), GB1: (GB1, GB1)}
PLAN_2 = {GA1: (GA3, GA2), GA2: (GA1, GA1), GB1: (GB1, GB1)}


def recoded_grids(plan: dict):
    """The tiny street's grids under a hand-made plan (PLAN_1, PLAN_2) as plan rows (with previous_code)."""
    import geopandas as gpd

    rows = []
    for g in GRIDS:
        code, previous = plan[g["grid_code"]]
        rows.append({**g, "grid_code": code, "previous_code": previous})
    return gpd.GeoDataFrame.from_features(_collection(rows), crs="EPSG:4326")
