"""What each role may ask of the area query: a per-address rate for public and planner callers (a sliding window
kept in memory, one per process), and the vertex and area limits of their polygons. Limits are settings."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections import deque

from flask import current_app, request

from twin.errors import InvalidInput, TooManyRequests

from .auth import current_principal

log = logging.getLogger(__name__)

WINDOW_S = 60.0
MAX_ADDRESSES = 100_000  # addresses remembered at once; the oldest are forgotten beyond this


class RateLimiter:
    """At most `per_window` events per key within any `window_s` seconds (a sliding log per key)."""

    def __init__(self, per_window: int, window_s: float = WINDOW_S, max_keys: int = MAX_ADDRESSES):
        self.per_window, self.window_s, self.max_keys = per_window, window_s, max_keys
        self._log: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float:
        """Count one event of `key`; 0 when allowed, else the seconds until the next one would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._log.pop(key, None) or deque()
            while times and times[0] <= now - self.window_s:
                times.popleft()
            self._log[key] = times  # re-inserted last: dict order is least recently used first
            if len(times) >= self.per_window:
                return times[0] + self.window_s - now
            times.append(now)
            if len(self._log) > self.max_keys:
                del self._log[next(iter(self._log))]
            return 0.0


def _limiter(name: str) -> RateLimiter | None:
    per_minute = int(current_app.config.get("AREA_RATE_PER_MINUTE") or 0)
    if per_minute <= 0:
        return None
    ext = current_app.extensions.setdefault("rate_limiters", {})
    if name not in ext or ext[name].per_window != per_minute:
        ext[name] = RateLimiter(per_minute)
    return ext[name]


def rate_limited(name: str):
    """Decorator: public and planner callers get 429 past the per-address rate (staff and admin are not limited)."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            limiter = None if current_principal().sees_personal else _limiter(name)
            if limiter is not None:
                wait = limiter.hit(request.remote_addr or "?")
                if wait > 0:
                    retry = max(1, math.ceil(wait))
                    raise TooManyRequests(
                        f"too many area queries from this address: at most {limiter.per_window} a minute; "
                        f"try again in {retry} s",
                        retry_after_s=retry,
                    )
            return view(*args, **kwargs)

        return inner

    return wrap


def max_vertices() -> int:
    """Most vertices the caller's polygon may have: PUBLIC_MAX_VERTICES for public/planner, else MAX_VERTICES."""
    cfg = current_app.config
    limit = int(cfg["MAX_VERTICES"])
    if not current_principal().sees_personal:
        limit = min(limit, int(cfg["PUBLIC_MAX_VERTICES"]))
    return limit


def check_area_size(area_m2: float) -> None:
    """InvalidInput when a public or planner caller asks about more than PUBLIC_MAX_AREA_KM2."""
    limit = float(current_app.config["PUBLIC_MAX_AREA_KM2"])
    if not current_principal().sees_personal and area_m2 > limit * 1e6:
        raise InvalidInput(
            f"the area is {area_m2 / 1e6:,.1f} km²; public and planner queries cover at most {limit:g} km²",
            max_km2=limit,
        )
