"""Giving memory freed by a large start-up step back to the operating system.

Loading a million incidents or indexing a million households makes and drops many temporary objects; glibc keeps
the freed pages in the process (hundreds of MB at a district's volume) unless asked to return them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)


def release() -> None:
    """Collect garbage and return freed heap pages to the OS (glibc malloc_trim); nothing where there is no glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): the allocator keeps its own pages
        log.debug("malloc_trim is not available here")
