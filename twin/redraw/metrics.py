"""Metrics of any plan on the same tessellation: load balance, compactness, contiguity, cut edges, change."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import shapely

from .band import held_ideal
from .codes import match
from .graph import components

log = logging.getLogger(__name__)

# The summary figures shown before/after (CLI table, the /redraw page, docs): key, English and Chinese label, kind.
METRIC_ROWS = (
    ("grids", "grids", "网格数", "int"),
    ("max_deviation_pct", "largest deviation from ideal", "最大偏差", "pct"),
    ("mean_deviation_pct", "mean deviation from ideal", "平均偏差", "pct"),
    ("in_band_share", "grids inside the band", "容差带内网格占比", "share"),
    ("district_max_deviation_pct", "largest deviation, district-wide", "全街道最大偏差", "pct"),
    ("pp_mean", "mean Polsby-Popper", "平均紧凑度（Polsby-Popper）", "pp"),
    ("pp_min", "min Polsby-Popper", "最小紧凑度", "pp"),
    ("contiguous", "all grids contiguous", "网格连通", "bool"),
    ("cut_edges", "cut edges", "切割边数", "int"),
    ("moved_buildings", "buildings moved", "调整楼栋数", "int"),
    ("moved_households", "households moved", "调整户数", "int"),
    ("moved_households_pct", "households moved %", "调整户数占比", "pct"),
    ("worker_load_change_mean_pct", "mean grid-worker load change", "网格员负荷平均变化", "pct"),
)


def grid_polygons(cells, labels) -> dict:
    """{label: polygon}: the union of the cells of each grid (cells cover the community, so grids do too)."""
    labels = np.asarray(labels)
    out = {}
    order = np.argsort(labels, kind="stable")
    uniq, starts = np.unique(labels[order], return_index=True)
    ends = np.r_[starts[1:], len(order)]
    for g, a, b in zip(uniq.tolist(), starts, ends):
        parts = cells[order[a:b]]
        parts = parts[~shapely.is_empty(parts)]
        out[g] = shapely.coverage_union_all(parts) if len(parts) else shapely.Polygon()
    return out


def shape_scores(polys) -> tuple[np.ndarray, np.ndarray]:
    """(Polsby-Popper 4πA/P², Reock A/(πr²) with r of the smallest enclosing circle) of metric polygons."""
    polys = np.asarray(polys, dtype=object)
    a, p = shapely.area(polys), shapely.length(polys)
    r = shapely.minimum_bounding_radius(polys)
    pp = np.where(p > 0, 4 * math.pi * a / np.maximum(p, 1e-12) ** 2, 0.0)
    reock = np.where(r > 0, a / (math.pi * np.maximum(r, 1e-12) ** 2), 0.0)
    return pp, reock


def community_grids(data, labels, band: float, polygons: dict | None = None) -> pd.DataFrame:
    """One row per grid of a community: load, households, buildings, deviation, in band, held, PP, Reock, contiguous.

    The ideal of a held grid (locked, or holding a building alone above the band) is the community's load over its
    grids; every other grid is measured around the ideal of what remains (twin.redraw.band)."""
    labels = np.asarray(labels)
    polygons = polygons if polygons is not None else grid_polygons(data.cells, labels)
    keys = list(polygons)
    load = np.array([data.load[labels == g].sum() for g in keys])
    hh = np.array([data.households[labels == g].sum() for g in keys])
    nb = np.array([(labels == g).sum() for g in keys])
    held_b = data.held if data.held is not None else np.zeros(len(labels), bool)
    held = np.array([bool(held_b[labels == g].any()) for g in keys], dtype=bool)
    free_ideal, comm_ideal = held_ideal(data.load, held_b, labels)
    ideal = np.where(held, comm_ideal, free_ideal) if len(keys) else np.zeros(0)
    dev = np.where(ideal > 0, (load - ideal) / np.maximum(ideal, 1e-12), 0.0)
    pp, reock = shape_scores([polygons[g] for g in keys])
    i, j, _ = data.graph.edges()
    same = labels[i] == labels[j]
    comp = components(len(labels), i[same], j[same])
    pieces = np.array([len(np.unique(comp[labels == g])) for g in keys])
    return pd.DataFrame(
        {
            "label": keys,
            "community_id": data.community_id,
            "load": load,
            "households": hh,
            "buildings": nb,
            "ideal": ideal,
            "deviation": dev,
            "in_band": np.abs(dev) <= band + 1e-9,
            "held": held,
            "polsby_popper": pp,
            "reock": reock,
            "contiguous": pieces == 1,
        }
    )


def plan_metrics(
    datas, labels_by_comm: dict, band: float, current_by_comm: dict | None = None, polygons_by_comm: dict | None = None
) -> tuple[dict, pd.DataFrame]:
    """(summary, per-grid frame) of a plan given each community's building labels; moved is counted against
    `current_by_comm` (today's grid code of each building) after matching new grids to old by households."""
    rows, cut, moved_b, moved_h, total_h, changes = [], 0, 0, 0.0, 0.0, []
    for data in datas:
        labels = np.asarray(labels_by_comm[data.community_id])
        if not len(labels):
            continue
        polys = (polygons_by_comm or {}).get(data.community_id)
        rows.append(community_grids(data, labels, band, polys))
        i, j, _ = data.graph.edges()
        cut += int((labels[i] != labels[j]).sum())
        total_h += data.households.sum()
        current = (current_by_comm or {}).get(data.community_id)
        if current is not None:
            mapping = match(labels, current, data.households)
            new_code = np.array([mapping.get(x.item() if hasattr(x, "item") else x) for x in labels], dtype=object)
            moved = np.array([a is None or a != b for a, b in zip(new_code, current)])
            moved_b += int(moved.sum())
            moved_h += float(data.households[moved].sum())
            changes.extend(_load_changes(labels, current, data.load, mapping))
    grids = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return summarize(grids, band, cut, moved_b, moved_h, total_h, changes, current_by_comm is not None), grids


def summarize(grids: pd.DataFrame, band, cut, moved_b, moved_h, total_h, changes, with_moved) -> dict:
    """The summary figures of a per-grid frame (per-community deviation and district-wide deviation apart)."""
    if not len(grids):
        return {"grids": 0}
    dev = grids["deviation"].abs()
    district_ideal = grids["load"].sum() / len(grids)
    ddev = (grids["load"] - district_ideal).abs() / district_ideal if district_ideal > 0 else dev * 0
    out = {
        "grids": int(len(grids)),
        "communities": int(grids["community_id"].nunique()),
        "load_total": round(float(grids["load"].sum()), 2),
        "load_min": round(float(grids["load"].min()), 2),
        "load_max": round(float(grids["load"].max()), 2),
        "max_deviation_pct": round(100 * float(dev.max()), 2),
        "mean_deviation_pct": round(100 * float(dev.mean()), 2),
        "in_band_share": round(float(grids["in_band"].mean()), 4),
        "district_max_deviation_pct": round(100 * float(ddev.max()), 2),
        "district_mean_deviation_pct": round(100 * float(ddev.mean()), 2),
        "pp_mean": round(float(grids["polsby_popper"].mean()), 4),
        "pp_min": round(float(grids["polsby_popper"].min()), 4),
        "reock_mean": round(float(grids["reock"].mean()), 4),
        "contiguous": bool(grids["contiguous"].all()),
        "noncontiguous_grids": int((~grids["contiguous"]).sum()),
        "cut_edges": int(cut),
        "band_pct": round(100 * band, 2),
    }
    if with_moved:
        out.update(
            {
                "moved_buildings": int(moved_b),
                "moved_households": int(round(moved_h)),
                "moved_households_pct": round(float(100 * moved_h / total_h), 2) if total_h else 0.0,
                "worker_load_change_mean_pct": round(100 * float(np.mean(changes)), 2) if changes else None,
                "worker_load_change_max_pct": round(100 * float(np.max(changes)), 2) if changes else None,
            }
        )
    return out


def _load_changes(labels, current, load, mapping) -> list[float]:
    """|new load − old load| / old load for each matched pair (the change a grid worker sees)."""
    out = []
    cur = np.array([c if c is not None else "" for c in current], dtype=object)
    for g, code in mapping.items():
        old = load[cur == code].sum()
        if old > 0:
            out.append(abs(load[labels == g].sum() - old) / old)
    return out
