"""Progress of long start-up steps: a bar on a terminal, and log lines with counts wherever the log goes."""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

log = logging.getLogger(__name__)

MIN_ROWS = 20_000  # steps over fewer rows are quick: no bar, one debug line
LOG_EVERY_S = 10.0  # a log line with the count so far at most this often


class Progress:
    """Counts of one long step: `update(n)` as rows are done; `close()` logs the total and the time taken."""

    def __init__(self, total: int, desc: str, unit: str = "row", min_rows: int = MIN_ROWS):
        self.total, self.desc, self.unit, self.min_rows = int(total), desc, unit, min_rows
        self.done = 0
        self.t0 = self._last = time.perf_counter()
        long = self.total >= min_rows
        self.bar = tqdm(
            total=self.total, desc=desc, unit=unit, unit_scale=True, leave=False, disable=not (long and _tty())
        )
        (log.info if self.total >= min_rows else log.debug)("%s: %s %ss to do", desc, f"{self.total:,}", unit)

    def update(self, n: int = 1) -> None:
        """`n` more rows done."""
        self.done += n
        self.bar.update(n)
        now = time.perf_counter()
        if self.total >= self.min_rows and now - self._last >= LOG_EVERY_S:
            self._last = now
            log.info(
                "%s: %s of %s %ss (%.0f%%)",
                self.desc,
                f"{self.done:,}",
                f"{self.total:,}",
                self.unit,
                100 * self.done / max(self.total, 1),
            )

    def close(self) -> None:
        """Remove the bar; log what was done and how long it took."""
        self.bar.close()
        (log.info if self.total >= self.min_rows else log.debug)(
            "%s: %s %ss in %.1f s", self.desc, f"{self.done:,}", self.unit, time.perf_counter() - self.t0
        )

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _tty() -> bool:
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
