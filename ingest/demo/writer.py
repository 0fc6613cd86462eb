"""Byte-stable output: a small GeoJSON writer (7 decimals, schema key order) and CSVs with local times."""

from __future__ import annotations

import csv
import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY
from twin.incidents.seed import DEMO_MARK

log = logging.getLogger(__name__)

GEOJSON_LAYERS = ("communities", "compounds", "buildings", "grids")
LOCAL = "Asia/Shanghai"


def write(frames: dict, out_dir) -> list[Path]:
    """Write the demo layers into `out_dir` (GeoJSON polygons, CSV households and incidents); return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in GEOJSON_LAYERS:
        paths.append(write_geojson(frames[name], REGISTRY[name].schema.names, out / f"{name}.geojson"))
    paths.append(write_csv(frames["households"], REGISTRY["households"].schema.names, out / "households.csv"))
    inc = frames["incidents"]
    table = pd.DataFrame(inc.drop(columns=inc.geometry.name))
    table.insert(0, "lat", np.round(shapely.get_y(inc.geometry.values), 7))
    table.insert(0, "lon", np.round(shapely.get_x(inc.geometry.values), 7))
    paths.append(write_csv(table, ["lon", "lat"] + REGISTRY["incidents"].schema.names, out / "incidents.csv"))
    mark = out / DEMO_MARK  # tells the twin this year is generated, so DEMO_REBASE may move it to end today
    mark.write_text(json.dumps({"generated_by": "twin demo"}) + "\n", encoding="utf-8")
    paths.append(mark)
    log.info("wrote %s", ", ".join(p.name for p in paths))
    return paths


def _value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else (int(v) if float(v).is_integer() and False else float(v))
    return v


def _coords(geom: dict):
    def r(c):
        if isinstance(c[0], (int, float)):
            return [round(float(c[0]), 7), round(float(c[1]), 7)]
        return [r(x) for x in c]

    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def write_geojson(frame, fields: list[str], path: Path) -> Path:
    """One feature per line; properties in schema order; coordinates rounded to 7 decimals; UTF-8 Chinese."""
    cols = [f for f in fields if f in frame.columns]
    values = frame[cols].to_numpy(dtype=object)
    geoms = frame.geometry.values
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"type": "FeatureCollection", "features": [\n')
        for i in range(len(frame)):
            props = {c: _value(v) for c, v in zip(cols, values[i])}
            feat = {"type": "Feature", "properties": props, "geometry": _coords(shapely.geometry.mapping(geoms[i]))}
            fh.write(json.dumps(feat, ensure_ascii=False) + (",\n" if i < len(frame) - 1 else "\n"))
        fh.write("]}\n")
    return path


def _csv_column(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        local = s.dt.tz_convert(LOCAL).dt.tz_localize(None).to_numpy().astype("datetime64[s]")
        text = np.char.add(np.datetime_as_string(local, unit="s"), "+08:00").astype(object)
        text[s.isna().to_numpy()] = ""
        return text
    if s.dtype == bool:
        return np.where(s.to_numpy(), "true", "false").astype(object)
    if s.dtype.kind == "f":
        return np.array(["" if math.isnan(v) else repr(float(v)) for v in s.to_numpy()], dtype=object)
    arr = s.astype(object).to_numpy()
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        out[i] = (
            ""
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
            else (("true" if v else "false") if isinstance(v, (bool, np.bool_)) else str(v))
        )
    return out


def write_csv(frame: pd.DataFrame, fields: list[str], path: Path) -> Path:
    """A UTF-8 CSV with `fields` in order, booleans as true/false, times in local ISO form with +08:00."""
    cols = [f for f in fields if f in frame.columns]
    data = [_csv_column(frame[c]) for c in cols]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        w.writerows(zip(*data))
    return path
