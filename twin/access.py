"""Who is asking, and what they may see: roles, grid limits, and small-count suppression. No web code here."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from .vocab import INCIDENT_CATEGORIES

ROLES = ("public", "planner", "staff", "admin")
# Redrawing and adopting grids moves every grid worker's territory: a street-office decision, for admins only
# (staff, even with no grid scope, may read results they are shown but may not start or adopt a redraw).
PLAN_ROLES = ("admin",)
SUPPRESS_BELOW = 3  # counts of 1 or 2 people/households are hidden from public and planner callers
ROUNDING_BASE = 3  # other people counts they see are randomly rounded to a multiple of this (see protect)


@dataclass(frozen=True)
class Principal:
    """A caller: a role, and for staff optionally the grid codes they are limited to (None = all grids)."""

    role: str = "public"
    grids: frozenset | None = None
    name: str = "anonymous"

    @property
    def sees_personal(self) -> bool:
        """Whether this caller may see personal fields at all (in some grids)."""
        return self.role in ("staff", "admin")

    @property
    def sees_all_personal(self) -> bool:
        """Whether this caller may see personal data of every grid (admin, or staff without a grid limit); only
        such callers get exact numbers derived from households street-wide (risk points, care counts)."""
        return self.role == "admin" or (self.role == "staff" and self.grids is None)

    def may_see_grid(self, grid_code) -> bool:
        """Whether this caller may see personal data of households in `grid_code`."""
        if self.role == "admin":
            return True
        if self.role != "staff":
            return False
        return self.grids is None or grid_code in self.grids


PUBLIC = Principal()


def may_see_contact(p: Principal, grid_code) -> bool:
    """Whether `p` may see the contact fields of an incident in `grid_code` (staff of its grid, or admin)."""
    return p.sees_personal and p.may_see_grid(grid_code)


def suppress(count: int | None):
    """A count as a public or planner caller may see it: None (suppressed) for 1 or 2, else unchanged.

    Zero is shown: it discloses no one, and hiding it would make empty areas look like suppressed ones.
    """
    if count is None:
        return None
    return None if 0 < int(count) < SUPPRESS_BELOW else int(count)


def cell_draw(*key) -> float:
    """A number in [0, 1) fixed by `key` (the records a figure counts): the same records always draw the same."""
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def protect(value, *key):
    """A count about people as public and planner callers see it: the one small-count rule of areas and reports.

    1 or 2 (any value in (0, 3)) is suppressed (None); others are randomly rounded to a multiple of ROUNDING_BASE,
    up with probability (value mod 3) / 3, so unbiased; the draw is fixed by `key` (what the figure counts), so
    asking again returns the same number and cannot be averaged away. Two overlapping areas therefore no longer
    subtract to a hidden count (random rounding, as national statistics offices publish small-area tables).
    """
    if value is None:
        return None
    v = float(value)
    if v <= 0:
        return 0
    if v < SUPPRESS_BELOW:
        return None
    low = math.floor(v / ROUNDING_BASE + 1e-9) * ROUNDING_BASE
    up = cell_draw(*key) < (v - low) / ROUNDING_BASE
    return int(low + ROUNDING_BASE if up else low)


def coarse_counts(counts) -> np.ndarray:
    """Per-place counts of people for numbers derived from them (risk points): 1 and 2 count as 0."""
    c = np.asarray(counts)
    return np.where(c >= SUPPRESS_BELOW, c, 0)


# Incidents about one person's care (an SOS alarm, a visit to someone living alone) point at a household: where
# they happen is personal data, so they are shown as records only to callers who may see that grid's households.
PERSONAL_CATEGORIES = frozenset(code for code, entry in INCIDENT_CATEGORIES.items() if entry[2] == "care")


def may_see_incidents(p: Principal, categories, grid_codes) -> np.ndarray:
    """Which incidents (by category and grid) `p` may see as records; aggregates count them all."""
    categories = np.asarray(categories, dtype=object)
    personal = np.isin(categories, list(PERSONAL_CATEGORIES))
    if p.role == "admin" or not personal.any():
        return np.ones(len(categories), dtype=bool)
    if p.role != "staff":
        return ~personal
    if p.grids is None:
        return np.ones(len(categories), dtype=bool)
    return ~personal | np.isin(np.asarray(grid_codes, dtype=object), list(p.grids))
