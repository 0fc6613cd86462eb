"""`twin demo`: generate the deterministic demo street (or a district-sized twin) into a directory."""

from __future__ import annotations

import logging
import time

from twin.errors import InvalidInput

log = logging.getLogger(__name__)


def register(sub) -> None:
    """Add `twin demo --seed N --out DIR [--preset street|district] [--incidents N] [--years Y]`."""
    p = sub.add_parser(
        "demo",
        help="generate the demo street (same seed, same bytes)",
        description="Generate a deterministic demo street office (or a district) as layer files.",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7, the committed data/demo)")
    p.add_argument("--out", required=True, help="directory to write the layer files into")
    p.add_argument(
        "--preset",
        choices=("street", "district"),
        default="street",
        help="street: ~5 communities, 400+ buildings; district: ~51,000 buildings, ~980,000 households",
    )
    p.add_argument("--incidents", type=int, default=None, help="incidents a year (default: the preset's)")
    p.add_argument("--years", type=int, default=1, help="years of incidents ending at the demo's end (default 1)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Generate and write the demo layers, then print what was written."""
    from ingest import demo

    if args.incidents is not None and not 0 < args.incidents <= 5_000_000:
        raise InvalidInput("--incidents must be between 1 and 5,000,000")
    if not 1 <= args.years <= 20:
        raise InvalidInput("--years must be between 1 and 20")
    if (args.incidents or 0) * args.years > 10_000_000:
        raise InvalidInput("--incidents × --years must be at most 10,000,000")
    overrides = {} if args.incidents is None else {"incidents": args.incidents}
    if args.years != 1:
        overrides["years"] = args.years
    t0 = time.perf_counter()
    frames = demo.generate(args.seed, args.preset, progress=args.preset == "district", **overrides)
    paths = demo.write(frames, args.out)
    counts = ", ".join(f"{len(f):,} {name}" for name, f in frames.items())
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - t0:.1f} s: {counts}")
    return 0
