"""Incidents at start-up from a prepared Arrow snapshot (twin.arrowfile, memory-mapped) plus what was written since,
instead of every row from the store: the snapshot names the store it came from and its change token; rows written
after that token (by anyone) are read from the store and merged in place. A snapshot of another store, or one that
does not add up, is ignored.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

import pandas as pd

from ..arrowfile import read_frame, write_frame

log = logging.getLogger(__name__)

MIN_ROWS = 10_000  # below this the store reads fast enough, and a snapshot only costs disk


def store_identity(store) -> str:
    """A random id the store keeps in its notes (made on first use), so a snapshot knows which store it reflects."""
    ident = store.meta("store_id")
    if ident is None:
        with store.transaction() as db:
            store.set_meta(db, "store_id", uuid.uuid4().hex)
        ident = store.meta("store_id")
    return ident


def load_incidents(store) -> pd.DataFrame:
    """Every incident in insertion order, from the snapshot in `store.snapshot_dir` when it is usable."""
    directory = getattr(store, "snapshot_dir", None)
    if directory is None:
        return store.load()
    part, info = Path(directory) / "incidents.arrow", Path(directory) / "incidents.json"
    try:
        meta = json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = None
    ident = store_identity(store)
    if meta and meta.get("store") == ident and part.exists():
        frame = _merged(store, read_frame(part), meta["token"])
        if frame is not None:
            return frame
    token = store.changes_since(None)[0]
    frame = store.load()
    if len(frame) >= MIN_ROWS:
        _write(directory, frame, {"store": ident, "token": token, "rows": len(frame)})
    return frame


def _merged(store, frame: pd.DataFrame, token) -> pd.DataFrame | None:
    _, changed = store.changes_since(token)
    if len(changed):
        pos = pd.Index(frame["incident_id"]).get_indexer(changed["incident_id"])
        known = pos >= 0
        frame = frame.copy()
        for col in frame.columns:  # rows changed since: replaced in place, new rows appended in store order
            frame[col] = frame[col].astype(changed[col].dtype) if frame[col].dtype != changed[col].dtype else frame[col]
        frame.iloc[pos[known]] = changed[known].to_numpy()
        frame = pd.concat([frame, changed[~known]], ignore_index=True)
    if len(frame) != store.count():
        log.warning(
            "incident snapshot does not add up (%d rows, store has %d): reading the store", len(frame), store.count()
        )
        return None
    log.info("incidents from the snapshot: %d rows, %d changed since", len(frame), len(changed))
    return frame


def _write(directory, frame: pd.DataFrame, meta: dict) -> None:
    try:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_frame(frame, directory / "incidents.arrow")
        (directory / f".incidents.{os.getpid()}.json").write_text(json.dumps(meta), encoding="utf-8")
        os.replace(directory / f".incidents.{os.getpid()}.json", directory / "incidents.json")
    except OSError as exc:
        log.warning("could not write the incident snapshot in %s: %s", directory, exc)
