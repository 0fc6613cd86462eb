"""Grid redraw: fair, compact, contiguous grids with the fewest changes (`redraw(twin, params) -> Plan`)."""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import InvalidInput

from .apportion import from_target, huntington_hill
from .band import band_notes
from .codes import assign_codes
from .instance import building_loads, community_data, footprints
from .metrics import grid_polygons, plan_metrics
from .params import RedrawParams
from .plan import GRID_COLUMNS, Plan
from .solver import solve_community

log = logging.getLogger(__name__)

PARALLEL_MIN_BUILDINGS = 3000  # below this, worker processes cost more than they save

__all__ = ["RedrawParams", "Plan", "redraw", "prepare", "grid_counts"]


def redraw(twin, params: RedrawParams | dict | None = None, progress=None, roads=None, scheduler=None) -> Plan:
    """Redraw the grids of `twin` (all communities, or params.communities); `progress(fraction, message)` is
    called as communities finish; `roads` (WGS84 lines, or a twin layer "roads" when present) are barriers;
    with `scheduler` (a Dask distributed scheduler address) the communities are solved on its cluster.

    With params.frontier (keep values), every community is also solved at each of those keep values in the same
    worker pool; the plan of params.keep is returned, with `variants` (keep → Plan) and `frontier` (households
    moved against mean Polsby-Popper at each keep)."""
    params = params if isinstance(params, RedrawParams) else RedrawParams.from_dict(params)
    t0 = time.perf_counter()
    report = progress or (lambda f, m="": None)
    report(0.0, "preparing")
    datas, counts = prepare(twin, params)
    locked = frozenset(params.locked)
    roads_m = _roads(twin, roads)
    keeps = params.keeps()
    base = [(d, footprints(twin, d.buildings), counts[d.community_id], _near(roads_m, d.polygon)) for d in datas]
    tasks = [(d, fp, k, replace(params, keep=kp), locked, r) for kp in keeps for d, fp, k, r in base]
    solving = lambda f, m: report(min(0.05 + 0.8 * f, 0.85), m)  # noqa: E731  (0.05 + 0.8 is 0.85000…01)
    results = _run_on(scheduler, tasks, solving) if scheduler else _run(tasks, params.workers, solving)
    plans, shared = {}, None
    for n, kp in enumerate(keeps):
        lo, hi = 0.85 + 0.15 * n / len(keeps), 0.85 + 0.15 * (n + 1) / len(keeps)
        part = results[n * len(datas) : (n + 1) * len(datas)]
        plans[kp] = assemble(
            twin, replace(params, keep=kp), part, lambda f, m, lo=lo, hi=hi: report(lo + (hi - lo) * f, m), shared
        )
        shared = (plans[kp].before, plans[kp].current)
    plan = plans[params.keep]
    plan.variants = plans
    plan.frontier = [frontier_point(kp, p, kp == params.keep) for kp, p in plans.items()] if len(keeps) > 1 else []
    plan.elapsed_s = time.perf_counter() - t0
    report(1.0, "done")
    log.info(
        "redraw: %d grids in %d communities in %.1f s, largest deviation %.1f%% (was %.1f%%)",
        plan.after.get("grids", 0),
        len(datas),
        plan.elapsed_s,
        plan.after.get("max_deviation_pct", 0),
        plan.before.get("max_deviation_pct", 0),
    )
    return plan


def frontier_point(keep: float, plan: Plan, chosen: bool) -> dict:
    """One point of the trade-off: households moved against mean Polsby-Popper, and whether the band holds."""
    a = plan.after
    return {
        "keep": keep,
        "moved_households": a.get("moved_households"),
        "moved_households_pct": a.get("moved_households_pct"),
        "pp_mean": a.get("pp_mean"),
        "max_deviation_pct": a.get("max_deviation_pct"),
        "in_band_share": a.get("in_band_share"),
        "band_holds": not any(n["kind"] == "band_not_held" for n in plan.notes),
        "chosen": chosen,
    }


def prepare(twin, params: RedrawParams):
    """(communities to redraw, {community id: grid count}) after checking the twin and the parameters."""
    for name in ("communities", "buildings"):
        if name not in twin.layers:
            raise InvalidInput(f"redraw needs the {name} layer, which is not loaded")
    load, households = building_loads(twin, params.weights)
    datas = [d for d in community_data(twin, params, load, households) if len(d.buildings)]
    if not datas:
        raise InvalidInput("no community to redraw has buildings")
    known = set(twin.frame("grids")["grid_code"]) if "grids" in twin.layers else set()
    unknown = sorted(set(params.locked) - known)
    if unknown:
        raise InvalidInput(f"locked grids do not exist: {', '.join(unknown)}", field="locked")
    return datas, grid_counts(datas, params)


def grid_counts(datas, params: RedrawParams) -> dict:
    """Grids per community: apportioned from params.grids, derived from params.target, or today's count."""
    loads = {d.community_id: float(d.load.sum()) for d in datas}
    units = {d.community_id: len(set(d.group)) for d in datas}
    lock = set(params.locked)
    locked = {d.community_id: len({c for c in d.current if c in lock}) for d in datas}
    # a community whose every building is in a locked grid keeps exactly those grids
    open_ = {d.community_id: any(c not in lock for c in d.current) for d in datas}
    minimum = {c: locked[c] + (1 if open_[c] else 0) for c in loads}
    maximum = {c: min(999, max(units[c], minimum[c])) if open_[c] else minimum[c] for c in loads}
    if params.grids is not None:
        return huntington_hill(loads, params.grids, minimum, maximum)
    if params.target is not None:
        return from_target(loads, params.target, minimum, maximum)
    return {
        d.community_id: min(
            max(len({c for c in d.current if c is not None}), minimum[d.community_id]), maximum[d.community_id]
        )
        for d in datas
    }


