"""Versioned grids: adopted grid plans kept in a small table beside the live data (SQLite or PostgreSQL), and the
plan in force installed as the twin's grids layer (buildings and households re-derive their grid; layer versions
change, so ETags do). History is kept: a plan is never deleted, a rollback marks it and the plan before it is in
force again. Incidents keep the grid they were reported in (their stored grid_code is not rewritten)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import Conflict, InvalidInput, NotFound
from .times import utc_now

log = logging.getLogger(__name__)

NO_WORKER = "待定"  # the worker of a new grid matched to no grid of today, until the office names one
GRID_FIELDS = ("grid_code", "community_id", "name", "worker", "worker_phone", "type")
BASELINE, PUBLISHED, ROLLED_BACK = "baseline", "published", "rolled_back"

SCHEMA = """
CREATE TABLE IF NOT EXISTS grid_plans (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    effective_date TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    source TEXT NOT NULL,
    summary TEXT NOT NULL,
    grids TEXT NOT NULL,
    rolled_back_at TEXT,
    rolled_back_by TEXT,
    parent INTEGER
);
"""
# parent: the plan in force when this one was adopted (the baseline's id for the grids as loaded); its previous_code
# values are that plan's codes, so a grid can be followed through any chain of adoptions and rollbacks
META = (
    "id",
    "status",
    "effective_date",
    "created_at",
    "created_by",
    "source",
    "rolled_back_at",
    "rolled_back_by",
    "parent",
)


def parse_day(value, field: str = "effective_date") -> dt.date:
    """A YYYY-MM-DD date; InvalidInput naming `field` otherwise."""
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD, not {str(value)[:30]!r}", field=field) from None


class PlanStore:
    """Adopted grid plans on a PlanTable (twin.store) of either backend; a path means the embedded SQLite file."""

    def __init__(self, table):
        self.table = SqlitePlans(table) if isinstance(table, (str, Path)) else table

    def close(self) -> None:
        """Release the table's connections."""
        self.table.close()

    def _insert(self, status, effective, by, source, summary, grids: gpd.GeoDataFrame, parent=None) -> int:
        cols = [c for c in GRID_FIELDS + ("previous_code",) if c in grids.columns]
        text = grids[cols + [grids.geometry.name]].to_json(drop_id=True)
        row = {
            "status": status,
            "effective_date": effective,
            "created_at": _stamp(),
            "created_by": by,
            "source": source,
            "summary": json.dumps(summary, ensure_ascii=False),
            "grids": text,
            "parent": parent,
        }
        return self.table.insert(row)

    def publish(
        self,
        grids: gpd.GeoDataFrame,
        effective: dt.date,
        by: str,
        source: str,
        summary: dict,
        today,
        baseline: gpd.GeoDataFrame,
    ) -> dict:
        """Record `grids` (whose previous_code values are codes of the plan in force on `today`) as the plan in force
        from `effective` (today or later); the grids as loaded are kept as the baseline the first time."""
        if effective < today:
            raise InvalidInput(
                f"effective_date {effective} is in the past; give today ({today}) or later", field="effective_date"
            )
        base = self.baseline()
        if base is None:
            base = self._insert(BASELINE, None, by, "grids layer", {"grids": len(baseline)}, baseline)
        parent = self.in_force(today) or base
        return self.get(self._insert(PUBLISHED, effective.isoformat(), by, source, summary, grids, parent))

    def rollback(self, plan_id: int, by: str) -> dict:
        """Mark a published plan rolled back (the plan before it is in force again); Conflict for others."""
        meta = self.get(plan_id)
        if meta["status"] != PUBLISHED:
            raise Conflict(f"plan {plan_id} is {meta['status']}; only a published plan can be rolled back")
        self.table.update(meta["id"], {"status": ROLLED_BACK, "rolled_back_at": _stamp(), "rolled_back_by": by})
        return self.get(plan_id)

    def history(self, today=None) -> list[dict]:
        """Every plan, newest first, each marked `in_force` at `today`."""
        rows = self._rows()
        force = _in_force(rows, today) if today is not None else None
        return [{**r, "in_force": r["id"] == force or (force is None and r["status"] == BASELINE)} for r in rows[::-1]]

    def get(self, plan_id) -> dict:
        """A plan's metadata and summary; NotFound when there is none."""
        try:
            pid = int(plan_id)
        except (TypeError, ValueError):
            raise NotFound(f"plan {str(plan_id)[:30]!r} does not exist", id=str(plan_id)[:30]) from None
        rows = [r for r in self._rows() if r["id"] == pid]
        if not rows:
            raise NotFound(f"plan {pid} does not exist", id=pid)
        return rows[0]

    def grids(self, plan_id) -> gpd.GeoDataFrame:
        """The grids of a plan (WGS84)."""
        text = self.table.grids(self.get(plan_id)["id"])
        return gpd.GeoDataFrame.from_features(json.loads(text)["features"], crs="EPSG:4326")

    def baseline(self) -> int | None:
        """The id of the baseline (the grids as loaded), None before the first publication."""
        return next((r["id"] for r in self._rows() if r["status"] == BASELINE), None)

    def chain(self, plan_id) -> list[int]:
        """The plans from the baseline to `plan_id`, oldest first (the baseline left out), each adopted over the one
        before it; a plan rolled back since stays in the chain of the plans adopted over it."""
        ids, pid = [], plan_id
        while pid is not None and pid not in ids:
            meta = self.get(pid)
            if meta["status"] == BASELINE:
                break
            ids.append(meta["id"])
            pid = meta["parent"]  # None in a store of before: adopted over the baseline
        return ids[::-1]

    def successions(self, plan_id) -> list[dict]:
        """{new code: previous code or None} of the baseline and of each plan from it to `plan_id`, in turn."""
        out = []
        for pid in [self.baseline(), *self.chain(plan_id)]:
            props = [f["properties"] for f in json.loads(self.table.grids(pid))["features"]]
            out.append({p["grid_code"]: p.get("previous_code") for p in props})
        return out

    def in_force(self, today) -> int | None:
        """The id of the published plan in force on `today` (the latest effective date not after it), or None when
        the grids layer as loaded is."""
        return _in_force(self._rows(), today)

    def next_change(self, today) -> dt.date | None:
        """The next effective date after `today` of a published plan (when the grids change by themselves)."""
        later = [r["effective_date"] for r in self._rows() if r["status"] == PUBLISHED]
        later = [d for d in later if d > today.isoformat()]
        return dt.date.fromisoformat(min(later)) if later else None

    def _rows(self) -> list[dict]:
        """Every plan's record, oldest first (a street office adopts a few plans a year: read them all)."""
        return [
            {
                **{k: r[k] for k in META},
                "id": int(r["id"]),
                "parent": None if r["parent"] is None else int(r["parent"]),
                "summary": json.loads(r["summary"]),
            }
            for r in self.table.rows()
        ]


