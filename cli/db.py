"""`twin db init` and `twin db load DIR`: create the PostgreSQL + PostGIS tables and move a data directory in."""

from __future__ import annotations

import logging
import time

from twin.errors import InvalidInput

log = logging.getLogger(__name__)


def register(sub) -> None:
    """Add `twin db init` and `twin db load DIR`."""
    p = sub.add_parser(
        "db",
        help="create and fill the PostgreSQL database named by DATABASE_URL",
        description="Create the tables in the database named by TWIN_DATABASE_URL and load data directories into it.",
    )
    p.add_argument("--url", default=None, help="database URL (default: TWIN_DATABASE_URL)")
    p.add_argument("--office", default=None, help="street office id of the rows (default: TWIN_OFFICE)")
    steps = p.add_subparsers(dest="step", required=True, metavar="STEP")
    steps.add_parser("init", help="create the PostGIS extension and every table (idempotent)")
    load = steps.add_parser("load", help="load a data directory (idempotent: loaded layers are skipped)")
    load.add_argument("dir", help="data directory (as `twin demo --out` or `twin import` writes it)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Create the tables, then (load) copy every static layer and import the incidents."""
    from layers import REGISTRY
    from twin import settings
    from twin.postgres.load import init_db
    from twin.postgres.static import connect_pool

    cfg = settings.load({k: v for k, v in (("DATABASE_URL", args.url), ("OFFICE", args.office)) if v})
    if not cfg["DATABASE_URL"]:
        raise InvalidInput("no database: set TWIN_DATABASE_URL=postgresql://... or pass --url")
    pool = connect_pool(cfg["DATABASE_URL"])
    try:
        init_db(pool, REGISTRY.values())
        if args.step == "init":
            print(f"tables ready in {_safe(cfg['DATABASE_URL'])}")
            return 0
        return load_dir(pool, cfg, args.dir, REGISTRY)
    finally:
        pool.close()


def load_dir(pool, cfg, data_dir, kinds) -> int:
    """Every static layer (skipping those already loaded with the same content), then the incidents file once."""
    from tqdm import tqdm

    from twin.core import Twin
    from twin.incidents.seed import import_seed
    from twin.postgres.load import load_layer, loaded_version
    from twin.postgres.static import PostgresStore
    from twin.store import FileStore

    office = cfg["OFFICE"]
    files = FileStore(data_dir)
    t0 = time.perf_counter()
    for kind in (k for k in kinds.values() if not k.live):
        version = files.layer_version(kind)
        with pool.connection() as conn:
            done = loaded_version(conn, office, kind) == version
        if done:
            print(f"{kind.name}: already loaded")
            continue
        frame = files.read_layer(kind)
        with tqdm(total=len(frame), desc=kind.name, unit="row", unit_scale=True) as bar:
            load_layer(pool, office, kind, frame, version, progress=bar)
    store = PostgresStore(cfg["DATABASE_URL"], office=office, pool=pool)
    seed = files.path_of(kinds["incidents"]) if "incidents" in kinds else None
    if seed is not None:
        live = store.open_live()
        if live.count() or live.meta("seeded_from"):
            print("incidents: already loaded")
        else:
            twin = Twin.open(kinds=kinds, store=store, live=False)
            n = import_seed(twin, live, seed)
            print(f"incidents: {n:,} loaded")
    print(
        f"loaded {data_dir} into {_safe(cfg['DATABASE_URL'])} (office {office!r}) in {time.perf_counter() - t0:.1f} s"
    )
    return 0


def _safe(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return url.replace(parts.password, "***") if parts.password else url
