"""The hand-over of a plan: which buildings and households move from which grid to which, and what each grid worker
gives and receives (a building moves when its new grid is not the one matched to its old grid)."""

from __future__ import annotations

import io
import json
import logging

import pandas as pd
import shapely

log = logging.getLogger(__name__)

UNASSIGNED = None  # a new grid matched to no grid of today has no worker until the office names one (twin.plans)

MOVE_COLUMNS = {  # column → (zh, en) header of the hand-over tables
    "from_grid": ("原网格", "From grid"),
    "to_grid": ("新网格", "To grid"),
    "from_worker": ("移交网格员", "Handing-over worker"),
    "to_worker": ("接收网格员", "Receiving worker"),
    "buildings": ("楼栋数", "Buildings"),
    "households": ("户数", "Households"),
    "building_ids": ("楼栋编号", "Building ids"),
}
WORKER_COLUMNS = {
    "worker": ("网格员", "Grid worker"),
    "grids_before": ("现网格", "Grids today"),
    "grids_after": ("新网格", "Grids after"),
    "gives_buildings": ("移出楼栋", "Buildings given"),
    "gives_households": ("移出户数", "Households given"),
    "receives_buildings": ("接收楼栋", "Buildings received"),
    "receives_households": ("接收户数", "Households received"),
}


def workers_of(plan, twin) -> tuple[dict, dict]:
    """({today's grid code: worker}, {new grid code: worker}): a new grid takes the worker of the grid it was
    matched to (its previous_code), else none."""
    old = {}
    if "grids" in twin.layers and "worker" in twin.frame("grids"):
        g = twin.frame("grids")
        old = {c: (w if isinstance(w, str) and w else UNASSIGNED) for c, w in zip(g["grid_code"], g["worker"])}
    new = {
        c: old.get(p) if isinstance(p, str) else UNASSIGNED
        for c, p in zip(plan.grids["grid_code"], plan.grids["previous_code"])
    }
    return old, new


def moved_buildings(plan) -> pd.DataFrame:
    """The assignment rows of buildings whose grid changes (building_id, community_id, grid_code, previous_code,
    households)."""
    a = plan.assignment
    matched = dict(zip(plan.grids["grid_code"], plan.grids["previous_code"]))
    new_prev = a["grid_code"].map(matched)
    moved = new_prev.isna() | (new_prev.astype(object) != a["previous_code"].astype(object))
    return a[moved.to_numpy()].copy()


def handover(plan, twin) -> dict:
    """{"moves": old grid → new grid rows, "workers": per worker what they give and receive, "totals"}."""
    old_w, new_w = workers_of(plan, twin)
    m = moved_buildings(plan)
    moves = []
    if len(m):
        m = m.assign(previous_code=m["previous_code"].astype(object).where(m["previous_code"].notna(), None))
        for (frm, to), part in m.groupby([m["previous_code"].fillna(""), m["grid_code"]], sort=True):
            moves.append(
                {
                    "from_grid": frm or None,
                    "to_grid": to,
                    "from_worker": old_w.get(frm),
                    "to_worker": new_w.get(to),
                    "buildings": int(len(part)),
                    "households": int(part["households"].sum()),
                    "building_ids": sorted(map(str, part["building_id"])),
                }
            )
    workers: dict = {}

    def entry(name):
        return workers.setdefault(
            name,
            {
                "worker": name,
                "grids_before": sorted(c for c, w in old_w.items() if w == name),
                "grids_after": sorted(c for c, w in new_w.items() if w == name),
                "gives_buildings": 0,
                "gives_households": 0,
                "receives_buildings": 0,
                "receives_households": 0,
            },
        )

    for mv in moves:
        if mv["from_worker"] != mv["to_worker"]:
            for side, who in (("gives", mv["from_worker"]), ("receives", mv["to_worker"])):
                e = entry(who)
                e[f"{side}_buildings"] += mv["buildings"]
                e[f"{side}_households"] += mv["households"]
    return {
        "moves": moves,
        "workers": sorted(workers.values(), key=lambda e: (e["worker"] is None, e["worker"] or "")),
        "totals": {
            "buildings": int(len(m)),
            "households": int(m["households"].sum()) if len(m) else 0,
            "households_pct": plan.after.get("moved_households_pct"),
        },
    }


def tables(h: dict, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The hand-over as two tables with headers in `lang`: moves and workers."""
    i = 1 if lang == "en" else 0
    unassigned = "(unassigned)" if lang == "en" else "（待定）"
    out = {}
    for name, cols, rows in (("moves", MOVE_COLUMNS, h["moves"]), ("workers", WORKER_COLUMNS, h["workers"])):
        frame = pd.DataFrame(rows, columns=list(cols))
        for c in ("from_worker", "to_worker", "worker"):
            if c in frame:
                frame[c] = frame[c].where(frame[c].notna(), unassigned)
        for c in ("building_ids", "grids_before", "grids_after"):
            if c in frame:
                frame[c] = frame[c].map(lambda v: " ".join(v) if isinstance(v, list) else v)
        out[name] = frame.rename(columns={k: v[i] for k, v in cols.items()})
    return out


def to_csv(h: dict, lang: str = "zh") -> str:
    """The moves table as CSV, then a blank line and the workers table (one file an office can open)."""
    t = tables(h, lang)
    return t["moves"].to_csv(index=False) + "\n" + t["workers"].to_csv(index=False)


def to_xlsx(h: dict, lang: str = "zh") -> bytes:
    """The hand-over as a workbook: a sheet of moves and a sheet of workers."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    names = {"moves": ("移交清单", "Moves"), "workers": ("网格员", "Workers")}
    for key, frame in tables(h, lang).items():
        ws = wb.create_sheet(names[key][1 if lang == "en" else 0])
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append([None if pd.isna(v) else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def moved_geojson(plan, twin) -> dict:
    """The moved buildings as GeoJSON footprints (building_id, from_grid, to_grid, households) for the map."""
    m = moved_buildings(plan)
    b = twin.frame("buildings")
    pos = pd.Index(b["building_id"]).get_indexer(m["building_id"])
    geoms = shapely.to_geojson(b.geometry.values[pos]) if len(pos) else []
    feats = [
        {
            "type": "Feature",
            "properties": {
                "building_id": str(bid),
                "from_grid": prev if isinstance(prev, str) else None,
                "to_grid": str(to),
                "households": int(hh),
            },
            "geometry": json.loads(g),
        }
        for bid, prev, to, hh, g in zip(m["building_id"], m["previous_code"], m["grid_code"], m["households"], geoms)
    ]
    return {"type": "FeatureCollection", "features": feats}
