"""A brute-force reference of the area query with geopandas over whole frames (no indexes), for tests and bench.

Slow on purpose: it joins every building, household and compound against the area with geopandas sjoin and
overlay, so that the indexed answer of twin.area can be checked against an independent computation.
"""
from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from .area import PEOPLE

log = logging.getLogger(__name__)


def brute_force(twin, area, rule: str = "centroid") -> dict:
    """Buildings, floor area, people, property-state mix and compound shares in `area`, by whole-frame joins."""
    b = twin.frame("buildings")
    metric_crs = twin.crs.crs
    zone = gpd.GeoDataFrame({"zone": [1]}, geometry=[area.geom], crs=b.crs)
    zone_m = gpd.GeoDataFrame({"zone": [1]}, geometry=[area.metric], crs=metric_crs)
    bm = b[["building_id", "floors", "compound_id"]].copy()
    bm = gpd.GeoDataFrame(bm, geometry=b.geometry.to_crs(metric_crs).values, crs=metric_crs)
    bm["footprint"] = bm.geometry.area
    if rule == "centroid":
        pts = gpd.GeoDataFrame(bm.drop(columns="geometry"), geometry=b.geometry.representative_point().values,
                               crs=b.crs)
        hit = gpd.sjoin(pts, zone, predicate="intersects", how="inner")
        weights = pd.Series(1.0, index=hit["building_id"].to_numpy())
    else:
        cut = gpd.overlay(bm, zone_m, how="intersection", keep_geom_type=True)
        cut["part"] = cut.geometry.area
        part = cut.groupby("building_id")["part"].sum()
        fp = bm.set_index("building_id")["footprint"].reindex(part.index)
        weights = (part / fp).clip(0, 1)
        weights = weights[weights > 0]
    sel = bm.set_index("building_id").loc[weights.index]
    w = weights.to_numpy()
    people = _people(twin, weights)
    states = _states(twin, sel, w)
    return {
        "building_ids": sorted(weights.index),
        "buildings": float(w.sum()),
        "floor_area_m2": float((sel["footprint"] * sel["floors"].astype(float) * w).sum()),
        "people": people,
        "property_states": states,
        "compounds": _compound_shares(twin, zone_m),
    }


def _people(twin, weights: pd.Series) -> dict:
    h = twin.frame("households")
    hw = h["building_id"].map(weights).fillna(0.0).to_numpy()
    out = {"households": float(hw.sum()), "population": float((h["size"].astype(float) * hw).sum())}
    for flag in PEOPLE[2:]:
        col = h[flag].fillna(False).astype(bool) if flag in h.columns else pd.Series(False, index=h.index)
        out[flag] = float((col.to_numpy(dtype=float) * hw).sum())
    return out


def _states(twin, sel: pd.DataFrame, w: np.ndarray) -> dict:
    c = twin.frame("compounds").set_index("compound_id")["state"]
    state = sel["compound_id"].map(c).fillna("none")
    return {k: float(v) for k, v in pd.Series(w, index=state.to_numpy()).groupby(level=0).sum().items()}


def _compound_shares(twin, zone_m: gpd.GeoDataFrame) -> dict:
    c = twin.frame("compounds")
    cm = gpd.GeoDataFrame(c[["compound_id"]], geometry=c.geometry.to_crs(zone_m.crs).values, crs=zone_m.crs)
    cm["whole"] = cm.geometry.area
    cut = gpd.overlay(cm, zone_m, how="intersection", keep_geom_type=True)
    cut["part"] = cut.geometry.area
    share = (cut.groupby("compound_id")["part"].sum() / cm.set_index("compound_id")["whole"]).dropna()
    return {k: float(min(v, 1.0)) for k, v in share.items() if v > 0}
