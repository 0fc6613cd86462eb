"""Deterministic demo street (or district): communities, compounds, buildings, grids, households and incidents.

Everything comes from `numpy.random.default_rng(seed)`; the incident year ends at a fixed time, never the clock.
`generate(seed, preset)` returns WGS84 frames that validate against the layer schemas; `write` stores them.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.crs import WGS84
from twin.placement import grid_of_points

from . import footprints, layout, names, people
from . import grids as gridding
from . import incidents as incident_gen
from .coverage import exact_coverage
from .writer import write

log = logging.getLogger(__name__)

END = pd.Timestamp("2026-11-01 00:00", tz="Asia/Shanghai")  # the demo year ends here, whatever the clock says
DISTRICT_CODE = "130702"  # Qiaodong district, Zhangjiakou

PRESETS = {
    "street": dict(
        origin=(114.88, 40.77),
        width=2300.0,
        height=1700.0,
        streets=1,
        communities=5,
        compounds=30,
        old_share=0.6,
        per_grid=380.0,
        incidents=6000,
        years=1,
        shed_rate=0.0,
        street_names=("清河湾街道",),
    ),
    # 10 streets, 100 communities, every block that fits a compound (~1,160), ~51,000 buildings (sheds included)
    "district": dict(
        origin=(114.93, 40.80),
        width=10600.0,
        height=8200.0,
        streets=10,
        communities=100,
        compounds=3000,
        old_share=0.6,
        per_grid=340.0,
        incidents=100_000,
        years=1,
        shed_rate=0.6,
        street_names=(
            "清河湾街道",
            "东风街道",
            "长青街道",
            "五一路街道",
            "新华街道",
            "锦泉街道",
            "南站街道",
            "胜利街道",
            "惠泉街道",
            "明德街道",
        ),
    ),
}
STATE_P_OLD = {"unmanaged": 0.42, "fallback": 0.33, "welfare": 0.10, "self": 0.10, "company": 0.05}
STATE_P_NEW = {"company": 0.82, "self": 0.07, "welfare": 0.04, "fallback": 0.05, "unmanaged": 0.02}


def generate(seed: int = 7, preset: str = "street", progress: bool = False, **overrides) -> dict:
    """Frames for every layer (WGS84 GeoDataFrames; households without geometry), from `seed` alone."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    p = {**PRESETS[preset], **overrides}
    unknown = set(overrides) - set(PRESETS["street"])
    if unknown:
        raise ValueError(f"unknown demo parameter(s): {', '.join(sorted(unknown))}")
    rng = np.random.default_rng(seed)
    steps = _progress(progress)
    area = layout.outline(rng, p["width"], p["height"])
    comm = _communities(rng, area, p)
    steps("communities")
    comp_geoms, comp = _compounds(rng, comm, p)
    steps("compounds")
    bld_geoms, bld, old_b = _buildings(rng, comp_geoms, comp, p)
    comp = comp.assign(
        households=bld.groupby("cpos")["households"].sum().reindex(range(len(comp)), fill_value=0).to_numpy()
    )
    steps("buildings")
    hh = people.households(rng, bld, old_b)
    steps("households")
    grid_geoms, grid = _grids(rng, comm, bld_geoms, bld, p)
    steps("grids")
    inc = incident_gen.generate(
        rng,
        int(p["incidents"]) * int(p["years"]),
        END,
        gpd.GeoDataFrame(comp, geometry=comp_geoms),
        gpd.GeoDataFrame(bld, geometry=bld_geoms),
        hh,
        years=int(p["years"]),
    )
    steps("incidents")
    o = p["origin"]
    inc_pts = layout.to_lonlat(shapely.points(inc.pop("x").to_numpy(), inc.pop("y").to_numpy()), o)
    grid_ll = exact_coverage(layout.to_lonlat(grid_geoms, o, decimals=None))
    comm_ll = np.array(
        [shapely.coverage_union_all(grid_ll[(grid["community_id"] == c).to_numpy()]) for c in comm["community_id"]],
        dtype=object,
    )
    frames = {
        "communities": _frame(comm.drop(columns="geometry"), comm_ll, None),
        "compounds": _frame(comp.drop(columns=["cpos", "old", "households"], errors="ignore"), comp_geoms, o),
        "buildings": _frame(bld.drop(columns=["cpos"]), bld_geoms, o),
        "grids": _frame(grid, grid_ll, None),
        "households": hh,
        "incidents": gpd.GeoDataFrame(inc, geometry=inc_pts, crs=WGS84),
    }
    inc = frames["incidents"]
    inc["grid_code"] = grid_of_points(inc_pts, inc["community_id"].to_numpy(), frames["grids"])
    log.info("demo %s seed %d: %s", preset, seed, ", ".join(f"{len(f)} {k}" for k, f in frames.items()))
    return frames


