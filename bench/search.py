"""Bench: GET /api/search on the district (`twin demo --preset district`), index against a scan of the frames.

    twin demo --preset district --out /tmp/district
    nice -n 10 python -m bench.search --data /tmp/district          # 600 seeded queries

Queries (seeded, mixed): compound and community names and their first two characters, pinyin initials, a
compound + building number, 15-digit grid codes, incident numbers, household rooms ("3-2-501") as staff of one
grid and as admin. Reported per query, median and p95 in ms:
- index:  twin.search.SearchIndex.search (what the API calls), as the public, as staff of one grid, as admin
- http:   the same through the Flask test client (routing, role, JSON), as staff of one grid
- scan:   the baseline a naive search would be: str.contains over the name columns of every frame per query
The index build time (once at start-up) is printed too.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time

import numpy as np

from bench.common import clock, stats_ms, table


def queries(twin, ix, n: int, seed: int) -> list[tuple[str, str]]:
    """`n` seeded (kind, query) pairs of every kind people type."""
    rng = random.Random(seed)
    comp = twin.frame("compounds")["name"].dropna().tolist()
    comm = twin.frame("communities")["name"].dropna().tolist()
    grids = twin.frame("grids")["grid_code"].tolist()
    rooms = [ix.room_label(p) for p in rng.sample(range(len(twin.frame("households"))), 200)]
    incidents = twin.incidents.frame()["incident_id"].sample(200, random_state=seed).tolist()
    from twin.search import initials

    ini = initials(comp)
    makers = [
        ("compound name", lambda: rng.choice(comp)),
        ("two characters", lambda: rng.choice(comp)[:2]),
        ("initials", lambda: ini[rng.choice(comp)]),
        ("3 initials", lambda: ini[rng.choice(comp)][:3]),
        ("compound + building", lambda: rng.choice(comp) + f"{rng.randint(1, 12)}号楼"),
        ("community", lambda: rng.choice(comm)),
        ("grid code", lambda: rng.choice(grids)),
        ("incident number", lambda: rng.choice(incidents)),
        ("room", lambda: rng.choice(rooms)),
    ]
    out = []
    for _ in range(n):
        kind, make = rng.choice(makers)
        out.append((kind, make()))
    return out


def scan(twin, q: str) -> int:
    """The baseline: look for `q` in every name and code column of every frame."""
    hits = 0
    for layer, cols in (
        ("communities", ("name", "community_id")),
        ("compounds", ("name", "compound_id")),
        ("grids", ("name", "grid_code")),
        ("buildings", ("name", "building_id")),
        ("households", ("room",)),
    ):
        f = twin.frame(layer)
        for c in cols:
            hits += int(f[c].astype(str).str.contains(q, regex=False).sum())
    return hits


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a data directory written by `twin demo --preset district`")
    ap.add_argument("--queries", type=int, default=600)
    ap.add_argument("--scan-queries", type=int, default=30, help="queries timed for the (slow) scan baseline")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--state", help="state directory to keep between runs (the first run imports the incidents)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from twin.access import PUBLIC, Principal
    from web import create_app

    state = args.state or tempfile.mkdtemp(prefix="bench-search-")
    t = time.perf_counter()
    app = create_app({"DATA_DIR": args.data, "STATE_DIR": state, "TESTING": True})
    twin = app.extensions["twin"]
    grid = str(twin.frame("grids")["grid_code"].iloc[0])
    print(f"app with twin and index in {time.perf_counter() - t:.1f} s")
    from twin.search import SearchIndex

    t = time.perf_counter()
    ix = SearchIndex(twin)
    build = time.perf_counter() - t
    kinds, qs = zip(*queries(twin, ix, args.queries, args.seed))
    staff = Principal("staff", frozenset([grid]), "bench")
    admin = Principal("admin")
    rows, by_kind = [], {}
    for who, p in (("public", PUBLIC), ("staff, 1 grid", staff), ("admin", admin)):
        secs, res = clock(lambda q, p=p: ix.search(q, p), qs)
        s = stats_ms(secs)
        rows.append(("index", who, len(qs), s["median"], s["p95"], float(np.mean([len(r) > 0 for r in res]))))
        if who == "admin":
            for k in dict.fromkeys(kinds):
                sel = [t for t, kk in zip(secs, kinds) if kk == k]
                by_kind[k] = (len(sel), *stats_ms(sel).values())
    # the HTTP path as staff of one grid: the principal is set the way web.auth sets it
    from web import auth

    app.extensions["tokens"] = {auth.token_digest("bench"): staff}
    client = app.test_client()
    secs, res = clock(
        lambda q: json.loads(
            client.get("/api/search", query_string={"q": q}, headers={"Authorization": "Bearer bench"}).data
        ),
        qs,
    )
    s = stats_ms(secs)
    rows.append(
        ("http", "staff, 1 grid", len(qs), s["median"], s["p95"], float(np.mean([bool(r["results"]) for r in res])))
    )
    scan_qs = qs[: args.scan_queries]
    secs, _ = clock(lambda q: scan(twin, q), scan_qs)
    s = stats_ms(secs)
    rows.append(("scan", "-", len(scan_qs), s["median"], s["p95"], float("nan")))
    print(
        f"district: {len(twin.frame('buildings')):,} buildings, {len(twin.frame('households')):,} households, "
        f"{len(twin.incidents):,} incidents; index built in {build:.1f} s ({len(ix.entries):,} entries)"
    )
    print(table(("method", "caller", "queries", "median ms", "p95 ms", "share with hits"), rows))
    print(f"scan/index median ratio (public): {rows[4][3] / rows[0][3]:,.0f}x")
    print("index as admin, by kind of query:")
    print(table(("kind", "queries", "median ms", "p95 ms", "mean ms"), [(k, *v) for k, v in by_kind.items()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
