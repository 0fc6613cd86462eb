"""Grid redraw bench: this project's redraw against PySAL spopt (Region-KMeans, SKATER, max-p with a load floor) and
GerryChain ReCom started from today's plan, on the same instance and tessellation, in one run.

    python bench/redraw.py --instance demo            # the demo street (data/demo)
    python bench/redraw.py --instance demo --methods region_kmeans recom   # the frontier beside those two
    python bench/redraw.py --instance district --grids-total 500   # 10,000 buildings in 20 communities, 500 grids
    python bench/redraw.py --instance synthetic --buildings 500 --communities 4 --grids 40

Every method gets the same communities, grid counts, cells and shared-edge graph; Polsby-Popper is computed on
the union of the same cells for every method. Times: ours is the whole `redraw()` call (tessellation included);
the others are timed on the prepared graph only. Every method runs its communities across the same `--workers`
processes. The generated district's today's plan is `--today drifted` (balanced grids of some years ago, since
out of band by drift; the default) or `--today strips` (a stress test: uneven strips, most of it must be re-cut).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import TODAY  # noqa: E402
from twin.redraw import RedrawParams, prepare, redraw  # noqa: E402
from twin.redraw.instance import footprints  # noqa: E402
from twin.redraw.metrics import plan_metrics  # noqa: E402
from twin.redraw.solver import start  # noqa: E402

log = logging.getLogger("bench.redraw")
RECOM_ATTEMPTS = 1000
COLUMNS = (
    "time_s",
    "max_deviation_pct",
    "in_band_share",
    "pp_mean",
    "pp_min",
    "moved_households_pct",
    "grids",
    "contiguous",
)


def load_instance(name: str, args):
    """The twin to bench on."""
    if name == "demo":
        from layers import open_twin

        return open_twin(None, state_dir=tempfile.mkdtemp(prefix="bench-redraw-"), live=False)
    if name == "district":  # 20 square communities of args.buildings/20 buildings, today's args.grids grids
        return _synthetic(args, communities=20, buildings=args.buildings // 20, grids=args.grids)
    return _synthetic(
        args, communities=args.communities, buildings=args.buildings // args.communities, grids=args.grids
    )


def _synthetic(args, **kw):
    from bench.synthetic import twin

    return twin(seed=args.seed, today=args.today, **kw)


def prepared(twin, params):
    """Communities (tessellated) and grid counts, as every method sees them."""
    datas, counts = prepare(twin, params)
    for d in datas:
        d.prepare(footprints(twin, d.buildings))
    return datas, counts


def per_community(fn, datas, counts, workers: int, *args) -> dict:
    """Building labels per community from `fn(data, k, *args)`, run across `workers` processes (as ours is)."""
    jobs = [(d, counts[d.community_id]) for d in datas]
    if workers <= 1:
        return {d.community_id: fn(d, k, *args) for d, k in jobs}
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        futures = {d.community_id: pool.submit(fn, d, k, *args) for d, k in jobs}
        return {cid: f.result() for cid, f in futures.items()}


def spopt_community(d, k: int, method: str, band: float, seed: int, maxp_iterations=(10, 2)) -> np.ndarray:
    """Building labels of one community from one spopt regionaliser (coordinates as attributes)."""
    import geopandas as gpd
    import pandas as pd
    import spopt.region as sr
    from libpysal.weights import W

    warnings.filterwarnings("ignore")
    g = d.graph
    n = g.n
    if k <= 1:
        return np.zeros(n, int)
    neigh = {i: g.neighbours(i).tolist() for i in range(n)}
    w = W(neigh, silence_warnings=True)
    xy = (g.xy - g.xy.mean(axis=0)) / max(g.xy.std(), 1e-9)
    gdf = gpd.GeoDataFrame(
        pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "load": d.load}), geometry=gpd.GeoSeries(d.cells)
    )
    if method == "region_kmeans":
        m = sr.RegionKMeansHeuristic(xy, k, w, seed=seed)
    elif method == "skater":
        m = sr.Skater(gdf, w, ["x", "y"], n_clusters=k)
    elif method == "maxp":
        floor = (1 - band) * d.load.sum() / k
        m = sr.MaxPHeuristic(
            gdf,
            w,
            ["x", "y"],
            "load",
            floor,
            top_n=2,
            max_iterations_construction=maxp_iterations[0],
            max_iterations_sa=maxp_iterations[1],
        )
    else:
        raise ValueError(method)
    m.solve()
    return np.asarray(m.labels_)


def recom_community(d, k: int, params, steps: int, seed: int) -> np.ndarray:
    """Building labels of one community after `steps` ReCom steps from today's plan (the start our search uses).
    Pair reselection is on: after RECOM_ATTEMPTS spanning trees without a balanced cut (where GerryChain would
    warn) the pair is given up for another, as GerryChain's warning advises."""
    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.accept import always_accept
    from gerrychain.constraints import within_percent_of_ideal_population
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    warnings.filterwarnings("ignore")
    problem, unit_of = start(d, k, params, frozenset())
    if k <= 1:
        return problem.labels[unit_of]
    g = problem.graph
    nxg = nx.Graph()
    for i in range(g.n):
        nxg.add_node(i, load=float(problem.load[i]))
    i, j, _ = g.edges()
    nxg.add_edges_from(zip(i.tolist(), j.tolist()))
    graph = Graph.from_networkx(nxg)
    init = Partition(
        graph,
        {v: int(problem.labels[v]) for v in range(g.n)},
        updaters={"population": Tally("load", alias="population")},
    )
    ideal = problem.load.sum() / k
    dev0 = max(abs(p - ideal) / ideal for p in init["population"].values())
    proposal = partial(
        recom,
        pop_col="load",
        pop_target=ideal,
        epsilon=params.band,
        node_repeats=0,
        bipartition_tree_fn=partial(bipartition_tree, allow_pair_reselection=True, max_attempts=RECOM_ATTEMPTS),
    )
    constraint = within_percent_of_ideal_population(init, max(params.band, dev0 + 1e-6))
    chain = MarkovChain(proposal, [constraint], always_accept, init, total_steps=steps, rng=seed)
    last = init
    try:
        for last in chain:
            pass
    except Exception as exc:  # ReCom gives up when no pair has a balanced cut; keep its last plan and say so
        log.warning("ReCom stopped in community %s: %s", d.community_id, exc)
    lab = np.array([last.assignment[v] for v in range(g.n)])
    return lab[unit_of]


