"""Static layers read from a database when first used: a web process serving one street office of a city starts
with the communities (the street's outline) and the extent of its layers (the metric CRS) only; buildings are read
by the first map view, households by the first figure that counts people. Each layer gets its derived columns from
the layers it derives from, exactly as Twin.from_frames derives them from all frames at once.
"""

from __future__ import annotations

from functools import partial

from .crs import MetricCRS
from .errors import InvalidInput

DERIVED_FROM = {"buildings": ("grids", "compounds"), "households": ("buildings",)}
ABSENT = "none"  # the version a store gives a layer it does not hold


def open_lazily(cls, store, kinds: dict, settings=None):
    """A twin of `cls` over `store` (which has `extent(kinds)`) whose layers are read on first use."""
    from .core import Layer

    static = {}
    for kind in (k for k in kinds.values() if not k.live):
        version = store.layer_version(kind)
        if version == ABSENT:
            if not kind.optional:
                store.read_layer(kind)  # raises the store's NotFound: the layer was never loaded
            continue
        static[kind.name] = (kind, version)
    bounds = store.extent([k for k, _ in static.values()])
    if bounds is None:
        raise InvalidInput("cannot choose a metric CRS: no layer has geometries")
    crs = MetricCRS.for_lonlat((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    layers: dict = {}
    for name, (kind, version) in static.items():
        layers[name] = Layer(kind, None, None, version, crs=crs, load=partial(_read, store, kind, layers))
    return cls(layers, kinds, crs, store, settings)


def _read(store, kind, layers: dict):
    """The rows of `kind` with their derived columns (from the layers it derives from, read now if need be)."""
    from .core import derive_columns

    frames = {kind.name: store.read_layer(kind)}
    frames.update({d: layers[d].frame for d in DERIVED_FROM.get(kind.name, ()) if d in layers})
    derive_columns(frames)
    frame = frames[kind.name]
    text = [f.name for f in kind.schema.fields if f.dtype == "str"] + list(kind.schema.derived)
    # Arrow-backed text, as the snapshot gives it: not a Python object per value (a million households)
    return frame.astype({c: "str" for c in text if c in frame.columns and frame[c].dtype == object})
