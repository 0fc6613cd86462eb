"""One-time import of a data directory's incidents file into an empty store (the demo's year of work orders)."""

from __future__ import annotations

import logging
import time

import pandas as pd

from twin.placement import PLACE_FIELDS, Placer
from twin.progress import Progress
from twin.store import read_frame, to_layer_frame

from .store import COLUMNS, TIME_FIELDS

log = logging.getLogger(__name__)

DEMO_MARK = "demo.json"  # written by `twin demo` beside the layers it generates: their year may be rebased


def generated_demo(data_dir) -> bool:
    """Whether `data_dir` holds a generated demo (its DEMO_MARK file), whose fixed year may be moved to end today."""
    from pathlib import Path

    return data_dir is not None and (Path(data_dir) / DEMO_MARK).is_file()


def _counted(items, bar):
    """`items`, counting each one on `bar` as it is taken."""
    for item in items:
        bar.update()
        yield item


def seed_file(twin, store):
    """The incidents file beside the layers (incidents.csv/.parquet/...), or None."""
    kind = twin.kinds.get("incidents") if twin.kinds else None
    if kind is None or not hasattr(store, "path_of"):
        return None
    return store.path_of(kind)


def import_seed(twin, db, path, now: pd.Timestamp | None = None, rebase: bool = False) -> int:
    """Validate the incidents file at `path`, place rows lacking a grid, and store them in one transaction.

    With `rebase`, every time is shifted by the same amount so the latest one falls at `now` (the demo's fixed
    year then ends today). Returns the number of incidents imported; does nothing if the store is not empty.
    """
    if db.count() or db.meta("seeded_from"):
        return 0
    t0 = time.perf_counter()
    kind = twin.kinds["incidents"]
    log.info("reading and validating %s", path)
    raw = read_frame(path, kind.schema.geometry)
    frame = to_layer_frame(raw, kind, str(path))
    log.info("%s: %s incidents valid in %.1f s", path, f"{len(frame):,}", time.perf_counter() - t0)
    frame["lon"] = frame.geometry.x.to_numpy()
    frame["lat"] = frame.geometry.y.to_numpy()
    frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    missing = frame["grid_code"].isna()
    if missing.any():
        placed = Placer(twin).place(frame.loc[missing, "lon"], frame.loc[missing, "lat"])
        for col in PLACE_FIELDS:
            frame.loc[missing, col] = frame.loc[missing, col].where(
                frame.loc[missing, col].notna(), placed[col].to_numpy()
            )
    shift = pd.Timedelta(0)
    if rebase and len(frame) and now is not None:
        latest = max(frame[c].max() for c in TIME_FIELDS if frame[c].notna().any())
        shift = pd.Timedelta(seconds=int((now - latest).total_seconds()))
        for c in TIME_FIELDS:
            frame[c] = frame[c] + shift
    records = (
        dict(zip(COLUMNS, row))
        for row in frame[list(COLUMNS)]
        .astype(object)
        .where(frame[list(COLUMNS)].notna(), None)
        .itertuples(index=False, name=None)
    )
    with Progress(len(frame), "importing incidents", unit="incident") as bar:
        n = db.insert_many(
            _counted(records, bar), actor="import", meta={"seeded_from": str(path), "rebased_by": str(shift)}
        )
    log.info(
        "imported %s incidents from %s in %.1f s (times shifted by %s)", f"{n:,}", path, time.perf_counter() - t0, shift
    )
    return n
