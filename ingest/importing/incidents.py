"""Incidents (work orders) from CSV: placed by coordinates, or at their building; grid and community filled in."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin import settings
from twin.crs import WGS84
from twin.placement import containing, grid_of_points

from .records import read_records, unknown_buildings

log = logging.getLogger(__name__)


def prepare(path, target, opts, report, steps) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The incidents of `path` as points with community, compound and grid; (frame, source rows)."""
    kind = target.kinds["incidents"]
    rec = read_records(path, opts, report, steps, required=required_columns(kind))
    steps("placing")
    df, points = rec.df.copy(), rec.points.copy()
    local_times(df, [f.name for f in kind.schema.fields if f.dtype == "datetime"], opts.timezone, report)
    problems: dict[int, tuple[str, str]] = {}
    at_building = pd.isna(points) & pd.notna(rec.building_ids)
    if pd.notna(rec.building_ids).any():
        buildings = target.require("buildings")
        problems.update(unknown_buildings(rec.building_ids, buildings, target.where("buildings")))
    if at_building.any():
        pos = pd.Index(buildings["building_id"]).get_indexer(pd.Index(rec.building_ids[at_building]))
        spots = np.full(len(pos), None, dtype=object)
        spots[pos >= 0] = shapely.point_on_surface(buildings.geometry.values[pos[pos >= 0]])
        points[at_building] = spots
        report.defaults["placed at their building"] = int((pos >= 0).sum())
    for i in np.flatnonzero(pd.isna(points) & pd.isna(rec.building_ids)):
        problems[int(i)] = ("neither coordinates nor a building_id", "building_id")
    communities = target.require("communities")
    community = containing(points, communities, "community_id")
    for i in np.flatnonzero(pd.notna(points) & pd.isna(community)):
        problems.setdefault(
            int(i), (f"lies outside every community of {target.where('communities')} (wrong --crs?)", "lon")
        )
    ids = df["incident_id"].to_numpy(dtype=object) if "incident_id" in df.columns else None
    keep = report.settle(problems, rec.rows, ids, opts.skip_bad)
    df, points, community = df[keep].reset_index(drop=True), points[keep], community[keep]
    fill(df, "community_id", community, report)
    fill(df, "compound_id", containing(points, target.layer("compounds"), "compound_id"), report)
    grids = target.layer("grids")
    if grids is not None and len(grids) and len(df):
        fill(df, "grid_code", grid_of_points(points, df["community_id"].to_numpy(dtype=object), grids), report)
    return gpd.GeoDataFrame(df, geometry=list(points), crs=WGS84), rec.rows[keep]


def fill(df: pd.DataFrame, col: str, placed: np.ndarray, report) -> None:
    """Set blank values of `col` to the placed ones, counting how many were filled."""
    own = df[col].to_numpy(dtype=object) if col in df.columns else np.full(len(df), None, dtype=object)
    blank = pd.isna(own)
    filled = blank & pd.notna(placed)
    df[col] = np.where(blank, placed, own)
    if filled.any():
        report.defaults[f"{col} filled from the place"] = int(filled.sum())


def required_columns(kind) -> list[str]:
    """Columns a CSV must have for `kind` (building_id may come from coordinates, places from placement)."""
    return [f.name for f in kind.schema.fields if f.required and f.name != "building_id"]


_OFFSET = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"  # a time followed by Z or an offset


def local_times(df: pd.DataFrame, columns: list[str], tz: str | None, report) -> None:
    """Times without an offset ("2025-11-01 09:30:00" from a spreadsheet) read in the office's time zone `tz`
    (TIMEZONE) and rewritten with their offset; times with an offset or Z are left as they are. Counted."""
    tz = tz or settings.load()["TIMEZONE"]
    naive_rows = np.zeros(len(df), dtype=bool)
    for col in (c for c in columns if c in df.columns):
        text = df[col].astype("string").str.strip()
        naive = (text.notna() & (text != "") & ~text.str.contains(_OFFSET, regex=True)).to_numpy(dtype=bool)
        if not naive.any():
            continue
        parsed = pd.to_datetime(text[naive], errors="coerce", format="mixed")
        local = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        ok = local.notna().to_numpy()
        values = np.array(df[col].astype(object).to_numpy(), dtype=object)
        idx = np.flatnonzero(naive)[ok]
        values[idx] = [t.isoformat() for t in local[ok]]
        df[col] = values  # unreadable ones stay as written: validation names their row
        naive_rows[idx] = True
    if naive_rows.any():
        report.defaults[f"times without an offset read in {tz} (the TIMEZONE setting)"] = int(naive_rows.sum())
