"""CSV records placed by coordinates or by building id: the common first step of households and incidents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.errors import SchemaError

from .sources import XY_COLUMNS, csv_crs, csv_points, read_csv, xy_columns


@dataclass
class Records:
    """A CSV's rows, their source row numbers, WGS84 points (None where not given) and building ids (None too)."""

    df: pd.DataFrame
    rows: np.ndarray
    points: np.ndarray
    building_ids: np.ndarray


def read_records(path, opts, report, steps, required=()) -> Records:
    """Read a CSV that has coordinate columns, a building_id column or both; errors name the file.

    Checks come in this order: the columns (`required` after the --map renames), then whether the coordinates fit
    the CRS, and only then each row.
    """
    df = read_csv(path)
    if opts.mapping:
        df = opts.mapping.apply(df, report)
    rows = np.arange(1, len(df) + 1)
    report.rows_read = len(df)
    steps.rows(len(df))
    xy = xy_columns(df)
    if xy is None and "building_id" not in df.columns:
        pairs = ", ".join("/".join(p) for p in XY_COLUMNS)
        raise SchemaError(
            f"the CSV has neither coordinates ({pairs}) nor a building_id column", file=str(path), column="building_id"
        )
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise SchemaError(
            f"missing required column(s) {', '.join(missing)}; the file has {', '.join(df.columns)} "
            "(rename with --map COL=FIELD)",
            file=str(path),
            column=missing[0],
        )
    points = np.full(len(df), None, dtype=object)
    if xy is not None:
        steps("converting coordinates")
        crs = csv_crs(opts.crs, path)
        report.crs = crs.label
        points = csv_points(df, xy, crs, path, rows)
        df = df.drop(columns=list(xy))
    else:
        report.crs = "placed by building_id"
    bids = np.full(len(df), None, dtype=object)
    if "building_id" in df.columns:
        text = df["building_id"].str.strip()
        bids = text.where(text.notna() & (text != ""), None).to_numpy(dtype=object)
    return Records(df, rows, points, bids)


def unknown_buildings(bids: np.ndarray, buildings: pd.DataFrame, where: str) -> dict[int, tuple[str, str]]:
    """{position: problem} for building ids that are given but not in `buildings`."""
    known = pd.Index(buildings["building_id"])
    given = pd.notna(bids)
    missing = given & (known.get_indexer(pd.Index(bids)) < 0)
    return {int(i): (f"building {bids[i]!r} is not in {where}", "building_id") for i in np.flatnonzero(missing)}
