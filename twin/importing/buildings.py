"""Buildings from GeoJSON, GeoPackage or Shapefile (e.g. an OpenStreetMap extract) to the buildings layer."""
from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.crs import WGS84, MetricCRS

from . import osm
from .geometry import check_polygons, on_grid
from .placement import containing
from .sources import check_lonlat, choose_crs, read_vector

log = logging.getLogger(__name__)


def prepare(path, target, opts, report, steps) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The buildings of `path` in the schema's columns, placed in the target's communities; (frame, source rows)."""
    src = read_vector(path, opts.layer)
    rows = np.arange(1, len(src) + 1)
    report.rows_read = len(src)
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
    geoms, repaired, problems = check_polygons(on_grid(geoms), show=opts.show)
    problems = {i: (reason, "geometry") for i, reason in problems.items()}
    ids, generated = osm.ids(src, rows)
    if generated:
        report.defaults["building_id made from the row number"] = generated
    report.repaired = [str(ids[i]) for i in repaired]

    steps("placing")
    log.info("placing %d buildings in %s", len(src), target.where("communities"))
    usable = np.array([i not in problems for i in range(len(src))], dtype=bool)
    reps = np.full(len(src), None, dtype=object)
    reps[usable] = shapely.point_on_surface(geoms[usable])
    community = given(src, "community_id", containing(reps, target.require("communities"), "community_id"))
    compounds = target.layer("compounds")
    compound = given(src, "compound_id", containing(reps, compounds, "compound_id"))
    for i in np.flatnonzero(usable & pd.isna(community)):
        problems[int(i)] = (f"lies outside every community of {target.where('communities')} (wrong --crs?)",
                            "geometry")
    keep = report.settle(problems, rows, ids, opts.skip_bad)

    floors, height, how = osm.floors_and_height(src)
    use, unknown_use = osm.uses(src)
    report.defaults.update(how)
    if unknown_use:
        report.defaults["use defaulted to residential"] = unknown_use
    year = osm.build_years(src)
    own_year = ~np.isnan(year)
    if compounds is not None and len(compounds):
        of_compound = compounds.set_index("compound_id")["build_year"]
        year = np.where(own_year, year, pd.Series(compound).map(of_compound).to_numpy(dtype=float))
    report.defaults["build_year taken from the compound"] = int(np.sum(~own_year & ~np.isnan(year) & keep))
    no_year = np.isnan(year) & keep
    if no_year.any():
        report.defaults[f"build_year defaulted to {osm.DEFAULT_BUILD_YEAR}"] = int(no_year.sum())
    year = np.where(np.isnan(year), osm.DEFAULT_BUILD_YEAR, year)
    units, households = estimates(src, geoms, floors, use, keep, report)
    name_col = osm.column(src, "name", "addr:housenumber")
    frame = pd.DataFrame({
        "building_id": ids, "name": name_col.to_numpy(dtype=object) if name_col is not None else None,
        "compound_id": compound, "community_id": community, "floors": floors, "height_m": np.round(height, 1),
        "units": units, "households": households, "use": use, "build_year": year.astype(int)})
    report.defaults = +report.defaults  # drop zero counts
    return gpd.GeoDataFrame(frame[keep], geometry=geoms[keep], crs=WGS84), rows[keep]


def given(src: pd.DataFrame, col: str, placed: np.ndarray) -> np.ndarray:
    """The file's own `col` where it has a value, else the placed value."""
    if col not in src.columns:
        return placed
    own = src[col].to_numpy(dtype=object)
    blank = pd.isna(own) | np.array([isinstance(v, str) and not v.strip() for v in own], dtype=bool)
    return np.where(blank, placed, np.array([str(v).strip() if isinstance(v, str) else v for v in own],
                                             dtype=object))


def estimates(src, geoms, floors, use, keep, report) -> tuple[np.ndarray, np.ndarray]:
    """Units and households: the file's own columns where given, else estimated from the footprint (counted)."""
    n = len(src)
    units, households = np.ones(n, dtype=int), np.zeros(n, dtype=int)
    if keep.any():
        lon, lat = shapely.get_x(shapely.centroid(geoms[keep])), shapely.get_y(shapely.centroid(geoms[keep]))
        metric = MetricCRS.for_lonlat(float(np.mean(lon)), float(np.mean(lat))).to_metric(geoms[keep])
        units[keep], households[keep] = osm.units_and_households(metric, floors[keep], use[keep])
    out = []
    for col, est in (("units", units), ("households", households)):
        own = osm.number(osm.column(src, col), n).to_numpy() if col in src.columns else np.full(n, np.nan)
        if col == "households":
            own = np.where(pd.to_numeric(src.get(col), errors="coerce") == 0, 0, own) if col in src.columns else own
        guessed = np.isnan(own) & keep
        if guessed.any():
            report.defaults[f"{col} estimated from the footprint and floors"] = int(guessed.sum())
        out.append(np.where(np.isnan(own), est, own).astype(int))
    return out[0], out[1]