def _in_force(rows: list[dict], today) -> int | None:
    due = [r for r in rows if r["status"] == PUBLISHED and r["effective_date"] <= today.isoformat()]
    return max(due, key=lambda r: (r["effective_date"], r["id"]))["id"] if due else None


class SqlitePlans:
    """The PlanTable (twin.store) of the embedded backend: the grid_plans table of the twin's SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        if "parent" not in {r[1] for r in self._db.execute("PRAGMA table_info(grid_plans)")}:  # a store of before
            self._db.execute("ALTER TABLE grid_plans ADD COLUMN parent INTEGER")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def insert(self, row: dict) -> int:
        """Add a plan row; its new id."""
        with self._lock:
            cur = self._db.execute(
                f"INSERT INTO grid_plans ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
            )
        return int(cur.lastrowid)

    def rows(self) -> list[dict]:
        """Every plan's record and summary, by id."""
        with self._lock:
            cur = self._db.execute(f"SELECT {', '.join(META)}, summary FROM grid_plans ORDER BY id")
            return [dict(r) for r in cur.fetchall()]

    def grids(self, plan_id: int) -> str | None:
        """A plan's grids as GeoJSON text."""
        with self._lock:
            row = self._db.execute("SELECT grids FROM grid_plans WHERE id = ?", (int(plan_id),)).fetchone()
        return row[0] if row else None

    def update(self, plan_id: int, values: dict) -> None:
        """Set fields of one plan."""
        with self._lock:
            self._db.execute(
                f"UPDATE grid_plans SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                [*values.values(), int(plan_id)],
            )


def _stamp() -> str:
    return utc_now().isoformat(timespec="seconds")


