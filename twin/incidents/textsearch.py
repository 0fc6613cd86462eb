"""Text search over incident ids and descriptions: which incidents contain a piece of text (case-folded).

The work queue's search box finds a substring anywhere, Chinese included ("楼道", "漏水": two characters, no word
boundaries). SQLite's FTS5 trigram tokenizer and PostgreSQL's pg_trgm both need three characters to use their index
(shorter queries scan everything), so the index is here, built from the store's texts once on the first search:
the case-folded texts of a run of positions joined into one string (`Block`), searched by the C string search and
jumped to the next row after each hit, with the row starts to map hits to positions. Built on the first search;
rows written since are scanned directly until there are enough of them for a new block.

Ids and descriptions never change once a report is filed (only stages, times and places do), so a block stays valid.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

SEP = "\x00"  # between an id and its description, and between rows: no query holds it (queries are plain text)
BLOCK_MIN = 20_000  # rows written since the last block that are scanned directly; more make a new block
SCAN_BELOW = 20_000  # a filtered set this small is scanned directly (cheaper than a search of every row)


@dataclass(frozen=True)
class Block:
    """Rows [lo, hi) as one string: id SEP description SEP ..., and where each row starts in it."""

    lo: int
    hi: int
    text: str
    starts: np.ndarray  # starts[k] = offset of row lo + k; starts[-1] = len(text) + 1

    @classmethod
    def of(cls, ids, descriptions, lo: int) -> "Block":
        """The block of rows lo, lo + 1, ... with these ids and descriptions."""
        parts = [f"{_fold(i)}{SEP}{_fold(d)}" for i, d in zip(ids, descriptions)]
        sizes = np.fromiter((len(p) + 1 for p in parts), dtype=np.int64, count=len(parts))
        starts = np.concatenate([[0], np.cumsum(sizes)])
        return cls(lo, lo + len(parts), SEP.join(parts), starts)

    def find(self, q: str) -> np.ndarray:
        """Positions of the rows holding `q` (case-folded already), ascending."""
        out, text, starts, at = [], self.text, self.starts, 0
        find, locate = text.find, starts.searchsorted
        while (at := find(q, at)) >= 0:
            k = int(locate(at, side="right")) - 1
            out.append(k)
            at = int(starts[k + 1])  # one hit per row is enough: on to the next row
        return self.lo + np.asarray(out, dtype=np.int64)


class TextIndex:
    """Blocks over the first rows of a LiveTable; the rows after them are scanned directly."""

    def __init__(self):
        self._blocks: list[Block] = []
        self._lock = threading.Lock()

    def covered(self) -> int:
        """How many leading positions the blocks hold."""
        return self._blocks[-1].hi if self._blocks else 0

    def positions(self, table, q: str, within: np.ndarray | None = None) -> np.ndarray:
        """Positions (ascending) of the rows of `table` whose id or description holds `q`, case-folded; only those
        in `within` (ascending positions) when given."""
        q = _fold(q)
        n = table.n
        if not q or SEP in q:
            return np.empty(0, dtype=np.int64)
        if within is not None and len(within) < SCAN_BELOW:
            return within[scan(table, q, within)]
        self._extend(table, n)
        hits = [b.find(q) for b in self._blocks]
        tail = np.arange(self.covered(), n, dtype=np.int64)
        hits.append(tail[scan(table, q, tail)])
        found = np.concatenate(hits)
        return found if within is None else found[np.isin(found, within, assume_unique=True)]

    def _extend(self, table, n: int) -> None:
        if n - self.covered() < BLOCK_MIN and self._blocks:
            return
        with self._lock:
            lo = self.covered()
            if n - lo >= BLOCK_MIN or (not self._blocks and n):
                block = Block.of(table.cols["incident_id"][lo:n], descriptions(table, np.arange(lo, n)), lo)
                self._blocks = [*self._blocks, block]
                log.info("text index: rows %d-%d indexed (%.0f MB)", lo, n, len(block.text) * 2 / 1e6)


def scan(table, q: str, pos: np.ndarray) -> np.ndarray:
    """Whether each row at `pos` holds `q` (case-folded) in its id or description: a direct scan."""
    if not len(pos):
        return np.zeros(0, dtype=bool)
    ids = pd.Series(table.cols["incident_id"][pos], dtype=object, copy=False).str.casefold()
    desc = pd.Series(descriptions(table, pos), dtype=object, copy=False).str.casefold()
    return (ids.str.contains(q, regex=False).fillna(False) | desc.str.contains(q, regex=False).fillna(False)).to_numpy(
        dtype=bool
    )


def descriptions(table, pos: np.ndarray) -> np.ndarray:
    """The descriptions at `pos`: open incidents' from memory, closed ones' from the store (see LiveTable)."""
    return table.frame(pos, ["description"])["description"].to_numpy(dtype=object)


def _fold(value) -> str:
    return value.casefold() if isinstance(value, str) else ""
