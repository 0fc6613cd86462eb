"""Giving memory freed by a large start-up step back to the operating system.

Loading a million incidents or indexing a million households makes and drops many temporary objects; glibc keeps
the freed pages in the process (hundreds of MB at a district's volume) unless asked to return them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
from contextlib import contextmanager

log = logging.getLogger(__name__)


def release(freeze: bool = True) -> None:
    """Collect garbage, set what survived start-up aside from later collections (gc.freeze, when `freeze`: for a
    large twin only), and return freed heap pages to the OS (Arrow's pool, and glibc's malloc_trim where it is).

    Start-up leaves close to a million long-lived objects (layers, search keys, incident ids); without the freeze
    every full collection walks them all, a pause of a few hundred ms that lands on whichever report allocates.
    Frozen objects are still freed when their last reference goes; only cycles among them are never collected.
    """
    gc.collect()
    if freeze:
        gc.freeze()
    if "pyarrow" in sys.modules:  # Arrow's allocator (mimalloc or jemalloc) keeps freed pages too
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): the allocator keeps its own pages
        log.debug("malloc_trim is not available here")


def frozen() -> bool:
    """Whether start-up set its heap aside (release with freeze): later start-up work then sets its own aside too,
    or the next full collection walks it on a user's request."""
    return gc.get_freeze_count() > 0


@contextmanager
def collection_paused():
    """Garbage collection paused inside (as it was after): for a step that makes many short-lived acyclic objects
    at once (a report's hotspots), where full collections would walk the heap several times for nothing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
