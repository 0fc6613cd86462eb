"""The directory an import writes into, the base it places rows against, and the check that the result loads."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

from twin.crs import WGS84
from twin.errors import InvalidInput, NotFound, SchemaError
from twin.store import FileStore, to_layer_frame

from .output import existing_file, replacing, target_path, write_atomic

log = logging.getLogger(__name__)

HINT_BASE = (
    "give --data BASE_DIR holding communities, compounds and grids (e.g. a copy of the demo street made "
    "with `twin demo --out BASE_DIR`), or put those layer files into the output directory first"
)


class Target:
    """The output directory and the base directory: a layer is read from the output when it has one, else the base."""

    def __init__(self, out, base=None, kinds: dict | None = None):
        if kinds is None:
            from layers import REGISTRY

            kinds = REGISTRY
        self.kinds = kinds
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise InvalidInput(f"--out {self.out} is a file, not a directory", out=str(self.out))
        self.base = Path(base) if base is not None else None
        if self.base is not None and not self.base.is_dir():
            raise NotFound(f"base directory {self.base} does not exist", data_dir=str(self.base))
        self._frames: dict[str, gpd.GeoDataFrame | None] = {}

    def _store_with(self, name: str) -> FileStore | None:
        for d in (self.out, self.base):
            if d is not None and has_file(d, self.kinds[name]):
                return FileStore(d)
        return None

    def where(self, name: str) -> str:
        """The file a layer is read from (for messages), or '' when neither directory has it."""
        store = self._store_with(name)
        return str(store.path_of(self.kinds[name])) if store else ""

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """The validated layer `name` from the output directory, else the base; None when neither has it."""
        if name not in self._frames:
            store = self._store_with(name)
            self._frames[name] = store.read_layer(self.kinds[name]) if store else None
        return self._frames[name]

    def require(self, name: str) -> gpd.GeoDataFrame:
        """Like `layer`, but a NotFound saying what to do when there is none."""
        frame = self.layer(name)
        if frame is None:
            hint = HINT_BASE if name in ("communities", "compounds", "grids") else f"import {name} first"
            raise NotFound(
                f"no {name} layer in {self.out}" + (f" or {self.base}" if self.base else "") + f"; {hint}", layer=name
            )
        return frame

    def finish(self, name: str, frame: gpd.GeoDataFrame, report, steps=None) -> Path:
        """Check the output directory loads with `frame` as layer `name`, then write it and any missing layers.

        Layers the output lacks are copied from the base, except households when buildings were imported (they
        would point at the base's buildings): an empty households file is written instead. Nothing is written if
        the directory would not load.
        """
        from twin.core import Twin

        steps = steps or (lambda step: None)
        steps("checking the directory loads")
        frames, copies, empty = {}, [], []
        for kind in self.kinds.values():
            if kind.live:
                continue
            if kind.name == name:
                frames[kind.name] = frame
            elif has_file(self.out, kind):
                frames[kind.name] = self.require(kind.name)
            elif kind.name == "households" and (name == "buildings" or self.layer(kind.name) is None):
                frames[kind.name] = empty_layer(kind)
                empty.append(kind)
            else:
                frames[kind.name] = self.require(kind.name)
                copies.append(kind)
        try:
            Twin.from_frames(frames, self.kinds, store=_Unversioned())
        except SchemaError as exc:
            raise SchemaError(
                f"{self.out} would not load with the imported {name} ({exc.message}); nothing was written",
                file=report.source,
            ) from None
        steps("writing")
        self.out.mkdir(parents=True, exist_ok=True)
        for kind in copies:
            src = self._store_with(kind.name).path_of(kind)
            copy_atomic(src, self.out / src.name)
            report.note(f"copied {kind.name} from {src}")
        for kind in empty:
            write_atomic(frames[kind.name], kind, target_path(self.out, kind))
            report.note(
                f"no households yet: wrote an empty {kind.stem} file (import them with "
                f"`twin import households FILE --out {self.out}`)"
            )
        return write_atomic(frame, self.kinds[name], target_path(self.out, self.kinds[name]))


class _Unversioned:
    """A stand-in store for the load check: digesting every layer's content is not needed to see that it loads."""

    def layer_version(self, kind) -> str:
        return "unchecked"


def has_file(directory: Path, kind) -> bool:
    """Whether `directory` (which may not exist yet) holds a file for layer `kind`."""
    return existing_file(directory, kind) is not None


def empty_layer(kind) -> gpd.GeoDataFrame:
    """A validated layer of `kind` with no rows."""
    frame = pd.DataFrame({n: pd.Series([], dtype=object) for n in kind.schema.names})
    if kind.schema.geometry and not kind.schema.placed_by:
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    return to_layer_frame(frame, kind, f"(empty {kind.name})")


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy a file to a temp name beside `dst`, then rename it into place."""
    with replacing(dst) as tmp:
        shutil.copyfile(src, tmp)
