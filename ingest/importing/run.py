"""One `twin import`: read and convert the source, place its rows, validate, write atomically, report."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from twin.errors import InvalidInput

from . import buildings, households, incidents
from .mapping import Mapping
from .output import Steps, validate
from .report import ImportReport
from .sources import require_file
from .target import Target

log = logging.getLogger(__name__)

PREPARE = {"buildings": buildings.prepare, "households": households.prepare, "incidents": incidents.prepare}
LAYERS = tuple(PREPARE)
SNAP_M = 30.0  # a household given by coordinates belongs to the building within this distance


@dataclass(frozen=True)
class Options:
    """How to read the source: its CRS (None: as declared, WGS84 for CSV), GIS layer, what to do with bad rows."""

    crs: str | None = None
    layer: str | None = None
    skip_bad: bool = False
    snap_m: float = SNAP_M
    show: bool | None = None  # progress bars: None on a terminal for long imports, False never, True always
    mapping: Mapping = Mapping()  # columns and codes of a file from another system (--map, --map-file)
    timezone: str | None = None  # times without an offset are read in this zone (the TIMEZONE setting when None)
    dry_run: bool = False  # read, map, place and validate, then stop: nothing written (the report has a preview)


def report_path(out: Path, layer: str) -> Path:
    """Where the JSON report of importing `layer` into `out` is written."""
    return Path(out) / f"import-{layer}.report.json"


def import_layer(
    layer: str, source, out, base=None, opts: Options = Options(), kinds: dict | None = None
) -> ImportReport:
    """Import `source` as `layer` into directory `out` (placing rows against `base` where `out` lacks a layer)."""
    if layer not in PREPARE:
        raise InvalidInput(f"cannot import {layer!r}; choose one of {', '.join(LAYERS)}", layer=layer)
    if opts.snap_m <= 0:
        raise InvalidInput("--snap-m must be positive", snap_m=opts.snap_m)
    source = require_file(source)
    t0 = time.perf_counter()
    target = Target(out, base, kinds)
    report = ImportReport(layer=layer, source=str(source), target=str(target.out))
    steps = Steps(layer, opts.show)
    if opts.mapping:
        opts.mapping.check(target.kinds[layer])
    try:
        frame, rows = PREPARE[layer](source, target, opts, report, steps)
        if not len(frame):
            raise InvalidInput(
                f"file {source}: no row left to import ({report.rows_read} read, {len(report.skipped)} skipped)",
                file=str(source),
            )
        kind = target.kinds[layer]
        steps("validating")
        frame = validate(frame, kind, str(source), rows, opts.show)
        if opts.dry_run:
            report.preview = preview(frame, kind)
            report.rows_written = 0
            report.note("dry run: nothing written")
            return report
        path = target.finish(layer, frame, report, steps)
    finally:
        steps.close()
    report.target = str(path)
    report.rows_written = len(frame)
    if kind.live and (target.out / "twin.sqlite").exists():
        report.note(
            f"{target.out / 'twin.sqlite'} exists: incidents are read from {path.name} only into an empty "
            "store, so delete twin.sqlite (losing its history) to start from this file"
        )
    report.write(report_path(target.out, layer))
    log.info("imported %d %s in %.1f s", len(frame), layer, time.perf_counter() - t0)
    return report


PREVIEW_ROWS = 5


def preview(frame, kind, n: int = PREVIEW_ROWS) -> list[dict]:
    """The first `n` rows as they would be written: the schema's fields (as text) and the point or footprint."""
    out = []
    for _, row in frame.head(n).iterrows():
        item = {f.name: (None if _blank(row.get(f.name)) else str(row.get(f.name))) for f in kind.schema.fields}
        geom = row.get("geometry")
        if geom is not None and kind.schema.geometry == "Point":
            item["lon"], item["lat"] = round(geom.x, 7), round(geom.y, 7)
        out.append(item)
    return out


def _blank(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
