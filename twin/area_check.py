"""A brute-force reference of the area query with geopandas over whole frames (no index), for tests and bench.

`prepare(twin)` projects the frames once (as loading a twin does); `brute_force(...)` then tests every building
and compound against the area with geopandas' vectorised predicates and intersections — no spatial index, no
precomputed per-building sums — and sums households with pandas, so that the indexed answer of twin.area can be
checked against an independent computation and timed against it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .area import PEOPLE

log = logging.getLogger(__name__)


@dataclass
class Frames:
    """The twin's frames as the brute force reads them: buildings in the metric CRS with their footprint area
    and property state, their representative points (WGS84), households, and compounds in the metric CRS."""

    buildings: gpd.GeoDataFrame
    points: gpd.GeoSeries
    households: pd.DataFrame
    compounds: gpd.GeoDataFrame


def prepare(twin) -> Frames:
    """Project and join the frames once (what loading costs, not what a query costs)."""
    metric_crs = twin.crs.crs
    b = twin.frame("buildings")
    bm = gpd.GeoDataFrame(
        b[["building_id", "compound_id"]].copy(), geometry=b.geometry.to_crs(metric_crs).values, crs=metric_crs
    )
    bm["floors"] = pd.to_numeric(b["floors"], errors="coerce").fillna(1).to_numpy(dtype=float)
    bm["footprint"] = bm.geometry.area
    c = twin.frame("compounds")
    bm["state"] = bm["compound_id"].map(c.set_index("compound_id")["state"]).fillna("none")
    cm = gpd.GeoDataFrame(c[["compound_id"]].copy(), geometry=c.geometry.to_crs(metric_crs).values, crs=metric_crs)
    cm["whole"] = cm.geometry.area
    h = pd.DataFrame(twin.frame("households")).drop(columns="geometry", errors="ignore")
    hh = pd.DataFrame({"building_id": h["building_id"], "size": pd.to_numeric(h["size"], errors="coerce").fillna(0)})
    for flag in PEOPLE[2:]:
        hh[flag] = h[flag].fillna(False).astype(bool) if flag in h.columns else False
    return Frames(bm, b.geometry.representative_point(), hh, cm)


def brute_force(twin, area, rule: str = "centroid", frames: Frames | None = None) -> dict:
    """Buildings, floor area, people, property-state mix and compound shares in `area`, testing every row."""
    f = frames or prepare(twin)
    bm = f.buildings
    if rule == "centroid":
        hit = f.points.intersects(area.geom).to_numpy()
        weights = pd.Series(1.0, index=bm["building_id"].to_numpy()[hit])
    else:
        part = bm.geometry.intersection(area.metric).area.to_numpy()
        share = np.clip(
            np.divide(part, bm["footprint"].to_numpy(), out=np.zeros_like(part), where=bm["footprint"].to_numpy() > 0),
            0,
            1,
        )
        keep = share > 0
        weights = pd.Series(share[keep], index=bm["building_id"].to_numpy()[keep])
    sel = bm.set_index("building_id").loc[weights.index]
    w = weights.to_numpy()
    states = pd.Series(w, index=sel["state"].to_numpy()).groupby(level=0).sum()
    return {
        "building_ids": sorted(weights.index),
        "buildings": float(w.sum()),
        "floor_area_m2": float((sel["footprint"] * sel["floors"] * w).sum()),
        "people": _people(f.households, weights),
        "property_states": {k: float(v) for k, v in states.items()},
        "compounds": _compound_shares(f.compounds, area),
    }


def _people(h: pd.DataFrame, weights: pd.Series) -> dict:
    hw = h["building_id"].map(weights).fillna(0.0).to_numpy()
    out = {"households": float(hw.sum()), "population": float((h["size"].to_numpy(dtype=float) * hw).sum())}
    for flag in PEOPLE[2:]:
        out[flag] = float((h[flag].to_numpy(dtype=float) * hw).sum())
    return out


def _compound_shares(cm: gpd.GeoDataFrame, area) -> dict:
    part = cm.geometry.intersection(area.metric).area.to_numpy()
    whole = cm["whole"].to_numpy()
    share = np.divide(part, whole, out=np.zeros_like(part), where=whole > 0)
    return {k: float(min(v, 1.0)) for k, v in zip(cm["compound_id"], share) if v > 0}
