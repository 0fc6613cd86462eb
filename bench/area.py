"""Bench: 1,000 random area queries on the 50,000-building district, twin.area.query vs a brute-force geopandas
computation of the same figures (twin.area_check: every building and compound tested, no index), in one run.

    python -m bench.area                     # 1,000 areas, both straddle rules, brute force on every one
    python -m bench.area --queries 200 --brute 50 --incidents 100000 --anchor 300

The twin carries `--incidents` generated incidents (default 100,000) in a SQLite store, so every answer includes
its incident figures. When PostgreSQL + PostGIS are installed, the first `--anchor` areas are also answered by one
PostGIS query each (count and household sum of the intersecting buildings, count of the incidents inside, on GiST
indexes) in a throw-away cluster (bench/postgis.py), and the ratio twin / PostGIS of the medians is printed. The two
take turns by blocks of BLOCK areas (a block by the twin, the same block by PostGIS), so changing load on a shared
machine weighs on both alike while each side runs its queries back to back, as a busy server does (one by one,
every PostGIS query would also pay for waking the server process).

The areas (seeded): 70% irregular polygons 100–800 m across (bench.query.polygons), 10% grids, 10% compounds,
10% discs of 100–800 m around a building; the rule alternates centroid / area. Both sides get what loading costs
once (the twin's indexes and area index; the brute force's projected frames) outside the timings. The indexed
query computes more than the brute force (incidents, risk, the decade mix) and is still timed whole.
Every answer is checked: the same buildings, and counts, floor area, people, property states and compound
shares equal within rounding. Reports median / p95 / mean per query and the ratios brute / indexed.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from bench.common import clock, district_twin, stats_ms, table
from bench.postgis import postgis_cluster
from bench.query import polygons

log = logging.getLogger(__name__)

BLOCK = 25  # areas per turn when the twin and the PostGIS anchor take turns


def areas(twin, n: int, seed: int) -> list:
    """`n` seeded areas of every kind (see the module docstring), as twin.area_input.Area objects."""
    from twin import area_input as ai

    rng = np.random.default_rng(seed)
    kinds = rng.choice(["polygon", "grid", "compound", "point"], size=n, p=[0.7, 0.1, 0.1, 0.1])
    polys = iter(polygons(twin.boundary.bounds, int((kinds == "polygon").sum()), (100.0, 800.0), seed))
    grids = twin.frame("grids")["grid_code"].to_numpy()
    compounds = twin.frame("compounds")["compound_id"].to_numpy()
    points = shapely.get_coordinates(shapely.point_on_surface(twin.frame("buildings").geometry.values))
    out = []
    for kind in kinds:
        if kind == "polygon":
            out.append(ai.from_geojson(twin, json.loads(shapely.to_geojson(next(polys)))))
        elif kind == "grid":
            out.append(ai.from_id(twin, "grid", grids[rng.integers(len(grids))]))
        elif kind == "compound":
            out.append(ai.from_id(twin, "compound", compounds[rng.integers(len(compounds))]))
        else:
            x, y = points[rng.integers(len(points))]
            out.append(ai.from_point(twin, x, y, rng.uniform(50, 400)))
    return out


def disagreement(ans, ref, ids) -> str | None:
    """Why the indexed answer differs from the brute-force one (None when they agree)."""
    s = ans.summary
    if sorted(ids) != ref["building_ids"]:
        return "buildings"
    checks = [
        (s["buildings"]["count"], ref["buildings"], 1e-3),
        (s["buildings"]["floor_area_m2"], ref["floor_area_m2"], 0.5 + 1e-6 * ref["floor_area_m2"]),
    ]
    checks += [(s["people"][k], v, 1e-3) for k, v in ref["people"].items()]
    got_states = {k: v["buildings"] for k, v in s["property_states"].items()}
    checks += [(got_states.get(k, 0), v, 1e-3) for k, v in ref["property_states"].items()]
    shares = {c["compound_id"]: c["share"] for c in ans.compounds}
    if set(shares) != set(ref["compounds"]):
        return "compounds"
    checks += [(shares[k], v, 1e-4) for k, v in ref["compounds"].items()]
    bad = [f"{g} != {w}" for g, w, tol in checks if abs(g - w) > tol]
    return bad[0] if bad else None


def main(argv=None) -> dict:
    """Build the district twin, time the indexed and brute-force answers of the same areas, check they agree."""
    from twin import area as ar
    from twin.area_check import brute_force, prepare

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=1000, help="areas queried by the twin (default 1000)")
    p.add_argument(
        "--brute", type=int, default=None, help="of those, how many the brute force answers too (default all)"
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--incidents", type=int, default=100_000, help="incidents in the twin (default 100,000)")
    p.add_argument("--anchor", type=int, default=300, help="areas the PostGIS anchor answers too (default 300)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    tmp = tempfile.TemporaryDirectory(prefix="twin-bench-area-")
    t0 = time.perf_counter()
    twin = district_twin(args.seed, households=True, incidents=args.incidents, state=tmp.name)
    n_b, n_h = len(twin.frame("buildings")), len(twin.frame("households"))
    n_i = len(twin.incidents) if twin.incidents is not None else 0
    print(
        f"district twin: {n_b:,} buildings, {n_h:,} households, {n_i:,} incidents, generated and indexed in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    (index_s,), _ = clock(ar.area_index, [twin])
    (prepare_s,), (frames,) = clock(prepare, [twin])
    todo = areas(twin, args.queries, args.seed)
    rules = ["centroid" if i % 2 == 0 else "area" for i in range(len(todo))]
    wkbs = [shapely.to_wkb(a.geom) for a in todo[: args.anchor]]
    with postgis_cluster(Path(tmp.name)) as conn:
        anchor = load_anchor(conn, twin) if conn is not None and wkbs else None
        for i, (a, r) in enumerate(zip(todo[:10], rules)):  # warm-up (risk scores, caches, prepared statement)
            ar.query(twin, a, rule=r)
            if anchor is not None and i < len(wkbs):
                anchor(wkbs[i])
        ours, answers, pg = [], [], []
        for lo in tqdm(range(0, len(todo), BLOCK), desc="indexed (and PostGIS)", unit="block"):
            for a, r in zip(todo[lo : lo + BLOCK], rules[lo : lo + BLOCK]):
                t = time.perf_counter()
                answers.append(ar.query(twin, a, rule=r))
                ours.append(time.perf_counter() - t)
            for w in wkbs[lo : lo + BLOCK] if anchor is not None else ():
                t = time.perf_counter()
                anchor(w)
                pg.append(time.perf_counter() - t)
    ours = np.array(ours)
    n_brute = len(todo) if args.brute is None else min(args.brute, len(todo))
    brute, bad = [], []
    ids_all = twin.frame("buildings")["building_id"].to_numpy()
    for i in tqdm(range(n_brute), desc="brute force", unit="area"):
        t = time.perf_counter()
        ref = brute_force(twin, todo[i], rules[i], frames)
        brute.append(time.perf_counter() - t)
        why = disagreement(answers[i], ref, ids_all[answers[i].building_pos])
        if why:
            bad.append((i, todo[i].kind, rules[i], why))

    o, b = stats_ms(ours), stats_ms(brute)
    o_same = stats_ms(ours[:n_brute])
    hits = np.array([a.summary["buildings"]["count"] for a in answers], dtype=float)
    kinds = ", ".join(f"{k} {sum(a.kind == k for a in todo)}" for k in ("polygon", "grid", "compound", "point"))
    print(
        f"{len(todo):,} areas ({kinds}), "
        f"rules centroid/area alternating; buildings per answer: median {np.median(hits):.0f}, max {hits.max():.0f}"
    )
    print(
        table(
            ["method", "areas", "median ms", "p95 ms", "mean ms"],
            [
                ["twin.area.query (indexed)", len(ours), o["median"], o["p95"], o["mean"]],
                ["brute force (geopandas, no index)", n_brute, b["median"], b["p95"], b["mean"]],
            ],
        )
    )
    print(
        f"ratio brute / indexed on the same {n_brute:,} areas: median x{b['median'] / o_same['median']:.0f}, "
        f"p95 x{b['p95'] / o_same['p95']:.0f}"
    )
    print(
        f"one-off costs: area index {index_s * 1000:.0f} ms; brute force's projected frames {prepare_s * 1000:.0f} ms"
    )
    print(
        f"answers checked: {n_brute - len(bad):,} of {n_brute:,} agree"
        + ("" if not bad else f"; first disagreements: {bad[:5]}")
    )
    if wkbs and anchor is None:
        print("PostGIS anchor: PostgreSQL not found, skipped")
    anchor = anchor_report(np.array(pg), ours[: len(pg)], answers[: len(pg)]) if pg else None
    if twin.incidents is not None:
        twin.incidents.close()
    tmp.cleanup()
    return {"indexed": o, "brute": b, "disagree": len(bad), "postgis": anchor}


def load_anchor(conn, twin):
    """The twin's buildings (households, footprint) and incident points in PostGIS tables on GiST indexes; returns
    the anchor query: one area's WKB -> (buildings intersecting it, their households, incidents in it)."""
    b = twin.frame("buildings")
    conn.execute("CREATE TABLE buildings (households int, geom geometry(MultiPolygon, 4326))")
    conn.execute("CREATE TABLE incidents (geom geometry(Point, 4326))")
    hh = pd.to_numeric(b["households"], errors="coerce").fillna(0).astype(int).to_numpy()
    polys = shapely.set_srid(_multi(b.geometry.values), 4326)
    with conn.cursor().copy("COPY buildings (households, geom) FROM STDIN") as cp:
        for h, wkb in zip(hh.tolist(), shapely.to_wkb(polys, hex=True, include_srid=True).tolist()):
            cp.write_row((h, wkb))
    inc = twin.incidents.rows(np.arange(len(twin.incidents)), ("lon", "lat")) if twin.incidents else None
    if inc is not None and len(inc):
        pts = shapely.set_srid(shapely.points(inc["lon"].to_numpy(), inc["lat"].to_numpy()), 4326)
        with conn.cursor().copy("COPY incidents (geom) FROM STDIN") as cp:
            for wkb in shapely.to_wkb(pts, hex=True, include_srid=True).tolist():
                cp.write_row((wkb,))
    for t in ("buildings", "incidents"):
        conn.execute(f"CREATE INDEX ON {t} USING gist (geom)")
        conn.execute(f"ANALYZE {t}")
    sql = (
        "WITH a AS (SELECT ST_GeomFromWKB(%s, 4326) g) SELECT "
        "(SELECT count(*) FROM buildings, a WHERE ST_Intersects(geom, a.g)), "
        "(SELECT coalesce(sum(households), 0) FROM buildings, a WHERE ST_Intersects(geom, a.g)), "
        "(SELECT count(*) FROM incidents, a WHERE ST_Intersects(geom, a.g))"
    )
    return lambda wkb: conn.execute(sql, (wkb,), prepare=True).fetchone()


def anchor_report(pg, ours, answers) -> dict:
    """Print the PostGIS anchor's timings beside the twin's on the same areas, and the ratio of the medians."""
    p_ms, o_ms = stats_ms(pg), stats_ms(ours)
    inc = [a.summary["incidents"]["total"] for a in answers if a.summary.get("incidents")]
    print(
        f"PostGIS anchor on the same {len(pg):,} areas (count+sum of buildings, count of incidents, GiST; in turns "
        f"of {BLOCK} areas with the twin): median {p_ms['median']:.2f} ms, p95 {p_ms['p95']:.2f} ms; twin.area.query "
        f"(full answer, incidents {'median ' + str(int(np.median(inc))) if inc else 'none'} per area): median "
        f"{o_ms['median']:.2f} ms, p95 {o_ms['p95']:.2f} ms; ratio twin / PostGIS: median "
        f"x{o_ms['median'] / p_ms['median']:.2f}, p95 x{o_ms['p95'] / p_ms['p95']:.2f}"
    )
    return {"postgis": p_ms, "ours": o_ms}


def _multi(geoms):
    """Every polygon as a MultiPolygon (the column's one type)."""
    return np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms], dtype=object)


if __name__ == "__main__":
    main()
