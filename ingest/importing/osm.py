"""OpenStreetMap-style building tags to the buildings schema: levels and height to floors, building=* to use."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import shapely

from twin.vocab import BUILDING_USES

log = logging.getLogger(__name__)

FLOOR_HEIGHT_M = 3.0  # storey height used to turn heights into floors and back
DEFAULT_FLOORS = 6  # the typical walk-up of an old compound; used (and reported) when a building has no levels/height
DEFAULT_BUILD_YEAR = 2000  # when neither the file nor the building's compound says
UNIT_WIDTH_M = 15.0  # a stairwell unit of a slab block: two flats per landing side by side
FLATS_PER_LANDING = 2
ID_COLUMNS = ("building_id", "@id", "osm_id", "id", "osm_way_id", "fid")

USE_OF_TAG = {
    **dict.fromkeys(
        (
            "residential",
            "apartments",
            "house",
            "detached",
            "semidetached_house",
            "terrace",
            "dormitory",
            "bungalow",
            "flats",
            "residence",
        ),
        "residential",
    ),
    **dict.fromkeys(
        ("commercial", "retail", "office", "supermarket", "hotel", "kiosk", "warehouse", "industrial", "shop", "mall"),
        "commercial",
    ),
    **dict.fromkeys(
        (
            "public",
            "civic",
            "government",
            "school",
            "university",
            "college",
            "kindergarten",
            "hospital",
            "clinic",
            "train_station",
            "transportation",
            "church",
            "temple",
            "mosque",
            "fire_station",
            "sports_hall",
            "community_centre",
            "library",
        ),
        "public",
    ),
    "mixed": "mixed",
    "mixed_use": "mixed",
    **dict.fromkeys(("hut", "cabin", "farm", "static_caravan", "houseboat"), "residential"),
}
GENERIC_TAGS = ("yes", "building", "")  # building=yes says nothing of the use: residential by default (reported)


def number(s: pd.Series | None, n: int) -> pd.Series:
    """Leading number of each value ("15", "15 m", "5;6" -> 15, 15, 5), feet converted to metres; NaN otherwise."""
    if s is None:
        return pd.Series(np.full(n, np.nan))
    text = s.astype("string").str.strip().str.lower()
    value = pd.to_numeric(text.str.extract(r"^(-?\d+(?:\.\d+)?)", expand=False), errors="coerce")
    feet = text.str.contains(r"ft|'", regex=True, na=False).to_numpy()
    value = np.array(value.astype("float64").to_numpy(), dtype=float)  # writable
    value[feet] *= 0.3048
    value[value <= 0] = np.nan
    return pd.Series(value, index=s.index)


def column(df: pd.DataFrame, *names: str) -> pd.Series | None:
    """The first of `names` present in `df` (None when none is)."""
    for n in names:
        if n in df.columns:
            return df[n]
    return None


def ids(df: pd.DataFrame, rows: np.ndarray, prefix: str = "BLD-") -> tuple[np.ndarray, int]:
    """Building ids from building_id/@id/osm_id/id; blanks get `prefix` + source row. Returns (ids, generated)."""
    src = column(df, *ID_COLUMNS)
    out = np.array([f"{prefix}{r:06d}" for r in rows], dtype=object)
    if src is None:
        return out, len(out)
    vals = src.to_numpy(dtype=object)
    have = ~pd.isna(vals)
    text = [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip() for v in vals[have]]
    out[have] = text
    blank = have.copy()
    blank[have] = np.array([t == "" for t in text], dtype=bool)
    out[blank] = [f"{prefix}{r:06d}" for r in rows[blank]]
    return out, int((~have).sum() + blank.sum())


def floors_and_height(df: pd.DataFrame, default_floors: int = DEFAULT_FLOORS, floor_height_m: float = FLOOR_HEIGHT_M):
    """(floors, height_m, how) arrays: levels and height as given, each derived from the other when one is missing.

    `how` counts rows by rule: "floors from height", "height from floors", "floors and height defaulted".
    """
    n = len(df)
    levels = np.array(number(column(df, "floors", "building:levels", "levels"), n), dtype=float)
    height = np.array(number(column(df, "height_m", "height", "building:height"), n), dtype=float)
    floors = np.where(np.isnan(levels), np.nan, np.maximum(1, np.round(levels)))
    only_h = np.isnan(floors) & ~np.isnan(height)
    only_f = ~np.isnan(floors) & np.isnan(height)
    neither = np.isnan(floors) & np.isnan(height)
    floors[only_h] = np.maximum(1, np.round(height[only_h] / floor_height_m))
    height[only_f] = floors[only_f] * floor_height_m
    floors[neither] = default_floors
    height[neither] = default_floors * floor_height_m
    how = {
        "floors from height": int(only_h.sum()),
        "height from floors": int(only_f.sum()),
        f"floors and height defaulted ({default_floors} floors)": int(neither.sum()),
    }
    return floors.astype(int), height, {k: v for k, v in how.items() if v}


def uses(df: pd.DataFrame) -> tuple[np.ndarray, int, dict]:
    """Schema use codes from `use` or `building=*`, with (rows defaulted to residential, {tag: rows made ancillary}).

    No tag or a generic one (building=yes) defaults to residential, counted; a building type outside the mapping
    (garage, shed, roof, toilets, parking, ...) becomes ancillary, which never gets households.
    """
    n = len(df)
    direct = column(df, "use")
    tag = column(df, "building")
    out = np.full(n, None, dtype=object)
    if direct is not None:
        d = direct.astype("string").str.strip().str.lower().to_numpy(dtype=object)
        known = np.array([v in BUILDING_USES for v in d], dtype=bool)
        out[known] = d[known]
    ancillary: dict[str, int] = {}
    if tag is not None:
        t = tag.astype("string").str.strip().str.lower().to_numpy(dtype=object)
        for i in np.flatnonzero(pd.isna(out)):
            if not isinstance(t[i], str) or t[i] in GENERIC_TAGS:
                continue
            out[i] = USE_OF_TAG.get(t[i], "ancillary")
            if t[i] not in USE_OF_TAG:
                ancillary[t[i]] = ancillary.get(t[i], 0) + 1
    missing = pd.isna(out)
    out[missing] = "residential"
    return out, int(missing.sum()), ancillary


def build_years(df: pd.DataFrame) -> np.ndarray:
    """Build year from build_year/start_date/building:start_date (first 4-digit year 1000-2100); NaN otherwise."""
    src = column(df, "build_year", "start_date", "building:start_date", "construction_date")
    if src is None:
        return np.full(len(df), np.nan)
    text = src.astype("string").str.extract(r"(?<!\d)(1\d{3}|20\d\d|2100)(?!\d)", expand=False)
    year = pd.to_numeric(text, errors="coerce")
    return year.astype("float64").to_numpy()


def units_and_households(footprints_m: np.ndarray, floors: np.ndarray, use: np.ndarray):
    """Estimated stairwell units (long side / UNIT_WIDTH_M; 1 for a tower) and households per building."""
    rect = shapely.oriented_envelope(np.asarray(footprints_m, dtype=object))
    long_side = np.zeros(len(rect))
    poly = shapely.get_type_id(rect) == shapely.GeometryType.POLYGON.value
    coords, owner = shapely.get_coordinates(rect[poly], return_index=True)
    if len(coords):
        first = np.unique(owner, return_index=True)[1]  # each rectangle's first corner; the next two follow it
        a, b, c = coords[first], coords[first + 1], coords[first + 2]
        long_side[poly] = np.maximum(np.hypot(*(b - a).T), np.hypot(*(c - b).T))
    units = np.maximum(1, np.round(long_side / UNIT_WIDTH_M)).astype(int)
    units = np.minimum(units, 100)
    living_floors = np.where(use == "mixed", np.maximum(floors - 1, 1), floors)
    hh = np.where(np.isin(use, ["residential", "mixed"]), units * living_floors * FLATS_PER_LANDING, 0)
    return units, np.minimum(hh, 10_000).astype(int)
