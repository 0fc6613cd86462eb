"""Writing an imported layer: validated against its schema in chunks, then written to a temp file and swapped in."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from twin.crs import WGS84
from twin.errors import SchemaError
from twin.schema import first_duplicate
from twin.store import READ_ORDER, to_layer_frame
from twin.times import iso_utc_column

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
PROGRESS_MIN_ROWS = 20_000  # smaller imports finish before a bar is worth drawing


STEPS = (
    "reading",
    "converting coordinates",
    "checking geometries",
    "placing",
    "validating",
    "checking the directory loads",
    "writing",
)


def hidden(rows: int, show: bool | None) -> bool | None:
    """tqdm's `disable` for an import of `rows` rows: `show` forces it; else None (on a terminal) for long ones."""
    return (not show) if show is not None else (True if rows < PROGRESS_MIN_ROWS else None)


def progress(total: int, desc: str, show: bool | None = None) -> tqdm:
    """A row bar on stderr under the steps bar; shown for long imports on a terminal (`show` forces it)."""
    return tqdm(
        total=total, desc=desc, unit="row", unit_scale=True, leave=False, disable=hidden(total, show), position=1
    )


class Steps:
    """One bar on stderr over the steps of an import, drawn once the row count shows the import is long."""

    def __init__(self, layer: str, show: bool | None = None):
        self.layer, self.show, self.bar = layer, show, None

    def rows(self, n: int) -> None:
        """Say how many rows the source has (decides whether the bar is drawn)."""
        if self.bar is None:
            self.bar = tqdm(
                total=len(STEPS),
                desc=f"importing {self.layer}",
                unit="step",
                leave=False,
                disable=hidden(n, self.show),
                position=0,
                bar_format="{desc} {n}/{total} |{bar}| [{elapsed}]",
            )
            self("reading")

    def __call__(self, step: str) -> None:
        """Move the bar to the start of `step` (one of STEPS)."""
        log.debug("import step: %s", step)
        if self.bar is not None:
            self.bar.n = STEPS.index(step)
            self.bar.set_description(f"importing {self.layer}: {step}")  # also redraws

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def existing_file(directory: Path, kind) -> Path | None:
    """The file the store would read for `kind` in `directory` (which may not exist yet), or None."""
    return next((p for p in (directory / f"{kind.stem}{ext}" for ext in READ_ORDER) if p.exists()), None)


def target_path(out_dir: Path, kind) -> Path:
    """Where `kind` goes: over the file the store reads first when one exists, else the default format."""
    if (p := existing_file(out_dir, kind)) is not None:
        return p
    polygons = kind.schema.geometry == "Polygon"
    return out_dir / f"{kind.stem}{'.geojson' if polygons else '.csv'}"


def _shifted(exc: SchemaError, rows: np.ndarray) -> SchemaError:
    """The same error with its chunk-relative row turned into the source file's row number."""
    prefix = SchemaError("", file=exc.file, row=exc.row, column=exc.column).message
    core = exc.message.removeprefix(prefix)
    row = int(rows[exc.row - 1]) if exc.row is not None else None
    return SchemaError(core, file=exc.file, row=row, column=exc.column)


def validate(frame: pd.DataFrame, kind, source: str, rows: np.ndarray, show: bool | None = None) -> gpd.GeoDataFrame:
    """`to_layer_frame` chunk by chunk under a progress bar; errors give the source file's row numbers."""
    parts = []
    with progress(len(frame), f"validating {kind.name}", show) as bar:
        for start in range(0, max(len(frame), 1), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            try:
                parts.append(to_layer_frame(chunk, kind, source))
            except SchemaError as exc:
                raise _shifted(exc, rows[start : start + CHUNK_ROWS]) from None
            bar.update(len(chunk))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    ids = out[kind.schema.id_field]
    if (i := first_duplicate(ids)) is not None:  # across chunks: each chunk was checked on its own
        raise SchemaError(f"duplicate id {ids.iloc[i]!r}", file=source, row=int(rows[i]), column=kind.schema.id_field)
    return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=WGS84)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temp path beside `path` to write; os.replace'd over `path` if the block succeeds, removed either way."""
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(frame: gpd.GeoDataFrame, kind, path: Path) -> Path:
    """Write the validated layer to a temp file beside `path`, then os.replace it in (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        _write(frame, kind, tmp)
    log.info("wrote %d %s to %s", len(frame), kind.name, path)
    return path


def _write(frame: gpd.GeoDataFrame, kind, tmp: Path) -> None:
    cols = [c for c in kind.schema.names if c in frame.columns]
    placed = kind.schema.placed_by is not None
    if tmp.suffix == ".csv":
        table = pd.DataFrame({c: csv_text(frame[c]) for c in cols})
        if not placed and kind.schema.geometry == "Point":
            table.insert(0, "lat", np.round(shapely.get_y(frame.geometry.values), 7))
            table.insert(0, "lon", np.round(shapely.get_x(frame.geometry.values), 7))
        table.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    elif tmp.suffix == ".parquet":
        if placed:
            pd.DataFrame(frame[cols]).to_parquet(tmp, index=False)
        else:
            gpd.GeoDataFrame(frame[cols], geometry=frame.geometry.values, crs=WGS84).to_parquet(tmp, index=False)
    else:
        out = gpd.GeoDataFrame(frame[cols], geometry=frame.geometry.values, crs=WGS84)
        if tmp.suffix == ".gpkg":
            out.to_file(tmp, driver="GPKG", layer=kind.stem, engine="pyogrio")
        else:
            out.to_file(
                tmp, driver="GeoJSON", engine="pyogrio", layer=kind.stem, layer_options={"COORDINATE_PRECISION": 7}
            )


def csv_text(s: pd.Series) -> pd.Series:
    """A column as CSV text: true/false booleans, UTC ISO-8601 times, integers without a decimal point."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return iso_utc_column(s).fillna("")
    blank = s.isna().to_numpy()
    if s.dtype == bool or pd.api.types.infer_dtype(s, skipna=True) == "boolean":
        text = s.map({True: "true", False: "false"}, na_action="ignore")
    else:  # str, int64/Int64 and float64 columns: str() of each value, vectorised
        text = s.astype("string" if str(s.dtype) == "Int64" else str)
    return pd.Series(np.where(blank, "", text.astype(object)), index=s.index, dtype=object)
