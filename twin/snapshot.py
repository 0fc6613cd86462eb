"""A prepared snapshot of a twin's static layers, written beside the live state: fast, lean start-up.

The first start reads and validates the layer files, derives the placed columns, and writes each layer as an
uncompressed Arrow IPC file (`<state>/snapshot/<layer>.arrow`, twin.arrowfile) with a manifest naming the file digests
it was made from. Later starts whose digests match read nothing but the manifest: each layer's rows are mapped from
its Arrow columns the first time something asks for them (numbers and text stay in the file's pages, so a million
households cost the process only the columns a query touches: names and phones stay on disk until a page shows
them), and its spatial index is built on first use. A changed file changes its digest, so the snapshot is made again.
"""

from __future__ import annotations

import json
import logging
import os
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from .arrowfile import positions_in, read_frame, write_frame
from .crs import MetricCRS

log = logging.getLogger(__name__)

FORMAT = 3
ABSENT = "none"  # the version FileStore gives a layer without a file


class Snapshot:
    """The snapshot directory of one store: whether it is fresh, reading a twin from it, writing one."""

    def __init__(self, directory: Path, store, kinds: dict):
        self.dir = Path(directory)
        self.store = store
        self.all = kinds
        self.kinds = {k.name: k for k in kinds.values() if not k.live}

    def versions(self) -> dict:
        """The current content version (file digest) of every static layer."""
        return {name: self.store.layer_version(kind) for name, kind in self.kinds.items()}

    def _manifest(self) -> dict | None:
        try:
            return json.loads((self.dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def load(self, cls, store, settings=None):
        """A twin of `cls` whose layers read from the snapshot on first use; None when it is missing or stale."""
        from .core import Layer

        m = self._manifest()
        versions = {n: v for n, v in self.versions().items() if v != ABSENT}  # an optional layer may have no file
        if not m or m.get("format") != FORMAT or m.get("versions") != versions:
            return None
        if not all((self.dir / f"{name}.arrow").exists() for name in versions):
            return None
        crs = MetricCRS(int(m["epsg"]))
        layers: dict = {}
        for name, kind in ((n, self.kinds[n]) for n in versions):
            load = partial(read_part, self.dir / f"{name}.arrow")
            if name in m.get("placed", ()):
                load = partial(read_placed, self.dir / f"{name}.arrow", layers, kind.schema.placed_by)
            layers[name] = Layer(kind, None, None, versions[name], crs=crs, load=load)
        log.info("static layers from the snapshot in %s (read on first use)", self.dir)
        return cls(layers, self.all, crs, store, settings)

    def write(self, twin) -> None:
        """Write every static layer and then the manifest (each file replaced atomically); failures only warn."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            names = [n for n in self.kinds if n in twin.layers]
            placed = [n for n in names if self.kinds[n].schema.placed_by and at_buildings(twin, n)]
            for name in names:
                frame = twin.layers[name].frame
                if name in placed:  # points of their buildings: made again from the buildings at read
                    frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
                write_frame(frame, self.dir / f"{name}.arrow")
            manifest = {
                "format": FORMAT,
                "epsg": twin.crs.epsg,
                "versions": {n: twin.layers[n].version for n in names},
                "placed": placed,
            }
            tmp = self.dir / f".manifest.{os.getpid()}.json"
            tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            os.replace(tmp, self.dir / "manifest.json")
        except OSError as exc:
            log.warning("could not write the snapshot in %s: %s", self.dir, exc)


def at_buildings(twin, name: str) -> bool:
    """Whether every row of layer `name` lies at the representative point of its building (placed, not drawn)."""
    if "buildings" not in twin.layers:
        return False
    frame, b = twin.layers[name].frame, twin.layers["buildings"].frame
    pos = pd.Index(b["building_id"]).get_indexer(frame[twin.kinds[name].schema.placed_by])
    if (pos < 0).any():
        return False
    points = b.geometry.representative_point().to_numpy()[pos]
    return bool(shapely.equals_exact(frame.geometry.to_numpy(), points, 0).all())


def read_placed(path: Path, layers: dict, placed_by: str) -> gpd.GeoDataFrame:
    """Rows stored without geometry, placed at their building's representative point (one shared Point per building)."""
    frame = read_frame(path)
    b = layers["buildings"].frame
    points = b.geometry.representative_point().to_numpy()[positions_in(frame[placed_by], b["building_id"])]
    frame = frame.assign(geometry=gpd.GeoSeries(points, crs=b.crs).values)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=b.crs, copy=False)  # copy=False: columns stay mapped


def read_part(path: Path) -> gpd.GeoDataFrame:
    """One layer's rows from its Arrow file (memory-mapped)."""
    return read_frame(path)
