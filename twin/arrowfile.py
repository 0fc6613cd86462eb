"""A frame as one uncompressed Arrow IPC file, read back memory-mapped: numbers and text stay in the file's pages
(the kernel's page cache, read only when a column is touched) instead of being decoded into the process's heap.

Text is stored as `large_string`, the layout pandas' Arrow-backed `str` columns use, so reading it copies nothing;
a geometry column is stored as WKB and made into shapely geometries at read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

GEO_KEY = b"twin.geometry"  # schema metadata: {"column": name, "crs": "EPSG:4326"} of the geometry column


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` (a GeoDataFrame's geometry as WKB) to `path` atomically (a temporary file, then a rename)."""
    path = Path(path)
    geo = None
    if hasattr(frame, "geometry") and frame.geometry.name in frame.columns:
        name = frame.geometry.name
        geo = {"column": name, "crs": frame.crs.to_string() if frame.crs is not None else None}
        frame = pd.DataFrame(frame).assign(**{name: frame.geometry.to_wkb().to_numpy(dtype=object)})
    table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
    fields = [pa.field(f.name, pa.large_string()) if pa.types.is_string(f.type) else f for f in table.schema]
    meta = dict(table.schema.metadata or {})
    if geo is not None:
        meta[GEO_KEY] = json.dumps(geo).encode()
    table = table.cast(pa.schema(fields, metadata=meta))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def read_frame(path: Path) -> pd.DataFrame:
    """The frame written by `write_frame`, memory-mapped (a GeoDataFrame when it had a geometry column)."""
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    frame = table.to_pandas(split_blocks=True)
    geo = (table.schema.metadata or {}).get(GEO_KEY)
    if geo is None:
        return frame
    import geopandas as gpd

    geo = json.loads(geo)
    name = geo["column"]
    geometry = gpd.GeoSeries.from_wkb(frame[name].to_numpy(dtype=object), crs=geo["crs"])
    return gpd.GeoDataFrame(frame.assign(**{name: geometry.values}), geometry=name, crs=geo["crs"], copy=False)


def positions_in(values, keys) -> np.ndarray:
    """Position of each of `values` among `keys` (unique), -1 where absent: pandas' get_indexer, hashed in Arrow
    (ten times faster over a million households' building ids)."""
    import pyarrow.compute as pc

    try:
        found = pc.index_in(pa.array(values), value_set=pa.array(keys))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed types: let pandas match them
        return pd.Index(keys).get_indexer(values)
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
