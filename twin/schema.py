"""Generic column schemas: each layer kind declares its fields, and a file is checked against them at load."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import SchemaError
from .times import to_utc

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
        if (i := first_duplicate(ids)) is not None:
            raise SchemaError(f"duplicate id {ids.iloc[i]!r}", file=source, row=i + 1, column=self.id_field)
        return out


def first_duplicate(ids: pd.Series) -> int | None:
    """Position of the first value that repeats an earlier one, or None when all are distinct."""
    dup = ids.duplicated().to_numpy()
    return int(np.argmax(dup)) if dup.any() else None


def _empty(f: Field, n: int) -> pd.Series:
    if f.dtype == "float":
        return pd.Series(np.full(n, np.nan), dtype="float64")
    if f.dtype == "datetime":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    return pd.Series([None] * n, dtype="object")


_TRUE = {"true", "1", "yes", "y", "t", "是"}
_FALSE = {"false", "0", "no", "n", "f", "否"}


def _coerce(col: pd.Series, f: Field, source: str) -> pd.Series:
    """Convert one column to the field's type, checking every value; the first bad row (1-based) is reported.

    Vectorised: blanks, conversion, choices, range and pattern are computed as masks over the whole column; only
    values the fast paths cannot read (rare spellings) go through the per-value converter.
    """
    col = col.reset_index(drop=True)
    blank = _blank_mask(col)
    conv, bad_type = _convert_column(col, blank, f.dtype)
    ok = ~blank & ~bad_type
    checks = [("required", blank if f.required else np.zeros(len(col), bool)), ("type", bad_type)]
    if f.choices:
        checks.append(("choices", ok & ~conv.isin(f.choices).to_numpy()))
    if f.min is not None or f.max is not None:
        num = pd.to_numeric(conv.where(ok), errors="coerce")
        low = (num < f.min).to_numpy(dtype=bool, na_value=False) if f.min is not None else False
        high = (num > f.max).to_numpy(dtype=bool, na_value=False) if f.max is not None else False
        checks.append(("range", ok & (low | high)))
    if f.pattern:
        match = conv.where(ok).astype(object).map(re.compile(f.pattern).fullmatch, na_action="ignore").notna()
        checks.append(("pattern", ok & ~match.to_numpy()))
    first = min((int(np.argmax(m)) for _, m in checks if np.any(m)), default=None)
    if first is not None:
        what = next(name for name, m in checks if np.any(m) and m[first])
        value = col.iloc[[first]].tolist()[0]  # a plain Python value, so the message shows 'x' or 5
        raise SchemaError(_problem(what, value, f), file=source, row=first + 1, column=f.name)
    return _typed(conv, blank, f.dtype)


def _problem(what: str, v, f: Field) -> str:
    if what == "required":
        return "value is required"
    if what == "type":
        return f"{v!r} is not a valid {f.dtype}"
    if what == "choices":
        return f"{v!r} is not one of {', '.join(map(str, f.choices))}"
    if what == "range":
        return f"{v!r} is outside [{f.min}, {f.max}]"
    return f"{v!r} does not match {f.pattern}"


def _blank_mask(col: pd.Series) -> np.ndarray:
    blank = np.array(col.isna(), dtype=bool)
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":  # strip in Arrow, not per value
        blank |= (col.str.strip() == "").to_numpy(dtype=bool, na_value=False)
    elif isinstance(col.dtype, pd.StringDtype) or pd.api.types.infer_dtype(col, skipna=True) == "string":
        blank |= np.array((col.astype(object).str.strip() == "").fillna(False), dtype=bool)
    elif col.dtype == object:  # mixed values: only the strings can be blank
        blank |= np.fromiter((isinstance(v, str) and not v.strip() for v in col), dtype=bool, count=len(col))
    return blank


def _convert_column(col: pd.Series, blank: np.ndarray, dtype: str) -> tuple[pd.Series, np.ndarray]:
    """Converted values (anything where blank) and a mask of values that are not valid for `dtype`."""
    inferred = pd.api.types.infer_dtype(col, skipna=True)
    texts = inferred in ("string", "empty") and not pd.api.types.is_numeric_dtype(col.dtype)
    whole_numbers = inferred == "integer" and col.dtype.kind in "iu"  # no missing values, no bools
    conv, unread, bad = None, np.zeros(len(col), bool), np.zeros(len(col), bool)
    if dtype == "str" and (texts or whole_numbers):
        conv = (col.astype(str) if whole_numbers else col).str.strip().astype(object)
    elif dtype in ("int", "float") and (texts or inferred in ("integer", "floating")):
        num = pd.to_numeric(col, errors="coerce") if texts else col.astype(float)
        arr = num.to_numpy(dtype=float, na_value=np.nan)
        unread = ~blank & np.isnan(arr)  # e.g. "1_000": left to the per-value converter
        finite = np.isfinite(arr)
        if dtype == "int":
            safe = np.where(finite & (np.abs(np.nan_to_num(arr)) < 2.0**53), arr, 0.5)
            whole = np.floor(safe) == safe
            bad = ~blank & ~unread & ~whole
            conv = pd.Series(np.where(whole, arr, 0).astype(np.int64), dtype=object).where(whole)
        else:
            bad = ~blank & ~unread & ~finite
            conv = pd.Series(arr, dtype=object).where(finite)
        conv = conv.astype(object)
    elif dtype == "bool" and (texts or inferred == "boolean"):
        low = col.astype(object).where(blank, col.astype(str).str.strip().str.lower())
        conv = pd.Series(np.where(low.isin(_TRUE), True, np.where(low.isin(_FALSE), False, None)), dtype=object)
        bad = ~blank & conv.isna().to_numpy()
    elif dtype == "datetime" and (texts or pd.api.types.is_datetime64_any_dtype(col.dtype)):
        parsed = pd.to_datetime(
            col.where(~blank), utc=True, errors="coerce", **({"format": "ISO8601"} if texts else {})
        )
        conv = pd.Series(parsed, dtype=object)
        unread = ~blank & parsed.isna().to_numpy()
    if conv is None:  # an unusual column type: read value by value
        conv, unread = pd.Series([None] * len(col), dtype=object), ~blank
    bad = np.array(bad, dtype=bool)  # writable
    for i in np.flatnonzero(unread):
        try:
            value = _convert(col.iat[i], dtype)
            if dtype == "int" and not -(2**63) <= value < 2**63:
                raise ValueError
            conv.iat[i] = value
        except (TypeError, ValueError):
            bad[i] = True
    return conv, bad


def _typed(conv: pd.Series, blank: np.ndarray, dtype: str) -> pd.Series:
    """The column in its final dtype (nullable where the column has blanks)."""
    conv = conv.astype(object).where(~blank, None)
    if dtype == "float":
        return pd.Series(conv.to_numpy(dtype=float, na_value=np.nan), dtype="float64")
    if dtype == "int":
        return pd.Series(conv, dtype="Int64" if blank.any() else "int64")
    if dtype == "bool" and not blank.any():
        return pd.Series(conv, dtype="bool")
    if dtype == "datetime":
        return pd.to_datetime(conv, utc=True)
    return pd.Series(conv, dtype="object")


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
        return to_utc(ts)
    raise ValueError(dtype)