def measure(datas, labels, band) -> dict:
    """The bench figures of a plan given per-community building labels."""
    current = {d.community_id: np.array([c if c is not None else "" for c in d.current], dtype=object) for d in datas}
    summary, _ = plan_metrics(datas, labels, band, current)
    return summary


def bench(instance: str, args) -> list[dict]:
    """All methods on one instance; rows of figures."""
    t0 = time.perf_counter()
    twin = load_instance(instance, args)
    nb = len(twin.frame("buildings"))
    log.info("%s: %d buildings loaded in %.1f s", instance, nb, time.perf_counter() - t0)
    base = dict(band=args.band, seed=args.seed, workers=args.workers, effort=args.effort)
    if args.grids_total:
        base["grids"] = args.grids_total
    rows = []
    datas, counts = prepared(twin, RedrawParams(**base))
    cur = {d.community_id: np.array([c if c is not None else "" for c in d.current], dtype=object) for d in datas}
    rows.append({"method": "current plan", "time_s": None, **measure(datas, cur, args.band)})
    t = time.perf_counter()  # the trade-off: every keep value solved in one run, in the same worker pool
    plan = redraw(twin, RedrawParams(**base, keep=args.frontier[0], frontier=tuple(args.frontier)))
    elapsed = round(time.perf_counter() - t, 2)
    for n, (keep, variant) in enumerate(sorted(plan.variants.items())):
        rows.append(
            {
                "method": f"twin redraw keep={keep:g}"
                + (f" (frontier of {len(plan.variants)}, one run)" if not n else ""),
                "time_s": elapsed if not n else None,
                **variant.after,
            }
        )
        log.info("%s", rows[-1])
    for method in args.methods:
        t = time.perf_counter()
        try:
            if method == "recom":
                labels = per_community(
                    recom_community, datas, counts, args.workers, RedrawParams(**base), args.recom_steps, args.seed
                )
                name = f"GerryChain ReCom from current, {args.recom_steps} steps/community"
            else:
                name = f"spopt {method}"
                labels = per_community(
                    spopt_community, datas, counts, args.workers, method, args.band, args.seed, args.maxp_iterations
                )
                if method == "maxp":
                    name += f" ({args.maxp_iterations[0]} constructions, {args.maxp_iterations[1]} annealings)"
        except Exception as exc:
            rows.append({"method": method, "error": f"{type(exc).__name__}: {exc}"})
            log.warning("%s failed: %s", method, exc)
            continue
        rows.append({"method": name, "time_s": round(time.perf_counter() - t, 2), **measure(datas, labels, args.band)})
        log.info("%s", rows[-1])
    for r in rows:
        r["instance"], r["buildings"] = instance, nb
    return rows


def table(rows) -> str:
    """A Markdown table of the rows."""
    head = "| instance | method | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['instance']} | {r['method']} | failed: {r['error']} |")
            continue
        lines.append(f"| {r['instance']} | {r['method']} | " + " | ".join(str(r.get(c, "")) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run the bench and print the table (and write JSON with --out)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--instance", action="append", choices=("demo", "district", "synthetic"))
    p.add_argument("--buildings", type=int, default=10_000)
    p.add_argument("--communities", type=int, default=4)
    p.add_argument("--grids", type=int, default=500, help="grids of today's plan in a generated instance")
    p.add_argument("--today", choices=TODAY, default=TODAY[0], help="today's plan of a generated instance")
    p.add_argument("--grids-total", type=int, default=None, help="grids of the redraw (default: today's count)")
    p.add_argument("--band", type=float, default=0.10)
    p.add_argument(
        "--frontier", type=float, nargs="+", default=[0.0, 0.3, 0.6, 0.9], help="keep values solved in one run"
    )
    p.add_argument("--effort", type=int, default=60)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--maxp-iterations",
        type=int,
        nargs=2,
        default=[10, 2],
        metavar=("CONSTRUCTIONS", "ANNEALINGS"),
        help="spopt max-p effort (its cost grows fast with community size)",
    )
    p.add_argument("--recom-steps", type=int, default=300)
    p.add_argument("--methods", nargs="*", default=["region_kmeans", "skater", "maxp", "recom"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore")
    rows = []
    for inst in args.instance or ["demo"]:
        rows.extend(bench(inst, args))
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
