"""Whole numbers of grids per community: Huntington–Hill from a district total, or rounding from a target load."""

from __future__ import annotations

import heapq
import logging
import math

from twin.errors import InvalidInput

log = logging.getLogger(__name__)


def huntington_hill(loads: dict, total: int, minimum: dict | None = None, maximum: dict | None = None) -> dict:
    """Split `total` grids among communities in proportion to `loads` (Huntington–Hill, at least one each)."""
    minimum = {c: max(1, (minimum or {}).get(c, 1)) for c in loads}
    maximum = {c: (maximum or {}).get(c, 999) for c in loads}
    if total < sum(minimum.values()):
        raise InvalidInput(
            f"{total} grids are too few: the {len(loads)} communities need at least "
            f"{sum(minimum.values())} (one each, plus locked grids)",
            field="grids",
        )
    if total > sum(maximum.values()):
        raise InvalidInput(
            f"{total} grids are too many: the communities can hold at most {sum(maximum.values())} "
            "(one building or compound at least per grid, 999 per community; a community whose every building is in a "
            "locked grid keeps just those)",
            field="grids",
        )
    seats = dict(minimum)
    heap = [(-_priority(loads[c], seats[c]), c) for c in loads if seats[c] < maximum[c]]
    heapq.heapify(heap)
    for _ in range(total - sum(seats.values())):
        _, c = heapq.heappop(heap)
        seats[c] += 1
        if seats[c] < maximum[c]:
            heapq.heappush(heap, (-_priority(loads[c], seats[c]), c))
    return seats


def from_target(loads: dict, target: float, minimum: dict | None = None, maximum: dict | None = None) -> dict:
    """Grids per community so each carries about `target` load: the count whose mean load is nearest the target."""
    out = {}
    for c, load in loads.items():
        lo, hi = max(1, (minimum or {}).get(c, 1)), (maximum or {}).get(c, 999)
        k = max(1, math.floor(load / target))
        if abs(load / (k + 1) - target) < abs(load / k - target):
            k += 1
        out[c] = min(max(k, lo), hi)
    return out


def _priority(load: float, seats: int) -> float:
    return load / math.sqrt(seats * (seats + 1))