def _progress(enabled: bool):
    if not enabled:
        return lambda name: None
    from tqdm import tqdm

    bar = tqdm(total=6, desc="demo", unit="layer")

    def step(name):
        bar.set_postfix_str(name)
        bar.update(1)
        if bar.n == bar.total:
            bar.close()

    return step


def _frame(df: pd.DataFrame, geoms, origin) -> gpd.GeoDataFrame:
    """A WGS84 frame; `geoms` are metric (mapped from `origin`) or already WGS84 when origin is None."""
    geoms = np.asarray(geoms) if origin is None else layout.to_lonlat(np.asarray(geoms), origin)
    geoms = shapely.orient_polygons(geoms)
    return gpd.GeoDataFrame(df.reset_index(drop=True), geometry=geoms, crs=WGS84)


def _communities(rng, area, p) -> pd.DataFrame:
    """Streets tile the area, communities tile each street; codes 6 + 3 + 3 digits numbered W→E, N→S."""
    streets = layout.tessellate(rng, area, p["streets"])
    per = np.diff(np.linspace(0, p["communities"], len(streets) + 1).round().astype(int))
    rows, cnames = [], names.community_names(rng, p["communities"])
    for s, (street, k) in enumerate(zip(streets, per), start=1):
        for c, geom in enumerate(layout.tessellate(rng, street, int(k)), start=1):
            rows.append(
                {
                    "community_id": f"{DISTRICT_CODE}{s:03d}{c:03d}",
                    "name": cnames[len(rows)],
                    "street_name": p["street_names"][(s - 1) % len(p["street_names"])],
                    "geometry": geom,
                }
            )
    return pd.DataFrame(rows)


def _compounds(rng, comm: pd.DataFrame, p):
    geoms = comm["geometry"].tolist()
    blocks = layout.road_blocks(rng, shapely.union_all(geoms))
    quota = np.diff(np.linspace(0, p["compounds"], len(geoms) + 1).round().astype(int))
    plots = layout.compound_plots(rng, geoms, blocks, quota.tolist())
    n = len(plots)
    old = rng.random(n) < p["old_share"]
    year = np.where(old, rng.integers(1972, 2000, n), rng.integers(2000, 2022, n))
    state = _states(rng, old)
    used: dict = {}  # names are unique inside a community (a district repeats popular estate names)
    rows = []
    for i, (c, _) in enumerate(plots):
        st = state[i]
        company = {
            "company": names.COMPANIES[rng.integers(len(names.COMPANIES))],
            "fallback": names.FALLBACK_COMPANY,
        }.get(st)
        if st == "welfare":
            company = f"{comm['name'].iloc[c]}公益物业服务站"
        fee = {
            "company": round(float(rng.uniform(60, 180)), 1),  # 0.8–2 yuan/m² on 75–90 m² flats
            "fallback": float(rng.choice([10, 20, 30])),
            "welfare": round(float(rng.uniform(150, 200)) / 12, 1),
            "self": 10.0,
            "unmanaged": None,
        }[st]
        score = (
            round(float(np.clip(rng.normal(84 if st == "company" else 80, 7), 45, 99)), 1)
            if st in ("company", "fallback")
            else None
        )
        rows.append(
            {
                "compound_id": f"XQ{i + 1:05d}",
                "name": names.compound_name(rng, bool(old[i]), used.setdefault(c, set())),
                "community_id": comm["community_id"].iloc[c],
                "state": st,
                "build_year": int(year[i]),
                "has_owners_committee": bool(st == "self" or rng.random() < {"company": 0.7}.get(st, 0.15)),
                "has_party_branch": bool(rng.random() < (0.85 if st == "fallback" else 0.45)),
                "property_company": company,
                "assessment_score": score,
                "fee_yuan_month": fee,
                "cpos": i,
                "old": bool(old[i]),
            }
        )
    return np.array([g for _, g in plots], dtype=object), pd.DataFrame(rows)


