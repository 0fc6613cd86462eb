"""Households from CSV: each tied to a building by its building_id, or by coordinates to the building there."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from twin.placement import nearest_within

from .incidents import required_columns
from .records import read_records, unknown_buildings

log = logging.getLogger(__name__)


def prepare(path, target, opts, report, steps) -> tuple[pd.DataFrame, np.ndarray]:
    """The households of `path` with a building each; (frame, source rows)."""
    kind = target.kinds["households"]
    rec = read_records(path, opts, report, steps, required=required_columns(kind))
    steps("placing")
    buildings = target.require("buildings")
    where = target.where("buildings")
    bids = rec.building_ids.copy()
    problems = unknown_buildings(bids, buildings, where)
    by_point = pd.isna(bids) & pd.notna(rec.points)
    if by_point.any():
        log.info("finding the buildings of %d households within %g m", int(by_point.sum()), opts.snap_m)
        pos = nearest_within(rec.points[by_point], buildings, opts.snap_m)
        found = pos >= 0
        bids[np.flatnonzero(by_point)[found]] = buildings["building_id"].to_numpy()[pos[found]]
        for i in np.flatnonzero(by_point)[~found]:
            problems[int(i)] = (f"no building of {where} within {opts.snap_m:g} m of the coordinates", "building_id")
        report.defaults[f"building found from the coordinates (within {opts.snap_m:g} m)"] = int(found.sum())
    for i in np.flatnonzero(pd.isna(bids) & pd.isna(rec.points)):
        problems[int(i)] = ("neither a building_id nor coordinates", "building_id")
    ids = rec.df["household_id"].to_numpy(dtype=object) if "household_id" in rec.df.columns else None
    keep = report.settle(problems, rec.rows, ids, opts.skip_bad)
    frame = rec.df.assign(building_id=bids)
    return frame[keep].reset_index(drop=True), rec.rows[keep]
