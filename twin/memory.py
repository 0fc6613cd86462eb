"""Hand the heap's free pages back to the operating system after a large one-off build: glibc keeps freed memory in
its arenas otherwise, and a server that built a million-row index once would hold the build's scratch forever."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (musl, macOS): nothing to hand back this way
        return None


def release() -> None:
    """Return freed heap memory to the operating system (glibc's malloc_trim; a no-op elsewhere)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
