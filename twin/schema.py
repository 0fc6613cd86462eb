"""Generic column schemas: each layer kind declares its fields, and a file is checked against them at load."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import SchemaError

DTYPES = ("str", "int", "float", "bool", "datetime")


@dataclass(frozen=True)
class Field:
    """One column of a layer: type, whether it may be empty, its allowed values and whether it is personal data."""

    name: str
    dtype: str = "str"
    required: bool = True
    personal: bool = False
    choices: tuple = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    zh: str = ""
    en: str = ""

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown dtype {self.dtype!r} for field {self.name!r}")


@dataclass(frozen=True)
class Schema:
    """The fields of a layer, its id column and its geometry type (None for a table without geometry)."""

    fields: tuple[Field, ...]
    id_field: str
    geometry: str | None = None  # "Polygon" (Polygon or MultiPolygon) or "Point"
    derived: tuple[str, ...] = field(default=())  # columns added at load, not read from files
    placed_by: str | None = None  # a column naming a building; rows without geometry are placed at it

    def field(self, name: str) -> Field:
        """The field called `name`."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Names of all declared fields, in order."""
        return [f.name for f in self.fields]

    @property
    def personal(self) -> list[str]:
        """Names of the fields that are personal data."""
        return [f.name for f in self.fields if f.personal]

    def validate(self, df: pd.DataFrame, source: str) -> pd.DataFrame:
        """Check and coerce `df` (read from `source`); raise SchemaError naming the file, row and column."""
        missing = [f.name for f in self.fields if f.required and f.name not in df.columns]
        if missing:
            raise SchemaError(f"missing required column(s) {', '.join(missing)}", file=source, column=missing[0])
        out = df.copy()
        for f in self.fields:
            if f.name not in out.columns:
                out[f.name] = _empty(f, len(out))
                continue
            out[f.name] = _coerce(out[f.name], f, source)
        ids = out[self.id_field]
        dup = ids[ids.duplicated()]
        if len(dup):
            row = int(np.flatnonzero(ids.duplicated().to_numpy())[0])
            raise SchemaError(f"duplicate id {dup.iloc[0]!r}", file=source, row=row + 1, column=self.id_field)
        return out


def _empty(f: Field, n: int) -> pd.Series:
    if f.dtype == "float":
        return pd.Series(np.full(n, np.nan), dtype="float64")
    if f.dtype == "datetime":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    return pd.Series([None] * n, dtype="object")


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT or (
        isinstance(v, str) and v.strip() == "")


_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否"}


def _coerce(col: pd.Series, f: Field, source: str) -> pd.Series:
    values = col.tolist()
    out = []
    rx = re.compile(f.pattern) if f.pattern else None
    for i, v in enumerate(values):
        row = i + 1
        if _is_blank(v):
            if f.required:
                raise SchemaError("value is required", file=source, row=row, column=f.name)
            out.append(None)
            continue
        try:
            c = _convert(v, f.dtype)
        except (TypeError, ValueError):
            raise SchemaError(f"{v!r} is not a valid {f.dtype}", file=source, row=row, column=f.name) from None
        if f.choices and c not in f.choices:
            raise SchemaError(f"{v!r} is not one of {', '.join(map(str, f.choices))}",
                              file=source, row=row, column=f.name)
        if f.min is not None and c < f.min or f.max is not None and c > f.max:
            raise SchemaError(f"{v!r} is outside [{f.min}, {f.max}]", file=source, row=row, column=f.name)
        if rx is not None and not rx.fullmatch(c):
            raise SchemaError(f"{v!r} does not match {f.pattern}", file=source, row=row, column=f.name)
        out.append(c)
    if f.dtype == "float":
        return pd.Series([np.nan if v is None else v for v in out], index=col.index, dtype="float64")
    if f.dtype == "int" and None not in out:
        return pd.Series(out, index=col.index, dtype="int64")
    if f.dtype == "int":
        return pd.Series(out, index=col.index, dtype="Int64")
    if f.dtype == "bool" and None not in out:
        return pd.Series(out, index=col.index, dtype="bool")
    if f.dtype == "datetime":
        return pd.to_datetime(pd.Series(out, index=col.index, dtype="object"), utc=True)
    return pd.Series(out, index=col.index, dtype="object")


def _convert(v, dtype: str):
    if dtype == "str":
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()
    if dtype == "int":
        if isinstance(v, (bool, np.bool_)):
            raise ValueError
        fv = float(v)
        if not fv.is_integer():
            raise ValueError
        return int(fv)
    if dtype == "float":
        fv = float(v)
        if math.isnan(fv) or math.isinf(fv):
            raise ValueError
        return fv
    if dtype == "bool":
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        s = str(v).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ValueError
    if dtype == "datetime":
        ts = pd.Timestamp(v)
        if ts is pd.NaT:
            raise ValueError
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    raise ValueError(dtype)