def plan_grids(plan, twin) -> gpd.GeoDataFrame:
    """A redraw plan's grids as grids-layer rows: each new grid takes the name, worker and type of the grid it was
    matched to (its previous_code), so the grid workers' assignments move with the plan; a new grid matched to none
    gets its code as name and NO_WORKER; the grids of communities the redraw left alone stay as they are. Checked
    against the grids schema here, so nothing invalid is stored."""
    from .store import to_layer_frame

    old = twin.frame("grids").set_index("grid_code") if "grids" in twin.layers else pd.DataFrame()
    rows = []
    for code, comm, prev in zip(plan.grids["grid_code"], plan.grids["community_id"], plan.grids["previous_code"]):
        src = old.loc[prev] if isinstance(prev, str) and prev in old.index else None
        rows.append(
            {
                "grid_code": code,
                "community_id": comm,
                "name": str(src["name"]) if src is not None else code[-3:],
                "worker": str(src["worker"]) if src is not None and isinstance(src["worker"], str) else NO_WORKER,
                "worker_phone": src.get("worker_phone") if src is not None else None,
                "type": str(src["type"]) if src is not None else _common_type(old),
                "previous_code": prev if isinstance(prev, str) else None,
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry=plan.grids.geometry.values, crs="EPSG:4326")
    if len(old):  # the communities a redraw left alone (params.communities) keep their grids, each matched to itself
        left = old[~old["community_id"].isin(set(plan.grids["community_id"]))].reset_index()
        left = left.assign(previous_code=left["grid_code"]).reindex(columns=frame.columns)
        frame = gpd.GeoDataFrame(pd.concat([frame, left], ignore_index=True), crs="EPSG:4326")
    kind = twin.layers["grids"].kind
    checked = to_layer_frame(frame.drop(columns=["previous_code"]), kind, "the adopted plan")
    return checked.assign(previous_code=frame["previous_code"].to_numpy())


def _common_type(old) -> str:
    return str(old["type"].mode().iloc[0]) if len(old) and "type" in old else "community"


# --- the grids layer in force ------------------------------------------------------------------------------------
def install(twin, grids: gpd.GeoDataFrame | None, tag: str, scope: dict | None = None) -> None:
    """Make `grids` the twin's grids layer (None: the layer as loaded) and re-derive the buildings' and households'
    grid; every changed layer's version gets `tag`, so cached answers and ETags change. `scope`: the grid codes each
    code of the layer as loaded reaches under these grids (see `scopes`)."""
    from .core import Layer, derive_columns
    from .spatial import StaticIndex
    from .store import to_layer_frame

    base = twin.__dict__.setdefault(
        "_plan_base", {n: twin.layers[n] for n in ("grids", "buildings", "households") if n in twin.layers}
    )
    twin.plan_scope = scope or {}
    if grids is None:
        twin.layers.update(base)
        twin.plan_tag = None
        return
    kind = base["grids"].kind
    frame = to_layer_frame(grids.drop(columns=["previous_code"], errors="ignore"), kind, f"plan {tag}")
    frames = {
        "grids": frame,
        **{n: base[n].frame.drop(columns=["grid_code"], errors="ignore") for n in base if n != "grids"},
    }
    derive_columns(frames)
    new = {"grids": Layer(kind, frames["grids"], StaticIndex(frames["grids"].geometry.values, twin.crs), "")}
    for n in base:
        if n != "grids":
            new[n] = Layer(base[n].kind, frames[n], base[n].index, "")
    for n, layer in new.items():
        layer.version = f"{base[n].version}+{tag}"
    twin.layers.update(new)
    twin.plan_tag = tag


def sync(twin, store: PlanStore, today) -> int | None:
    """Install the plan in force on `today` if it is not installed yet; returns its id (None: the loaded layer)."""
    pid = store.in_force(today)
    tag = f"plan{pid}" if pid is not None else None
    if getattr(twin, "plan_tag", None) != tag:
        scope = scopes(store.successions(pid)) if pid is not None else None
        install(twin, store.grids(pid) if pid is not None else None, tag or "", scope)
        log.info("grids layer is now %s", tag or "the layer as loaded")
    return pid


def layer_rows(twin) -> gpd.GeoDataFrame:
    """The grids layer as loaded (before any plan), as plan rows: the baseline of the history."""
    base = twin.__dict__.get("_plan_base", {}).get("grids") or twin.layers["grids"]
    return base.frame.assign(previous_code=None)


def scopes(successions: list[dict]) -> dict[str, frozenset]:
    """{code of the grids as loaded: the codes its grid worker reaches under the last plan}, from the
    {new code: previous code} of the grids as loaded and of each plan adopted over the one before, in turn.

    Each adoption matches every old grid to at most one new grid, so a grid of the layer as loaded is followed along
    one line of codes; it reaches the code of its grid in force (when every adoption matched it to one) and its past
    codes, in which incidents were reported (incidents keep their grid), except a past code that another grid in
    force bears now: codes are reused, and no worker may reach another's grid through an old code."""
    base, *steps = successions
    in_force = set(steps[-1]) if steps else set(base)
    line = {code: [code] for code in base}
    for step in steps:
        after = {old: new for new, old in step.items() if old is not None}
        for codes in line.values():
            if codes[-1] is not None:
                codes.append(after.get(codes[-1]))
    out = {}
    for code, codes in line.items():
        alive = codes[-1] if len(codes) == len(steps) + 1 else None
        out[code] = frozenset(c for c in codes if c is not None and (c == alive or c not in in_force))
    return out


def scope_in_force(grids: frozenset | None, twin) -> frozenset | None:
    """A staff scope (grid codes of the grids layer as loaded, which accounts and tokens are checked against) in the
    plan in force: each grid followed through every adoption since (see `scopes`), so a grid worker's access moves
    with their grid; a code not of the layer as loaded stays as given; None (all grids) stays None."""
    scope = getattr(twin, "plan_scope", None)
    if grids is None or not scope:
        return grids
    return frozenset().union(*(scope.get(code, {code}) for code in grids))
