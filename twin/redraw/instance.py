"""The redraw instance: loads per building, and per community its tessellation, cell graph and today's grids."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from twin.errors import InvalidInput

from .graph import CellGraph, build_graph
from .params import RedrawParams
from .tessellation import tessellate

log = logging.getLogger(__name__)


@dataclass
class CommunityData:
    """One community: its buildings (positions in the buildings frame), their cells and graph, loads, today's grids."""

    community_id: str
    polygon: object  # metric
    buildings: np.ndarray
    load: np.ndarray
    households: np.ndarray
    current: np.ndarray  # today's grid code of each building (None where it has none)
    group: np.ndarray  # the unit each building belongs to (itself, or its compound when compounds stay whole)
    cells: np.ndarray | None = None  # metric polygons, one per building
    graph: CellGraph | None = None
    name: str = ""  # the community's name, for messages and progress
    held: np.ndarray | None = None  # buildings whose grid is held (locked, or alone above the band), set by the solver

    def title(self) -> str:
        """The community's name (its code when it has none), for progress and drawing messages."""
        return self.name or self.community_id

    def label(self) -> str:
        """The community's name and code, for messages ("东风社区 (130702001001)")."""
        return (
            f"{self.name} ({self.community_id})" if self.name and self.name != self.community_id else self.community_id
        )

    def prepare(self, footprints, roads=None) -> "CommunityData":
        """Tessellate the community around its footprints and build the shared-edge graph."""
        self.cells = tessellate(self.polygon, footprints)
        self.graph = build_graph(self.cells, roads)
        return self


def building_loads(twin, weights: dict) -> tuple[np.ndarray, np.ndarray]:
    """(load, households) per building: the weighted mix of load terms, each scaled to the household total."""
    b = twin.frame("buildings")
    ids = pd.Index(b["building_id"])
    hh_frame = twin.frame("households") if "households" in twin.layers else None
    if hh_frame is not None and len(hh_frame):
        pos = ids.get_indexer(hh_frame["building_id"])
        households = np.bincount(pos[pos >= 0], minlength=len(b)).astype(float)
    else:
        households = pd.to_numeric(b["households"], errors="coerce").fillna(0).to_numpy(float)
    terms = {"households": households}
    if weights.get("population"):
        if hh_frame is None or not len(hh_frame):
            raise InvalidInput("the population load needs the households layer, which is not loaded")
        terms["population"] = np.bincount(pos[pos >= 0], hh_frame["size"].to_numpy(float)[pos >= 0], len(b))
    if weights.get("special_care"):
        if hh_frame is None or not len(hh_frame):
            raise InvalidInput("the special-care load needs the households layer, which is not loaded")
        care = hh_frame["elderly_alone"].fillna(False).astype(bool).to_numpy()
        if "key_group" in hh_frame:  # a new array: to_numpy() may hand back a read-only view of the frame
            care = care | hh_frame["key_group"].fillna(False).astype(bool).to_numpy()
        terms["special_care"] = np.bincount(pos[pos >= 0], care[pos >= 0].astype(float), len(b))
    if weights.get("incidents"):
        terms["incidents"] = _incidents_last_year(twin, ids)
    total_hh = households.sum()
    load = np.zeros(len(b))
    wsum = sum(weights.get(t, 0.0) for t in terms)
    for t, x in terms.items():
        w = weights.get(t, 0.0)
        if w and x.sum() > 0:
            load += w / wsum * x * (total_hh / x.sum() if total_hh > 0 else 1.0)
    return load, households


def _incidents_last_year(twin, ids: pd.Index) -> np.ndarray:
    service = getattr(twin, "incidents", None)
    if service is None:
        raise InvalidInput("the incidents load needs the incident service, which is not attached to this twin")
    frame = service.frame()
    now = service.now()
    recent = frame[frame["reported_at"] >= now - pd.Timedelta(days=365)]
    pos = ids.get_indexer(recent["building_id"].dropna())
    return np.bincount(pos[pos >= 0], minlength=len(ids)).astype(float)


def community_data(twin, params: RedrawParams, load: np.ndarray, households: np.ndarray) -> list[CommunityData]:
    """The communities to redraw (all, or those named in params.communities), without tessellation yet."""
    comm = twin.frame("communities")
    b = twin.frame("buildings")
    wanted = list(comm["community_id"])
    if params.communities:
        unknown = sorted(set(params.communities) - set(wanted))
        if unknown:
            raise InvalidInput(f"unknown communities {', '.join(unknown)}", field="communities")
        wanted = [c for c in wanted if c in set(params.communities)]
    grid_comm = {}
    if "grids" in twin.layers:
        g = twin.frame("grids")
        grid_comm = dict(zip(g["grid_code"], g["community_id"]))
    current = b["grid_code"].to_numpy(object) if "grid_code" in b else np.full(len(b), None, object)
    bcomm = b["community_id"].to_numpy(object)
    current = np.array(
        [c if c is not None and grid_comm.get(c) == bc else None for c, bc in zip(current, bcomm)], dtype=object
    )
    if params.unit == "compound" and "compound_id" in b:
        group = np.array(
            [f"c:{c}" if isinstance(c, str) and c else f"b:{i}" for c, i in zip(b["compound_id"], b["building_id"])],
            dtype=object,
        )
    else:
        group = np.array([f"b:{i}" for i in b["building_id"]], dtype=object)
    polys = twin.layer("communities").index.metric
    by_comm = pd.Series(np.arange(len(b))).groupby(bcomm).indices
    out = []
    for pos, cid in zip(range(len(comm)), comm["community_id"]):
        if cid not in wanted:
            continue
        idx = np.asarray(by_comm.get(cid, np.array([], int)), dtype=int)
        name = str(comm["name"].iloc[pos]) if "name" in comm else ""
        out.append(CommunityData(cid, polys[pos], idx, load[idx], households[idx], current[idx], group[idx], name=name))
    return out


def footprints(twin, positions: np.ndarray) -> np.ndarray:
    """Metric footprints of the buildings at `positions` (empty ones replaced by a 1 m square at their point)."""
    geoms = twin.layer("buildings").index.metric[positions]
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        raise InvalidInput(f"{int(empty.sum())} buildings have no footprint; redraw needs every footprint")
    return geoms