def _states(rng, old: np.ndarray) -> np.ndarray:
    """Property states drawn by age; every one of the five appears at least once."""
    ko, po = list(STATE_P_OLD), np.array(list(STATE_P_OLD.values()))
    kn, pn = list(STATE_P_NEW), np.array(list(STATE_P_NEW.values()))
    st = np.where(
        old,
        np.array(ko, dtype=object)[rng.choice(5, len(old), p=po)],
        np.array(kn, dtype=object)[rng.choice(5, len(old), p=pn)],
    )
    for s in ("welfare", "self", "fallback", "unmanaged", "company"):
        if s not in set(st) and len(st) >= 5:
            counts = pd.Series(st).value_counts()
            donor = np.flatnonzero(st == counts.index[0])
            st[donor[rng.integers(len(donor))]] = s
    return st


def _buildings(rng, comp_geoms, comp: pd.DataFrame, p):
    """Footprints of every compound, numbered compound by compound, north to south."""
    olds = comp["old"].to_numpy()
    fps = [footprints.layout(rng, plot, bool(olds[i]), p["shed_rate"]) for i, plot in enumerate(comp_geoms)]
    counts = np.array([len(fp.boxes) for fp in fps])
    cpos = np.repeat(np.arange(len(fps)), counts)
    n = int(counts.sum())
    seq = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    floors = np.concatenate([fp.floors for fp in fps])
    bld = pd.DataFrame(
        {
            "building_id": [f"LD{k:06d}" for k in range(1, n + 1)],
            "name": [f"{k}号楼" for k in seq],
            "compound_id": comp["compound_id"].to_numpy()[cpos],
            "community_id": comp["community_id"].to_numpy()[cpos],
            "floors": floors,
            "height_m": np.round(floors * rng.uniform(2.9, 3.1, n), 1),
            "units": np.concatenate([fp.units for fp in fps]),
            "households": np.concatenate([footprints.households_of(fp) for fp in fps]),
            "use": np.concatenate([fp.use for fp in fps]),
            "build_year": comp["build_year"].to_numpy()[cpos],
            "cpos": cpos,
        }
    )
    geoms = np.concatenate([fp.boxes for fp in fps])
    return geoms, bld, olds[cpos]


def _grids(rng, comm: pd.DataFrame, bld_geoms, bld: pd.DataFrame, p):
    pts = shapely.centroid(bld_geoms)
    bx, by = shapely.get_x(pts), shapely.get_y(pts)
    rows, geoms = [], []
    for cid, cname, cgeom in zip(comm["community_id"], comm["name"], comm["geometry"]):
        sel = (bld["community_id"] == cid).to_numpy()
        tiles = gridding.tile(cgeom, bx[sel], by[sel], bld["households"].to_numpy()[sel], p["per_grid"])
        workers = names.person_names(rng, len(tiles))
        tels = names.phones(rng, len(tiles))
        for k, g in enumerate(tiles, start=1):
            rows.append(
                {
                    "grid_code": f"{cid}{k:03d}",
                    "community_id": cid,
                    "name": f"{cname}第{names.chinese_numeral(k)}网格",
                    "worker": workers[k - 1],
                    "worker_phone": tels[k - 1],
                    "type": None,
                }
            )
            geoms.append(g)
    grid = pd.DataFrame(rows)
    grid["type"] = _grid_types(rng, len(grid))
    return np.array(geoms, dtype=object), grid


def _grid_types(rng, n: int) -> np.ndarray:
    """Xilin's five functional types: mostly community building and renewal; each present when n ≥ 5."""
    types = np.array(["community", "renewal", "environment", "dispute", "enterprise"], dtype=object)
    out = types[rng.choice(5, n, p=[0.38, 0.27, 0.17, 0.11, 0.07])]
    if n >= 5:
        out[rng.permutation(n)[:5]] = types
    return out


__all__ = ["generate", "write", "PRESETS", "END"]
