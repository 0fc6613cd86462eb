"""What an import did: rows read and written, geometries repaired, rows skipped (with reasons), values defaulted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import SchemaError

SHOWN = 10  # ids or rows listed in a one-line message before "and N more"


@dataclass
class Problem:
    """One source row that cannot be imported as it stands."""

    row: int  # 1-based feature/record number in the source file
    id: str | None
    reason: str
    column: str | None = None

    def __str__(self) -> str:
        return f"row {self.row}" + (f" (id {self.id})" if self.id else "") + f": {self.reason}"


@dataclass
class ImportReport:
    """Summary of one `twin import` run, printable as text or JSON."""

    layer: str
    source: str
    target: str = ""
    crs: str = ""
    rows_read: int = 0
    rows_written: int = 0
    repaired: list = field(default_factory=list)  # ids of geometries repaired with make_valid
    skipped: list = field(default_factory=list)  # Problem rows left out (only with skip_bad)
    defaults: Counter = field(default_factory=Counter)  # what was filled in -> how many rows
    notes: list = field(default_factory=list)
    preview: list = field(default_factory=list)  # first rows of a dry run, as they would be written

    def note(self, text: str) -> None:
        """Record a remark for the person running the import."""
        self.notes.append(text)

    def lines(self) -> list[str]:
        """The report as short human-readable lines."""
        out = [
            f"imported {self.layer} from {self.source} ({self.crs or 'no coordinates'}) into {self.target}",
            f"  rows read {self.rows_read}, written {self.rows_written}, repaired {len(self.repaired)}, "
            f"skipped {len(self.skipped)}",
        ]
        if self.repaired:
            out.append(f"  repaired geometries: {listing(self.repaired)}")
        for p in self.skipped[:SHOWN]:
            out.append(f"  skipped {p}")
        if len(self.skipped) > SHOWN:
            out.append(f"  ... and {len(self.skipped) - SHOWN} more skipped rows")
        for what, n in sorted(self.defaults.items()):
            out.append(f"  {what}: {n} row{'s' if n != 1 else ''}")
        out.extend(f"  note: {n}" for n in self.notes)
        for i, row in enumerate(self.preview, 1):
            out.append(f"  row {i}: " + ", ".join(f"{k}={v}" for k, v in row.items() if v is not None))
        return out

    def to_dict(self) -> dict:
        """JSON-able form (for `twin import --json`)."""
        return {
            "layer": self.layer,
            "source": self.source,
            "target": self.target,
            "crs": self.crs,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "repaired": list(self.repaired),
            "skipped": [{"row": p.row, "id": p.id, "column": p.column, "reason": p.reason} for p in self.skipped],
            "defaults": dict(self.defaults),
            "notes": list(self.notes),
            **({"preview": list(self.preview)} if self.preview else {}),
        }

    def write(self, path) -> Path:
        """Write the full report (every repaired and skipped row) as JSON to `path`."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path

    def settle(self, problems: dict[int, tuple[str, str]], rows: np.ndarray, ids, skip_bad: bool) -> np.ndarray:
        """Mask of usable rows; `problems` ({position: (reason, column)}) are skipped and listed, or raised.

        Without `skip_bad` the first problem is raised as a SchemaError naming file, row and column.
        """
        keep = np.ones(len(rows), dtype=bool)
        if not problems:
            return keep
        first = min(problems)
        if not skip_bad:
            reason, column = problems[first]
            more = f" ({len(problems) - 1} more rows with problems)" if len(problems) > 1 else ""
            raise SchemaError(
                f"{reason}{more}; --skip-bad leaves such rows out and lists them in the report",
                file=self.source,
                row=int(rows[first]),
                column=column,
            )
        for pos in sorted(problems):
            reason, column = problems[pos]
            ident = None if ids is None or pd.isna(ids[pos]) else str(ids[pos])
            self.skipped.append(Problem(int(rows[pos]), ident, reason, column))
        keep[list(problems)] = False
        return keep


def listing(items, shown: int = SHOWN) -> str:
    """`a, b, c and 7 more` for long lists, on one line."""
    items = [str(i) for i in items]
    head = ", ".join(items[:shown])
    return head + (f" and {len(items) - shown} more" if len(items) > shown else "")