def assemble(twin, params: RedrawParams, results, report=None, before=None) -> Plan:
    """Codes, polygons and metrics of the solved communities, and today's plan measured on the same cells (or
    `before`, (summary, grids), when another variant of the same run has measured it already)."""
    report = report or (lambda f, m="": None)
    datas = [d for d, _ in results]
    b = twin.frame("buildings")
    new_codes, current, polys_after, polys_before, info = {}, {}, {}, {}, {}
    for n, (data, labels) in enumerate(results):
        report(0.6 * n / len(results), f"drawing {data.title()}")
        cid = data.community_id
        polys = grid_polygons(data.cells, labels)
        centres = {g: shapely.get_coordinates(shapely.centroid(p))[0] for g, p in polys.items()}
        codes = assign_codes(cid, labels, data.households, data.current, centres, data.polygon.area)
        new_codes[cid] = np.array([codes[g][0] for g in labels.tolist()], dtype=object)
        polys_after[cid] = {codes[g][0]: p for g, p in polys.items()}
        info.update({codes[g][0]: (codes[g][1], codes[g][2]) for g in polys})
        current[cid] = np.array([c if c is not None else "" for c in data.current], dtype=object)
        if before is None:
            polys_before[cid] = grid_polygons(data.cells, current[cid])
    report(0.6, "measuring")
    after, grids_after = plan_metrics(datas, new_codes, params.band, current, polys_after)
    notes = [n for d in datas for n in band_notes(d, grids_after, params.band, frozenset(params.locked))]
    grids = _frame(twin, grids_after, polys_after)
    grids["previous_code"] = [info[c][0] for c in grids["grid_code"]]
    grids["kept_code"] = [info[c][1] for c in grids["grid_code"]]
    if before is None:
        before, grids_before = plan_metrics(datas, current, params.band, current, polys_before)
        cur = _frame(twin, grids_before, polys_before)
        cur["previous_code"], cur["kept_code"] = cur["grid_code"], True
        cur = cur[list(GRID_COLUMNS) + ["geometry"]]
    else:
        before, cur = before
    report(1.0, "measuring")
    assignment = pd.DataFrame(
        {
            "building_id": np.concatenate([b["building_id"].to_numpy()[d.buildings] for d in datas]),
            "community_id": np.concatenate([[d.community_id] * len(d.buildings) for d in datas]),
            "grid_code": np.concatenate([new_codes[d.community_id] for d in datas]),
            "previous_code": np.concatenate([d.current for d in datas]),
            "households": np.concatenate([d.households for d in datas]).round().astype(int),
        }
    )
    return Plan(
        grids=grids[list(GRID_COLUMNS) + ["geometry"]],
        assignment=assignment,
        before=before,
        after=after,
        current=cur,
        params=params.to_dict(),
        notes=notes,
    )


def _frame(twin, grids: pd.DataFrame, polys_by_comm: dict) -> gpd.GeoDataFrame:
    geoms = [polys_by_comm[c][g] for c, g in zip(grids["community_id"], grids["label"])]
    frame = grids.rename(columns={"label": "grid_code"})
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(twin.crs.to_wgs84(np.asarray(geoms, dtype=object)), crs="EPSG:4326")
    )


def _roads(twin, roads):
    if roads is not None:
        return twin.crs.to_metric(np.asarray(shapely.get_parts(np.atleast_1d(roads)), dtype=object))
    if "roads" in twin.layers:
        return twin.layer("roads").index.metric
    return None


def _near(roads_m, polygon):
    if roads_m is None or not len(roads_m):
        return None
    hit = shapely.STRtree(roads_m).query(polygon, predicate="intersects")
    return roads_m[hit] if len(hit) else None


def _run_on(scheduler: str, tasks, report):
    """Solve every community as one task each on a Dask distributed cluster; results in task order."""
    from distributed import Client
    from distributed import as_completed as finished

    sizes = np.array([len(t[0].buildings) for t in tasks], float)
    total, done = max(sizes.sum(), 1.0), 0.0
    results = [None] * len(tasks)
    with Client(scheduler, set_as_default=False) as client:
        order = sorted(range(len(tasks)), key=lambda i: -sizes[i])  # the largest first, as the local pool does
        futures = {client.submit(solve_community, *tasks[i], pure=False): i for i in order}
        for fut in finished(list(futures), loop=client.loop):
            i = futures[fut]
            results[i] = fut.result()
            done += sizes[i]
            report(done / total, f"community {tasks[i][0].title()}")
    return results


def _run(tasks, workers: int, report):
    """Solve every community, in worker processes when it pays; results in task order."""
    sizes = np.array([len(t[0].buildings) for t in tasks], float)
    total = sizes.sum()
    results = [None] * len(tasks)
    if workers > 1 and len(tasks) > 1 and total >= PARALLEL_MIN_BUILDINGS:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
            futures = {
                pool.submit(solve_community, *t): i for i, t in sorted(enumerate(tasks), key=lambda x: -sizes[x[0]])
            }
            done = 0.0
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                done += sizes[i]
                report(done / total, f"community {tasks[i][0].title()}")
        return results
    done = 0.0
    for i, t in enumerate(tasks):
        base = done

        def sub(frac, base=base, size=sizes[i], name=t[0].title()):
            report((base + frac * size) / total, f"community {name}")

        results[i] = solve_community(*t, progress=sub)
        done += sizes[i]
        sub(1.0)  # a community solved without steps (one grid) is named too
    return results
