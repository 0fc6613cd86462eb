"""A redraw result: the proposed grids (and today's, on the same tessellation) with metrics, as GeoJSON/GeoPackage."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import NotFound

log = logging.getLogger(__name__)

GRID_COLUMNS = (
    "grid_code",
    "community_id",
    "previous_code",
    "kept_code",
    "load",
    "households",
    "buildings",
    "ideal",
    "deviation",
    "in_band",
    "held",
    "polsby_popper",
    "reock",
    "contiguous",
)


@dataclass
class Plan:
    """Proposed grids (WGS84, one row per grid), each building's new grid, and before/after summary metrics."""

    grids: gpd.GeoDataFrame
    assignment: pd.DataFrame  # building_id, community_id, grid_code, previous_code
    before: dict
    after: dict
    current: gpd.GeoDataFrame  # today's grids rebuilt from the same tessellation, with the same metrics
    params: dict = field(default_factory=dict)
    elapsed_s: float = 0.0
    notes: list = field(default_factory=list)  # what the plan says about the band, in words (twin.redraw.band)
    frontier: list = field(default_factory=list)  # households moved against compactness at each keep value
    variants: dict = field(default_factory=dict, repr=False)  # keep → Plan of the same run (this one included)
    cache: dict = field(default_factory=dict, repr=False)  # serialised forms kept by whoever serves the plan

    def summary(self) -> dict:
        """Parameters, time and before/after metrics as one JSON-able dict."""
        return {
            "params": self.params,
            "elapsed_s": round(self.elapsed_s, 2),
            "before": self.before,
            "after": self.after,
            "notes": self.notes,
            "frontier": self.frontier,
        }

    def variant(self, keep=None) -> "Plan":
        """The plan of the same run at `keep` (this one when None); NotFound names the keep values there are."""
        if keep is None or keep == self.params.get("keep"):
            return self
        if keep not in self.variants:
            raise NotFound(
                f"this redraw has no plan at keep {keep}; it has {', '.join(f'{k:g}' for k in sorted(self.variants))}",
                keep=keep,
            )
        return self.variants[keep]

    def to_geojson(self, which: str = "after") -> dict:
        """The proposed ("after") or today's ("before") grids as a GeoJSON FeatureCollection with the summary
        (each feature also has `label_point`, a [lon, lat] inside the grid for its label)."""
        frame = _clean(self.grids if which == "after" else self.current)
        frame["label_point"] = [
            [round(x, 7), round(y, 7)]
            for x, y in shapely.get_coordinates(shapely.point_on_surface(frame.geometry.values))
        ]
        fc = json.loads(frame.to_json(drop_id=True))
        fc["metadata"] = self.summary()
        return fc

    def write_geojson(self, path) -> Path:
        """Write the proposed grids as GeoJSON (one feature per grid: code, community, household load...)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_geojson(), ensure_ascii=False), encoding="utf-8")
        return path

    def write_gpkg(self, path) -> Path:
        """Write a GeoPackage with layers grids (proposed), current_grids and assignment (building → grid)."""
        path = Path(path)
        if path.exists():
            path.unlink()
        _clean(self.grids).to_file(path, layer="grids", driver="GPKG")
        _clean(self.current).to_file(path, layer="current_grids", driver="GPKG")
        gpd.GeoDataFrame(
            self.assignment.astype({"previous_code": "string"}),
            geometry=gpd.GeoSeries([None] * len(self.assignment), crs=self.grids.crs),
        ).to_file(path, layer="assignment", driver="GPKG")
        return path


def _clean(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plain JSON/GPKG-friendly columns: floats rounded, numpy bools as bools."""
    out = frame.copy()
    for col in ("load", "ideal"):
        if col in out:
            out[col] = out[col].astype(float).round(2)
    for col in ("deviation", "polsby_popper", "reock"):
        if col in out:
            out[col] = out[col].astype(float).round(4)
    for col in ("in_band", "held", "contiguous", "kept_code"):
        if col in out:
            out[col] = out[col].astype(bool)
    for col in ("households", "buildings"):
        if col in out:
            out[col] = np.round(out[col].astype(float)).astype(int)
    return out
