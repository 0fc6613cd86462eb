"""Bench: area (polygon) queries on the 50,000-building district, indexed vs brute force, STRtree vs rtree.

    python -m bench.query                    # 500 seeded polygons, 100–800 m across
    python -m bench.query --queries 200 --size 300

Methods, all answering "which buildings intersect (or lie within) this polygon?" with the same positions:
- twin:   the StaticIndex behind Twin.query_polygon (shapely STRtree query with the predicate in C), positions
- rtree:  an rtree index over the same envelopes (stream-loaded), then shapely's vectorised predicate on candidates
- brute:  shapely's vectorised predicate over every building (the polygon prepared once per query), no index

Reports median/p95 per query and the ratios brute/twin and rtree/twin measured in this run, plus build times.
"""

from __future__ import annotations

import argparse
import logging
import math
import time

import numpy as np
import shapely
from rtree import index as rtree_index

from bench.common import clock, district_twin, stats_ms, table

M_PER_DEG_LAT = 111_320.0


def polygons(bounds, n: int, size_m: tuple[float, float], seed: int) -> list:
    """`n` seeded irregular star-shaped polygons (8–16 vertices, `size_m` across) with centres inside `bounds`."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    kx = M_PER_DEG_LAT * math.cos(math.radians((y0 + y1) / 2))
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        k = int(rng.integers(8, 17))
        ang = (np.arange(k) + rng.uniform(0, 0.8, k)) * 2 * np.pi / k  # increasing, gaps < π: simple
        r = rng.uniform(*size_m) / 2 * rng.uniform(0.55, 1.0, k)
        out.append(shapely.Polygon(np.column_stack((cx + r * np.cos(ang) / kx, cy + r * np.sin(ang) / M_PER_DEG_LAT))))
    return out


def rtree_of(geoms) -> rtree_index.Index:
    """An rtree over the geometries' envelopes, stream-loaded in one pass."""
    b = shapely.bounds(geoms)
    return rtree_index.Index((np.arange(len(geoms), dtype=np.int64), b[:, :2].copy(), b[:, 2:].copy()))


def insert_us(tree: rtree_index.Index, geoms, n: int = 2000) -> float:
    """Mean microseconds of one rtree insertion (points near existing buildings, new ids)."""
    c = shapely.get_coordinates(shapely.centroid(geoms[:n]))
    t = time.perf_counter()
    for i, (x, y) in enumerate(c):
        tree.insert(len(geoms) + i, (x, y, x, y))
    return (time.perf_counter() - t) / len(c) * 1e6


def methods(twin, geoms, tree: rtree_index.Index, predicate: str) -> dict:
    """The three ways of answering one query, each returning ascending positions."""
    op = shapely.intersects if predicate == "intersects" else shapely.within

    index = twin.layer("buildings").index
    indexed = index.intersects if predicate == "intersects" else index.within

    def with_rtree(poly):
        cand = np.sort(np.fromiter(tree.intersection(poly.bounds), dtype=np.int64))
        shapely.prepare(poly)
        return cand[op(geoms[cand], poly)] if len(cand) else cand

    def brute(poly):
        shapely.prepare(poly)
        return np.flatnonzero(op(geoms, poly))

    return {"twin (STRtree)": indexed, "rtree + predicate": with_rtree, "brute force": brute}


def main(argv=None) -> dict:
    """Build the district twin, run the queries with every method, check they agree, print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=500, help="polygons per method and predicate (default 500)")
    p.add_argument(
        "--size",
        type=float,
        nargs=2,
        default=(100.0, 800.0),
        metavar=("MIN", "MAX"),
        help="polygon size across in metres (default 100 800)",
    )
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    t0 = time.perf_counter()
    twin = district_twin(args.seed)
    geoms = twin.layer("buildings").index.geoms
    print(f"district twin: {len(geoms):,} buildings, generated and indexed in {time.perf_counter() - t0:.0f} s")
    t = time.perf_counter()
    shapely.STRtree(geoms)
    build_str = time.perf_counter() - t
    t = time.perf_counter()
    tree = rtree_of(geoms)
    build_rtree = time.perf_counter() - t

    bounds = twin.frame("communities").total_bounds
    polys = polygons(bounds, args.queries, tuple(args.size), args.seed)
    rows, results, sizes = [], {}, []
    for predicate in ("intersects", "within"):
        ways = methods(twin, geoms, tree, predicate)
        for f in ways.values():  # warm-up on other polygons
            clock(f, polygons(bounds, 20, tuple(args.size), args.seed + 1))
        answers = {}
        for name, f in ways.items():
            secs, answers[name] = clock(f, polys)
            results[(predicate, name)] = stats_ms(secs)
        ref = answers["brute force"]
        for name, got in answers.items():  # every method must give the very same positions
            assert all(np.array_equal(a, b) for a, b in zip(got, ref)), f"{name} ({predicate}) disagrees"
        hits = np.array([len(a) for a in ref])
        base = results[(predicate, "twin (STRtree)")]["median"]
        for name in ways:
            r = results[(predicate, name)]
            rows.append([predicate, name, r["median"], r["p95"], r["median"] / base])
        sizes.append(f"{predicate}: median {np.median(hits):.0f}, max {hits.max()}")
    print(f"{args.queries} polygons {args.size[0]:.0f}–{args.size[1]:.0f} m across, all answers checked equal")
    print(table(["predicate", "method", "median ms", "p95 ms", "x twin"], rows))
    print(f"buildings per answer: {'; '.join(sizes)}")
    print(
        f"index build over {len(geoms):,} envelopes: STRtree {build_str * 1000:.0f} ms, "
        f"rtree (stream) {build_rtree * 1000:.0f} ms"
    )
    print(
        f"one live insertion: rtree {insert_us(tree, geoms):.0f} µs; an STRtree cannot insert, it is rebuilt "
        f"({build_str * 1000:.0f} ms)"
    )
    b, s = results[("intersects", "brute force")], results[("intersects", "twin (STRtree)")]
    print(f"ratio brute/indexed (intersects, median): x{b['median'] / s['median']:.0f}")
    return results


if __name__ == "__main__":
    main()
