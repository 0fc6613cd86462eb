"""15-digit grid codes (12-digit community + 3-digit sequence), numbered west→east, north→south in each community;
a grid that barely changed keeps today's code (Hungarian matching of new to old grids by shared households)."""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from twin.errors import InvalidInput

log = logging.getLogger(__name__)

KEEP_SHARE = 0.8  # a new grid keeps an old code when each holds at least this share of the other's households


def match(new, old, weight) -> dict:
    """{new label: old code} maximising shared weight (Hungarian); labels with no overlap stay unmatched."""
    has = np.array([o is not None for o in old], bool)
    if not has.any():
        return {}
    new_u, new_i = np.unique(np.asarray(new)[has], return_inverse=True)
    old_u, old_i = np.unique(np.asarray(old, dtype=object)[has].astype(str), return_inverse=True)
    overlap = np.zeros((len(new_u), len(old_u)))
    np.add.at(overlap, (new_i, old_i), np.asarray(weight, float)[has] + 1e-6)
    rows, cols = linear_sum_assignment(-overlap)
    return {
        new_u[r].item() if hasattr(new_u[r], "item") else new_u[r]: str(old_u[c])
        for r, c in zip(rows, cols)
        if overlap[r, c] > 0
    }


def reading_order(xy: np.ndarray, row_height: float) -> np.ndarray:
    """Order of points in rows from north to south, each row west to east."""
    if not len(xy):
        return np.zeros(0, int)
    row = np.floor((xy[:, 1].max() - xy[:, 1]) / max(row_height, 1e-9)).astype(int)
    return np.lexsort((xy[:, 0], row))


def assign_codes(community_id: str, labels, households, current, centres: dict, area_m2: float) -> dict:
    """{label: (code, previous code or None, kept)} for the grids of one community."""
    labels = np.asarray(labels)
    households = np.asarray(households, float)
    grids = sorted(centres)
    if len(grids) > 999:
        raise InvalidInput(f"community {community_id} would need {len(grids)} grids; a 15-digit code holds 999")
    matched = match(labels, current, households)
    hh_new = {g: households[labels == g].sum() for g in grids}
    cur = np.array([c if c is not None else "" for c in current], dtype=object)
    kept = {}
    for g, code in matched.items():
        shared = households[(labels == g) & (cur == code)].sum()
        old_total = households[cur == code].sum()
        if shared >= KEEP_SHARE * max(hh_new[g], old_total) and (shared > 0 or old_total == hh_new[g] == 0):
            kept[g] = code
    used = {int(c[-3:]) for c in kept.values() if c.startswith(community_id)}
    fresh = [g for g in grids if g not in kept]
    xy = np.array([centres[g] for g in fresh]).reshape(-1, 2)
    order = reading_order(xy, math.sqrt(area_m2 / max(len(grids), 1)))
    seq = (s for s in range(1, 1000) if s not in used)
    out = {g: (code, code, True) for g, code in kept.items()}
    for i in order:
        g = fresh[i]
        out[g] = (f"{community_id}{next(seq):03d}", matched.get(g), False)
    return out
