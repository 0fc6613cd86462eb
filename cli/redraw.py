"""`twin redraw`: re-divide the grids (fair load, compact, contiguous, few changes) and write the plan."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from twin.errors import InvalidInput

log = logging.getLogger(__name__)


def register(sub) -> None:
    """Add `twin redraw --out plan.geojson [--grids N | --target-load 300] [--band 0.1] [--lock CODE ...] ...`."""
    p = sub.add_parser(
        "redraw",
        help="redraw the grids and write the plan as GeoJSON or GeoPackage",
        description="Redraw grids so every worker carries a fair load: contiguous, compact grids "
        "inside one community each, with the fewest changes from today's plan. Prints "
        "the metrics before and after.",
    )
    p.add_argument(
        "--out",
        required=True,
        help="plan file: .geojson (one feature per grid) or .gpkg (grids, current_grids, assignment)",
    )
    p.add_argument("--gpkg", help="also write a GeoPackage here")
    p.add_argument("--data", default=None, help="data directory (default: the DATA_DIR setting)")
    count = p.add_mutually_exclusive_group()
    count.add_argument(
        "--grids",
        type=int,
        help="total number of grids (apportioned to communities; default: today's count in each community)",
    )
    count.add_argument(
        "--target-load", "--target", dest="target", type=float, help="target load per grid worker, e.g. 300 households"
    )
    p.add_argument("--band", type=float, default=None, help="tolerance band as a fraction (default REDRAW_BAND, 0.1)")
    p.add_argument("--keep", type=float, default=0.3, help="0..1: how strongly to keep today's grids (default 0.3)")
    p.add_argument("--start", choices=("current", "fresh"), default="current", help="start plan (default current)")
    p.add_argument("--compactness", type=float, default=1.0, help="0..10: weight of compact shapes (default 1)")
    p.add_argument(
        "--lock",
        dest="locked",
        nargs="+",
        action="extend",
        default=[],
        metavar="CODE",
        help="grid codes that must not change (space- or comma-separated)",
    )
    p.add_argument("--communities", default="", help="comma-separated community ids to redraw (default all)")
    p.add_argument(
        "--unit",
        choices=("building", "compound"),
        default="building",
        help="smallest unit moved between grids (compound: never split a compound)",
    )
    p.add_argument(
        "--weights",
        default="households=1",
        help="load mix, e.g. households=1,population=0.5,special_care=0.5,incidents=0.2",
    )
    p.add_argument("--effort", type=int, default=60, help="search sweeps per building (1..2000, default 60)")
    p.add_argument("--workers", type=int, default=None, help="processes across communities (default REDRAW_WORKERS)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--json", action="store_true", help="print the before/after summary as JSON")
    p.set_defaults(func=run)


def parse_weights(text: str) -> dict:
    """{"households": 1.0, ...} from "households=1,population=0.5"."""
    out = {}
    for part in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value) if sep else 1.0
        except ValueError:
            raise InvalidInput(f"--weights: {part!r} is not name=number") from None
    return out


def run(args) -> int:
    """Load the twin, redraw with a progress bar, write the plan file(s), print the metrics before and after."""
    from tqdm import tqdm

    from layers import open_twin
    from twin import settings
    from twin.redraw import RedrawParams, redraw

    cfg = settings.load({"DATA_DIR": args.data} if args.data else None)
    weights = parse_weights(args.weights)
    params = RedrawParams(
        grids=args.grids,
        target=args.target,
        band=args.band if args.band is not None else cfg["REDRAW_BAND"],
        weights=weights,
        start=args.start,
        keep=args.keep,
        compactness=args.compactness,
        locked=tuple(c for item in args.locked for c in item.split(",") if c),
        unit=args.unit,
        communities=tuple(filter(None, args.communities.split(","))),
        effort=args.effort,
        workers=args.workers if args.workers is not None else cfg["REDRAW_WORKERS"],
        seed=args.seed,
    )
    out = Path(args.out)
    if out.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        raise InvalidInput(f"--out must end with .geojson or .gpkg, not {out.name!r}")
    twin = open_twin(cfg["DATA_DIR"], state_dir=cfg.get("STATE_DIR"), live=bool(weights.get("incidents")), settings=cfg)
    with tqdm(total=100, desc="redraw", unit="%", bar_format="{l_bar}{bar}| {n:.0f}% {postfix}") as bar:

        def progress(fraction, message=""):
            bar.n = round(100 * fraction, 1)
            bar.set_postfix_str(message, refresh=False)
            bar.refresh()

        plan = redraw(twin, params, progress=progress, scheduler=cfg["DASK_SCHEDULER"] or None)
    written = [plan.write_gpkg(out) if out.suffix.lower() == ".gpkg" else plan.write_geojson(out)]
    if args.gpkg:
        written.append(plan.write_gpkg(args.gpkg))
    if args.json:
        print(json.dumps(plan.summary(), ensure_ascii=False, indent=1))
        return 0
    print(f"wrote {plan.after['grids']} grids to {' and '.join(map(str, written))} in {plan.elapsed_s:.1f} s")
    print(metrics_table(plan.before, plan.after))
    for note in plan.notes:  # held grids, and where the band cannot hold
        print(f"note: {note['en']}")
    return 0


def metrics_table(before: dict, after: dict) -> str:
    """The before/after metrics as an aligned text table."""
    from twin.redraw.metrics import METRIC_ROWS

    lines = [f"  {'metric':<34} {'before':>10} {'after':>10}"]
    for key, label, _zh, kind in METRIC_ROWS:
        lines.append(f"  {label:<34} {_fmt(before.get(key), kind):>10} {_fmt(after.get(key), kind):>10}")
    return "\n".join(lines)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "pp":
        return f"{value:.3f}"
    if kind == "bool":
        return "yes" if value else "no"
    return f"{int(value):,}"
