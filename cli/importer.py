"""`twin import`: buildings from GeoJSON/GeoPackage/Shapefile, households and incidents from CSV."""

from __future__ import annotations

import json
import logging

log = logging.getLogger(__name__)

LAYERS = ("buildings", "households", "incidents")  # ingest.importing.LAYERS, without importing geopandas at start


def register(sub) -> None:
    """Add `twin import LAYER FILE --out DIR [--crs CRS] [--data BASE_DIR] [--map COL=FIELD ...] [--dry-run] ...`."""
    p = sub.add_parser(
        "import",
        help="import buildings, households or incidents from real data files",
        description="Import a layer into a data directory that `twin serve --data DIR` serves. Buildings come from "
        "GeoJSON, GeoPackage or Shapefile (OpenStreetMap building:levels / height become floors); "
        "households and incidents from CSV with coordinates (lon/lat or x/y) or building ids.",
    )
    p.add_argument("layer", choices=LAYERS, help="which layer the file holds")
    p.add_argument("file", help="the source file")
    p.add_argument("--out", required=True, metavar="DIR", help="data directory to write into (created if missing)")
    p.add_argument(
        "--crs",
        default=None,
        help="source coordinates: wgs84, cgcs2000 (EPSG:4490), a CGCS2000 Gauss-Krüger zone such as "
        "EPSG:4549, gcj02 or bd09 (default: the file's own CRS; WGS84 for CSV)",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="BASE_DIR",
        help="directory whose communities, compounds, grids (and buildings) place the rows where --out "
        "has none; missing layers are copied from it",
    )
    p.add_argument(
        "--layer", dest="source_layer", default=None, metavar="NAME", help="layer of a multi-layer GeoPackage to read"
    )
    p.add_argument(
        "--skip-bad",
        action="store_true",
        help="leave out rows that cannot be imported (listed in the report) instead of stopping",
    )
    p.add_argument(
        "--snap-m",
        type=float,
        default=None,
        help="households given by coordinates belong to the building within this many metres (30)",
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COL=FIELD",
        help="rename a column (COL=FIELD), map a value (FIELD:VALUE=CODE) or "
        "fill a blank or absent one (FIELD:=CODE); repeat as needed",
    )
    p.add_argument(
        "--map-file",
        default=None,
        metavar="F",
        help='JSON {"columns": {COL: FIELD}, "values": {FIELD: {VALUE: CODE, "": DEFAULT}}}; --map adds to it',
    )
    p.add_argument(
        "--dry-run", action="store_true", help="read, map, place and check, print the first rows; write nothing"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars, log lines or report on stdout")
    p.add_argument("--json", action="store_true", help="print the report (or an error) as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    """Import the file, print the report (also written beside the layers) and return 0."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    from ingest.importing import Options, import_layer, report_path
    from ingest.importing.mapping import Mapping
    from ingest.importing.run import SNAP_M
    from twin import settings

    opts = Options(
        mapping=Mapping.parse(args.map, args.map_file),
        timezone=settings.load()["TIMEZONE"],
        dry_run=args.dry_run,
        crs=args.crs,
        layer=args.source_layer,
        skip_bad=args.skip_bad,
        snap_m=SNAP_M if args.snap_m is None else args.snap_m,
        show=False if args.quiet else None,
    )
    quiet = logging.getLogger("ingest.importing")
    level = quiet.level
    if args.quiet:
        quiet.setLevel(logging.WARNING)
    try:
        with logging_redirect_tqdm():  # log lines above the bars, not through them
            report = import_layer(args.layer, args.file, args.out, args.data, opts)
    finally:
        quiet.setLevel(level)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    elif not args.quiet:
        print("\n".join(report.lines()))
        if not args.dry_run:
            print(f"  report: {report_path(args.out, args.layer)}")
    return 0
