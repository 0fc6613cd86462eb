"""Redraw one community: tessellate, build the unit graph, start from today's plan (or afresh), search."""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import linear_sum_assignment

from twin.errors import InvalidInput

from .band import oversized
from .graph import subgraph
from .instance import CommunityData
from .params import RedrawParams
from .search import Problem, solve
from .seed import bisect, fit_count, repair

log = logging.getLogger(__name__)


def solve_community(
    data: CommunityData, footprints, k: int, params: RedrawParams, locked=frozenset(), roads=None, progress=None
) -> tuple[CommunityData, np.ndarray]:
    """Labels 0..k-1 of each building of `data` (tessellated here) for a contiguous, balanced, compact plan."""
    if data.graph is None:  # the same community solved at several keep values is tessellated once
        data.prepare(footprints, roads)
    if len(data.buildings) == 0:
        return data, np.zeros(0, int)
    problem, unit_of = start(data, k, params, locked)
    labels = solve(problem, progress)
    return data, labels[unit_of]


def start(data: CommunityData, k: int, params: RedrawParams, locked=frozenset()) -> tuple[Problem, np.ndarray]:
    """The search problem of a tessellated community (start plan contiguous, k labels) and each building's unit."""
    n = len(data.buildings)
    units, unit_of = np.unique(data.group, return_inverse=True)
    if len(units) < n:
        graph = subgraph(data.graph, np.arange(n), merge=unit_of)
    else:  # every building is its own unit: keep the building order
        graph, unit_of = data.graph, np.arange(n)
    m = graph.n
    uload = np.bincount(unit_of, data.load, m)
    uhh = np.bincount(unit_of, data.households, m)
    codes_now = sorted({c for c in data.current if c is not None})
    unit_code = _majority(unit_of, data.current, data.households + 1e-3, m)  # today's grid of each unit
    code_idx = {c: i for i, c in enumerate(codes_now)}
    today = np.array([code_idx.get(c, -1) if c is not None else -1 for c in unit_code])
    locked_idx = {code_idx[c] for c in codes_now if c in locked}
    fixed = np.isin(today, list(locked_idx)) if locked_idx else np.zeros(m, bool)
    name = data.label()
    if k > m:
        raise InvalidInput(f"community {name} has {m} buildings/compounds, too few for {k} grids")
    if not (~fixed).any() and k > len(locked_idx):
        raise InvalidInput(
            f"community {name}: all its buildings are in its {len(locked_idx)} locked grids, so none is left for "
            f"the {k - len(locked_idx)} more asked for; lock fewer grids or ask for fewer",
            field="locked",
        )
    if len(locked_idx) >= k and (~fixed).any():
        raise InvalidInput(
            f"community {name}: {len(locked_idx)} locked grids leave none of its {k} "
            "grids for the other buildings; ask for more grids or lock fewer",
            field="locked",
        )
    big = oversized(uload, fixed, k - len(locked_idx), params.band)
    if params.start == "current" and (today >= 0).any():
        labels = _fill_unlabelled(graph, today.copy())
        big_labels = set(range(labels.max() + 1, labels.max() + 1 + int(big.sum())))
        labels[big] = sorted(big_labels)  # each building above the band alone in a grid of its own
        labels = repair(graph, labels, fixed | big)
        labels, renum = fit_count(graph, labels, uload, k, locked_idx | big_labels)
        origin = np.array([renum.get(t, -1) if t >= 0 else -1 for t in today])
        labels = repair(graph, labels, fixed | big)
    else:
        labels = np.full(m, -1)
        fixed_labels = sorted(locked_idx)
        for j, t in enumerate(fixed_labels):
            labels[today == t] = j
        first = len(fixed_labels)
        labels[big] = np.arange(first, first + int(big.sum()))
        first += int(big.sum())
        free = np.flatnonzero(~fixed & ~big)
        sub = bisect(graph.xy, uload, k - first, free, first, np.full(m, -1))
        labels[free] = sub[free]
        labels = repair(graph, labels, fixed | big)
        origin = _match_origin(labels, today, uhh, k, len(codes_now))
    data.held = (fixed | big)[unit_of]
    fixed = fixed | big
    problem = Problem(
        graph=graph,
        load=uload,
        households=uhh,
        labels=labels,
        origin=origin,
        fixed=fixed,
        k=k,
        band=params.band,
        keep=params.keep,
        compactness=params.compactness,
        effort=params.effort,
        seed=params.seed,
    )
    return problem, unit_of


def _majority(unit_of, values, weight, m) -> np.ndarray:
    """The value with the largest total weight in each unit (None where every value is None)."""
    best = np.full(m, None, dtype=object)
    score = {}
    for u, v, w in zip(unit_of.tolist(), values.tolist(), weight.tolist()):
        if v is not None:
            score[(u, v)] = score.get((u, v), 0.0) + w
    top = {}
    for (u, v), w in score.items():
        if u not in top or w > top[u][0] or (w == top[u][0] and v < top[u][1]):
            top[u] = (w, v)
    for u, (_, v) in top.items():
        best[u] = v
    return best


def _fill_unlabelled(graph, labels) -> np.ndarray:
    """Give units outside any grid today the grid of a labelled neighbour (spreading outwards)."""
    while (labels < 0).any():
        i, j, _ = graph.edges()
        a = (labels[i] < 0) & (labels[j] >= 0)
        b = (labels[j] < 0) & (labels[i] >= 0)
        if not a.any() and not b.any():
            labels[labels < 0] = labels[labels >= 0][0] if (labels >= 0).any() else 0
            break
        labels[i[a]] = labels[j[a]]
        labels[j[b]] = labels[i[b]]
    return labels


def _match_origin(labels, today, households, k, n_today) -> np.ndarray:
    """Today's grid of each unit, renamed to the new label it overlaps most (Hungarian on households)."""
    if n_today == 0:
        return np.full(len(labels), -1)
    overlap = np.zeros((k, n_today))
    has = today >= 0
    np.add.at(overlap, (labels[has], today[has]), households[has] + 1e-3)
    rows, cols = linear_sum_assignment(-overlap)
    rename = {int(c): int(r) for r, c in zip(rows, cols)}
    return np.array([rename.get(int(t), -1) if t >= 0 else -1 for t in today])
