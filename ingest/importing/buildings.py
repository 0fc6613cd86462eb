"""Buildings from GeoJSON, GeoPackage or Shapefile (e.g. an OpenStreetMap extract) to the buildings layer."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.crs import WGS84, MetricCRS
from twin.placement import containing

from . import osm
from .geometry import check_polygons, on_grid
from .sources import check_lonlat, choose_crs, read_vector

log = logging.getLogger(__name__)


def prepare(path, target, opts, report, steps) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The buildings of `path` in the schema's columns, placed in the target's communities; (frame, source rows)."""
    src = read_vector(path, opts.layer)
    rows = np.arange(1, len(src) + 1)
    report.rows_read = len(src)
    ids, generated = osm.ids(src, rows)
    if generated:
        report.defaults["building_id made from the row number"] = generated
    src, rows, ids, source_ids = explode(src, rows, ids, report)
    steps.rows(len(src))
    steps("converting coordinates")
    crs = choose_crs(opts.crs, src.crs, path)
    report.crs = crs.label
    if opts.crs and src.crs is not None and not (crs.datum == "wgs84" and src.crs.equals(crs.crs)):
        report.note(f"coordinates read as {crs.label} (--crs), not as the file's declared {src.crs.name}")
    geoms = crs.to_wgs84_geoms(src.geometry.values)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    check_lonlat(coords[:, 0], coords[:, 1], crs, path, rows[owner])
    steps("checking geometries")
    geoms, repaired, problems, split = check_polygons(on_grid(geoms), show=opts.show)
    problems = {i: (reason, "geometry") for i, reason in problems.items()}
    if len(split):
        report.defaults["repaired footprints that fell apart: the largest part kept (stays a Polygon)"] = len(split)

    steps("placing")
    log.info("placing %d buildings in %s", len(src), target.where("communities"))
    usable = np.array([i not in problems for i in range(len(src))], dtype=bool)
    reps = np.full(len(src), None, dtype=object)
    reps[usable] = shapely.point_on_surface(geoms[usable])
    community = given(src, "community_id", containing(reps, target.require("communities"), "community_id"))
    compounds = target.layer("compounds")
    compound = given(src, "compound_id", containing(reps, compounds, "compound_id"))
    for i in np.flatnonzero(usable & pd.isna(community)):
        problems[int(i)] = (f"lies outside every community of {target.where('communities')} (wrong --crs?)", "geometry")
    keep = report.settle(problems, rows, ids, opts.skip_bad)
    report.repaired = [str(ids[i]) for i in repaired if keep[i]]
    src, geoms, ids, community, compound, source_ids = (
        src[keep].reset_index(drop=True),
        geoms[keep],
        ids[keep],
        community[keep],
        compound[keep],
        source_ids[keep] if source_ids is not None else None,
    )
    frame = attributes(src, geoms, compound, compounds, report)
    frame.insert(0, "building_id", ids)
    frame.insert(2, "compound_id", compound)
    frame.insert(3, "community_id", community)
    if source_ids is not None:
        frame["source_id"] = source_ids
    report.defaults = +report.defaults  # drop zero counts
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84), rows[keep]


def attributes(src, geoms, compound, compounds, report) -> pd.DataFrame:
    """Name, floors, height, units, households, use and build year of each building, defaults counted."""
    floors, height, how = osm.floors_and_height(src)
    use, unknown_use, ancillary = osm.uses(src)
    report.defaults.update(how)
    report.defaults["use defaulted to residential"] = unknown_use
    for tag, n in sorted(ancillary.items()):
        report.defaults[f"building={tag} outside the mapping: use ancillary, no households"] = n
    year = osm.build_years(src)
    own_year = ~np.isnan(year)
    report.defaults["build_year as the file gives it"] = int(own_year.sum())
    report.defaults["build_year before 1900 kept as the file gives it"] = int(np.sum(year < 1900))
    if compounds is not None and len(compounds):
        of_compound = compounds.set_index("compound_id")["build_year"]
        year = np.where(own_year, year, pd.Series(compound).map(of_compound).to_numpy(dtype=float))
    report.defaults["build_year taken from the compound"] = int(np.sum(~own_year & ~np.isnan(year)))
    report.defaults[f"build_year defaulted to {osm.DEFAULT_BUILD_YEAR}"] = int(np.isnan(year).sum())
    year = np.where(np.isnan(year), osm.DEFAULT_BUILD_YEAR, year)
    units, households = estimates(src, geoms, floors, use, report)
    name_col = osm.column(src, "name", "addr:housenumber")
    return pd.DataFrame(
        {
            "name": name_col.to_numpy(dtype=object) if name_col is not None else None,
            "floors": floors,
            "height_m": np.round(height, 1),
            "units": units,
            "households": households,
            "use": use,
            "build_year": year.astype(int),
        }
    )


def explode(src: gpd.GeoDataFrame, rows: np.ndarray, ids: np.ndarray, report):
    """One row per footprint: multi-part features split into their parts, each building_id the feature's id + "-k".

    Returns (frame, source rows, ids, source ids or None when nothing was split); the report says how many.
    """
    geoms = src.geometry.values
    counts = shapely.get_num_geometries(geoms)
    multi = (shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOLYGON.value) & (counts > 1)
    if not multi.any():
        return src, rows, ids, None
    order, parts, new_ids = [], [], []
    for i in range(len(src)):
        pieces = shapely.get_parts(geoms[i]) if multi[i] else [geoms[i]]
        order.extend([i] * len(pieces))
        parts.extend(pieces)
        new_ids.extend([f"{ids[i]}-{k}" for k in range(1, len(pieces) + 1)] if multi[i] else [ids[i]])
    order = np.asarray(order)
    report.note(
        f"{int(multi.sum())} multi-part feature(s) split into {int(counts[multi].sum())} buildings, one per footprint: "
        "building_id is the feature's id with -1, -2, ... and source_id keeps the feature's id"
    )
    out = gpd.GeoDataFrame(
        src.drop(columns=src.geometry.name).iloc[order].reset_index(drop=True), geometry=parts, crs=src.crs
    )
    return out, rows[order], np.asarray(new_ids, dtype=object), ids[order].astype(object)


def given(src: pd.DataFrame, col: str, placed: np.ndarray) -> np.ndarray:
    """The file's own `col` where it has a value, else the placed value."""
    if col not in src.columns:
        return placed
    own = src[col].to_numpy(dtype=object)
    blank = pd.isna(own) | np.array([isinstance(v, str) and not v.strip() for v in own], dtype=bool)
    return np.where(blank, placed, np.array([str(v).strip() if isinstance(v, str) else v for v in own], dtype=object))


def estimates(src, geoms, floors, use, report) -> tuple[np.ndarray, np.ndarray]:
    """Units and households: the file's own columns where given, else estimated from the footprint (counted)."""
    n = len(src)
    units, households = np.ones(n, dtype=int), np.zeros(n, dtype=int)
    if n:
        centre = shapely.centroid(geoms)
        metric = MetricCRS.for_lonlat(float(np.mean(shapely.get_x(centre))), float(np.mean(shapely.get_y(centre))))
        units, households = osm.units_and_households(metric.to_metric(geoms), floors, use)
    out = []
    for col, est in (("units", units), ("households", households)):
        own = (
            pd.to_numeric(src[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if col in src.columns
            else np.full(n, np.nan)
        )
        guessed = np.isnan(own)
        if guessed.any():
            report.defaults[f"{col} estimated from the footprint and floors"] = int(guessed.sum())
        out.append(np.round(np.where(np.isnan(own), est, own)).astype(int))
    return out[0], out[1]
