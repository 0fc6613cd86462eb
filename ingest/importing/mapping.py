"""Reshaping a CSV from another system: its columns renamed to schema fields and its codes mapped to ours.

`--map COL=FIELD` renames a column; `--map FIELD:VALUE=CODE` maps a value of a field (e.g. category, source,
stage) and `--map FIELD:=CODE` fills it where blank or absent; a map file (JSON) says the same as
{"columns": {COL: FIELD}, "values": {FIELD: {VALUE: CODE, "": DEFAULT}}}. The command line adds to the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import InvalidInput

from .sources import XY_COLUMNS

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")  # schema fields are snake_case: "category:Noise=garbage" maps a value


@dataclass(frozen=True)
class Mapping:
    """Column renames and value maps for one import."""

    columns: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.columns or self.values)

    @classmethod
    def parse(cls, specs=(), file=None) -> "Mapping":
        """The mapping of a map file (JSON) and `--map` specs, the specs last; InvalidInput naming a bad one."""
        columns: dict = {}
        values: dict = {}
        if file:
            try:
                doc = json.loads(Path(file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InvalidInput(f"map file {file}: cannot read it as JSON ({exc})", file=str(file)) from None
            if not isinstance(doc, dict) or set(doc) - {"columns", "values"}:
                raise InvalidInput(f"map file {file}: expected an object with columns and values", file=str(file))
            columns.update({str(k): str(v) for k, v in (doc.get("columns") or {}).items()})
            for f, table in (doc.get("values") or {}).items():
                values.setdefault(str(f), {}).update({str(k): str(v) for k, v in table.items()})
        for spec in specs or ():
            left, eq, right = spec.partition("=")
            if not eq or not right.strip():
                raise InvalidInput(f"--map {spec!r}: write COL=FIELD, FIELD:VALUE=CODE or FIELD:=CODE", map=spec)
            name, colon, value = left.partition(":")
            if colon and FIELD_NAME.fullmatch(name.strip()):
                values.setdefault(name.strip(), {})[value.strip()] = right.strip()
            else:
                columns[left.strip()] = right.strip()
        return cls(columns, values)

    def check(self, kind) -> None:
        """InvalidInput for a target that is not a field of `kind` (coordinate columns allowed)."""
        allowed = set(kind.schema.names) | {c for pair in XY_COLUMNS for c in pair}
        for target in list(self.columns.values()) + list(self.values):
            if target not in allowed:
                raise InvalidInput(
                    f"--map: {target!r} is not a field of {kind.name}; fields: {', '.join(kind.schema.names)}",
                    field=target,
                )

    def apply(self, df: pd.DataFrame, report) -> pd.DataFrame:
        """`df` with columns renamed and values mapped; the report counts what each map changed."""
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise InvalidInput(
                f"--map names column(s) {', '.join(map(repr, missing))} the file lacks; its columns: "
                f"{', '.join(df.columns)}",
                column=missing[0],
            )
        df = df.drop(columns=[t for t in self.columns.values() if t in df.columns and t not in self.columns])
        df = df.rename(columns=self.columns)
        if self.columns:
            report.note("columns mapped: " + ", ".join(f"{a} -> {b}" for a, b in self.columns.items()))
        for name, table in self.values.items():
            col = df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
            text = col.astype("string").str.strip()
            blank = text.isna() | (text == "")
            mapped = text.map(lambda v: table.get(v, v), na_action="ignore").astype(object)
            if "" in table:
                mapped = mapped.where(~blank, table[""])
            changed = int((mapped.fillna("\0").to_numpy() != col.fillna("\0").to_numpy(dtype=object)).sum())
            if changed:
                report.defaults[f"{name} values mapped"] = changed
            df[name] = np.asarray(mapped, dtype=object)
        return df
