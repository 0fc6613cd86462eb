"""The twin: every layer loaded once, indexed once, with the street's metric CRS; no web code here."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import vocab
from .crs import MetricCRS
from .errors import InvalidInput, NotFound, SchemaError
from .heap import release
from .lazylayers import open_lazily
from .placement import grid_of_points
from .settings import defaults
from .snapshot import Snapshot
from .spatial import StaticIndex
from .store import Storage, open_storage

log = logging.getLogger(__name__)

MAPPED_FROM_ROWS = 20_000  # a first start with a layer this large continues on its fresh snapshot


class Layer:
    """One static layer: its kind, its rows (WGS84, RangeIndex), its spatial index and content version.

    Rows may come from a loader (a prepared snapshot) and are then read on first use; the index is built on first use.
    """

    def __init__(
        self, kind, frame: gpd.GeoDataFrame | None, index: StaticIndex | None, version: str, *, crs=None, load=None
    ):
        self.kind = kind
        self.version = version
        self._frame, self._index, self._crs, self._load = frame, index, crs, load
        self._pos: dict = {}
        self.derived: dict = {}  # lookups built once from the rows (e.g. twin.units)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Layer({self.name!r}, version={self.version!r}, loaded={self._frame is not None})"

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def frame(self) -> gpd.GeoDataFrame:
        """The rows (read now if they come from a snapshot and nobody asked before)."""
        if self._frame is None:
            with self._lock:
                if self._frame is None:
                    t0 = time.perf_counter()
                    self._frame = self._load()
                    release(freeze=False)  # the read's scratch (a million households parse through temporaries)
                    log.info("read %d %s on first use in %.2f s", len(self._frame), self.name, time.perf_counter() - t0)
        return self._frame

    @property
    def index(self) -> StaticIndex:
        """The spatial index of the rows (built on first use)."""
        if self._index is None:
            frame = self.frame
            with self._lock:
                if self._index is None:
                    self._index = StaticIndex(frame.geometry.values, self._crs)
        return self._index

    def position(self, item_id) -> int:
        """Row position of the record with id `item_id`; NotFound if there is none."""
        if not self._pos:
            self._pos = {v: i for i, v in enumerate(self.frame[self.kind.schema.id_field].tolist())}
        try:
            return self._pos[item_id]
        except (KeyError, TypeError):
            raise NotFound(
                f"{self.kind.title_en.lower()} {item_id!r} does not exist", layer=self.name, id=str(item_id)
            ) from None

    def get(self, item_id) -> pd.Series:
        """The record with id `item_id`."""
        return self.frame.iloc[self.position(item_id)]


class Twin:
    """A street (or district) loaded into memory: static layers, their indexes, and the live incident service."""

    def __init__(
        self, layers: dict[str, Layer], kinds: dict, crs: MetricCRS, store: Storage | None = None, settings=None
    ):
        self.layers = layers
        # The one loaded settings object (twin.settings.load at the entry point); the core never re-reads the
        # environment: without one given, the declared defaults.
        self.settings = MappingProxyType(dict(settings) if settings is not None else defaults())
        self.kinds = kinds
        self.crs = crs
        self.store = store
        self.live: dict = {}  # live layer name -> its service, attached at open by the kind's live_service
        boundary = layers["communities"].frame.geometry if "communities" in layers else None
        self.boundary = shapely.union_all(boundary.values) if boundary is not None and len(boundary) else None
        self._metric_boundary = None  # the boundary in metres, made on the first check with a margin

    @property
    def incidents(self):
        """The live incident service (None without a live store)."""
        return self.live.get("incidents")

    @incidents.setter
    def incidents(self, service) -> None:
        self.live["incidents"] = service

    # --- construction -------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        data_dir=None,
        kinds: dict | None = None,
        *,
        store: Storage | None = None,
        live: bool = True,
        state_dir=None,
        settings=None,
        database_url: str | None = None,
        office: str | None = None,
    ) -> "Twin":
        """Load every static layer of `kinds` from `store` (by default files in `data_dir`, or the database of
        the DATABASE_URL setting or `database_url`) and index it; `settings` is the loaded settings object the twin
        keeps (the declared defaults when None)."""
        if kinds is None:
            raise InvalidInput("Twin.open needs the layer kinds (use layers.open_twin for the registered ones)")
        settings = dict(settings) if settings is not None else defaults()
        store = store or open_storage(
            data_dir,
            state_dir,
            settings["DATABASE_URL"] if database_url is None else database_url,
            settings["OFFICE"] if office is None else office,
        )
        t0 = time.perf_counter()
        snapshot = Snapshot(store.snapshot_dir, store, kinds) if getattr(store, "snapshot_dir", None) else None
        twin = snapshot.load(cls, store, settings) if snapshot else None
        if twin is None and hasattr(store, "extent"):  # a database: each layer is read when first used
            twin = open_lazily(cls, store, kinds, settings)
        if twin is None:
            frames = {}
            for k in kinds.values():
                if k.live:
                    continue
                try:
                    frames[k.name] = store.read_layer(k)
                except NotFound:
                    if not k.optional:
                        raise
                    log.info("no %s layer in this data directory (optional): starting without it", k.name)
            twin = cls.from_frames(frames, kinds, store=store, settings=settings)
            log.info(
                "loaded %s in %.1f s", ", ".join(f"{len(f)} {n}" for n, f in frames.items()), time.perf_counter() - t0
            )
            if snapshot:
                snapshot.write(twin)
                if max((len(f) for f in frames.values()), default=0) >= MAPPED_FROM_ROWS:
                    # as a later start has it: layers mapped from the snapshot just written, not the parsed frames
                    # (a Python string per text value: 300 MB of households at a district's volume)
                    twin = snapshot.load(cls, store, settings) or twin
                    del frames
                    release(freeze=False)
        if live:
            for k in kinds.values():
                if k.live and k.live_service:
                    module, _, function = k.live_service.partition(":")
                    getattr(importlib.import_module(module), function)(twin, store)  # with twin.settings
        return twin

    @classmethod
    def from_frames(
        cls,
        frames: dict[str, gpd.GeoDataFrame],
        kinds: dict,
        *,
        store: Storage | None = None,
        crs: MetricCRS | None = None,
        settings=None,
    ) -> "Twin":
        """Build a twin from validated WGS84 frames (tests and importers use this directly)."""
        frames = dict(frames)
        if crs is None:
            allb = np.array([f.total_bounds for f in frames.values() if len(f) and f.geometry.notna().any()])
            if not len(allb):
                raise InvalidInput("cannot choose a metric CRS: no layer has geometries")
            crs = MetricCRS.for_lonlat(
                (allb[:, 0].min() + allb[:, 2].max()) / 2, (allb[:, 1].min() + allb[:, 3].max()) / 2
            )
        derive_columns(frames)
        layers = {}
        for name, frame in frames.items():
            kind = kinds[name]
            version = store.layer_version(kind) if store is not None else _frame_version(frame)
            layers[name] = Layer(kind, frame, None, version, crs=crs)
        return cls(layers, kinds, crs, store, settings)

    # --- access ---------------------------------------------------------------------------------------------
    def layer(self, name: str) -> Layer:
        """The static layer called `name`."""
        try:
            return self.layers[name]
        except KeyError:
            raise NotFound(f"no layer {name!r}; layers are {', '.join(self.layers)}", layer=name) from None

    def frame(self, name: str) -> gpd.GeoDataFrame:
        """The rows of the static layer `name` (do not modify)."""
        return self.layer(name).frame

    def contains_point(self, lon: float, lat: float, margin_m: float = 0.0) -> bool:
        """Whether (lon, lat) lies inside the street (its communities), optionally widened by `margin_m` metres."""
        return bool(self.contains_points([lon], [lat], margin_m)[0])

    def contains_points(self, lons, lats, margin_m: float = 0.0) -> np.ndarray:
        """contains_point for arrays of lon and lat (False where a coordinate is missing), in one vectorised call."""
        lons, lats = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
        if self.boundary is None:
            return np.ones(len(lons), dtype=bool)
        if margin_m <= 0:
            shapely.prepare(self.boundary)  # once; later calls find it prepared
            return shapely.intersects_xy(self.boundary, lons, lats)
        if self._metric_boundary is None:
            self._metric_boundary = self.crs.to_metric(self.boundary)
            shapely.prepare(self._metric_boundary)
        ok = np.isfinite(lons) & np.isfinite(lats)
        x, y = self.crs.xy(np.where(ok, lons, 0.0), np.where(ok, lats, 0.0))
        return ok & (shapely.distance(self._metric_boundary, shapely.points(x, y)) <= margin_m)

    # --- queries (positions into the layer's frame) ------------------------------------------------------------
    def query_bbox(self, name: str, minx, miny, maxx, maxy) -> gpd.GeoDataFrame:
        """Rows of `name` intersecting the WGS84 box."""
        layer = self.layer(name)
        return layer.frame.iloc[layer.index.bbox(minx, miny, maxx, maxy)]

    def query_polygon(self, name: str, geom, predicate: str = "intersects") -> gpd.GeoDataFrame:
        """Rows of `name` that intersect (or lie `within`) the WGS84 geometry."""
        layer = self.layer(name)
        if predicate == "intersects":
            pos = layer.index.intersects(geom)
        elif predicate == "within":
            pos = layer.index.within(geom)
        else:
            raise InvalidInput(f"predicate must be 'intersects' or 'within', not {predicate!r}")
        return layer.frame.iloc[pos]

    def query_radius(self, name: str, lon: float, lat: float, metres: float) -> gpd.GeoDataFrame:
        """Rows of `name` within `metres` of (lon, lat)."""
        layer = self.layer(name)
        return layer.frame.iloc[layer.index.radius(lon, lat, metres)]

    def query_nearest(self, name: str, lon: float, lat: float, k: int = 1) -> gpd.GeoDataFrame:
        """The `k` rows of `name` nearest to (lon, lat), nearest first."""
        layer = self.layer(name)
        return layer.frame.iloc[layer.index.nearest(lon, lat, k)]


def _frame_version(frame: gpd.GeoDataFrame) -> str:
    h = pd.util.hash_pandas_object(pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(str), index=False)
    g = shapely.to_wkb(frame.geometry.values)
    return f"{int(h.sum()) & 0xFFFFFFFFFFFF:x}-{hash(tuple(g)) & 0xFFFFFF:x}"


def build_years(buildings: pd.DataFrame, compounds: pd.DataFrame | None) -> pd.Series:
    """Each building's build year, else its compound's (NaN when neither is known)."""
    years = pd.to_numeric(buildings["build_year"], errors="coerce")
    if compounds is not None and "compound_id" in buildings and "build_year" in compounds:
        of_compound = buildings["compound_id"].map(compounds.set_index("compound_id")["build_year"])
        years = years.fillna(pd.to_numeric(of_compound, errors="coerce"))
    return years


def derive_columns(frames: dict[str, gpd.GeoDataFrame]) -> None:
    """Fill derived columns: a building's grid and build decade; a household's position, grid, community, compound."""
    b = frames.get("buildings")
    g = frames.get("grids")
    if b is not None and g is not None:
        b = b.copy()
        b["grid_code"] = grid_of_points(b.geometry.representative_point().values, b["community_id"].to_numpy(), g)
        frames["buildings"] = b
    if b is not None and "build_year" in b.columns:
        frames["buildings"] = b = b.assign(build_decade=vocab.decade_codes(build_years(b, frames.get("compounds"))))
    h = frames.get("households")
    if h is not None and b is not None:
        pos = pd.Index(b["building_id"]).get_indexer(h["building_id"])
        if (pos < 0).any():
            i = int(np.flatnonzero(pos < 0)[0])
            raise SchemaError(
                f"building {h['building_id'].iloc[i]!r} does not exist",
                file="households",
                row=i + 1,
                column="building_id",
            )
        h = h.copy()
        for col in ("grid_code", "community_id", "compound_id"):
            if col in b.columns:
                h[col] = b[col].to_numpy()[pos]
        if h.geometry.isna().all():
            h = h.set_geometry(b.geometry.representative_point().values[pos])
            h = h.set_crs(b.crs, allow_override=True)
        frames["households"] = h
