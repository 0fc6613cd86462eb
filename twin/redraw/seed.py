"""Start plans for the search: today's grids adjusted to the wanted count, or a balanced geometric bisection;
both made contiguous by a repair that hands stray pieces to the neighbouring grid."""

from __future__ import annotations

import logging

import numpy as np

from twin.errors import InvalidInput

from .graph import CellGraph, components

log = logging.getLogger(__name__)


def bisect(
    xy: np.ndarray,
    load: np.ndarray,
    k: int,
    nodes: np.ndarray | None = None,
    first: int = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Labels first..first+k-1 for `nodes`: recursive cuts across the longer axis at the load-weighted split point."""
    if nodes is None:
        nodes = np.arange(len(xy))
        out = np.full(len(xy), -1)
    if k <= 1 or len(nodes) <= 1:
        out[nodes] = first
        return out
    k1 = k // 2
    pts = xy[nodes]
    span = pts.max(axis=0) - pts.min(axis=0)
    axis = int(np.argmax(span))
    w = load[nodes] + 1e-9 * (load[nodes].sum() + 1)  # a little weight so empty buildings still split
    order = np.argsort(pts[:, axis] if axis == 0 else -pts[:, axis], kind="stable")  # west→east, north→south
    cum = np.cumsum(w[order])
    cut = int(np.searchsorted(cum, cum[-1] * k1 / k))
    cut = min(max(cut, k1 - 1), len(nodes) - (k - k1) - 1) if len(nodes) >= k else min(cut, len(nodes) - 2)
    left, right = nodes[order[: cut + 1]], nodes[order[cut + 1 :]]
    bisect(xy, load, k1, left, first, out)
    bisect(xy, load, k - k1, right, first + k1, out)
    return out


def repair(graph: CellGraph, labels: np.ndarray, fixed: np.ndarray | None = None, rounds: int = 50) -> np.ndarray:
    """Make every grid contiguous: keep each grid's largest piece; the others go to the neighbour sharing most edge."""
    labels = labels.copy()
    i, j, s = graph.edges()
    for _ in range(rounds):
        same = labels[i] == labels[j]
        comp = components(graph.n, i[same], j[same])
        load = np.bincount(comp, graph.area + 1e-9, comp.max() + 1)
        best = {}
        for c in np.unique(comp):
            g = labels[np.flatnonzero(comp == c)[0]]
            if g not in best or load[c] > load[best[g]]:
                best[g] = c
        stray = np.array([c not in best.values() for c in range(comp.max() + 1)])
        if fixed is not None:
            stray[np.unique(comp[fixed])] = False
        if not stray[comp].any():
            return labels
        cut = ~same & stray[comp[i]] & ~stray[comp[j]]
        cut2 = ~same & stray[comp[j]] & ~stray[comp[i]]
        frm = np.concatenate([comp[i[cut]], comp[j[cut2]]])
        to = np.concatenate([labels[j[cut]], labels[i[cut2]]])
        length = np.concatenate([s[cut], s[cut2]])
        if fixed is not None:
            ok = ~np.isin(to, np.unique(labels[fixed]))
            frm, to, length = frm[ok], to[ok], length[ok]
        if not len(frm):
            log.warning(
                "%d grid pieces cannot be joined to a neighbour (the community is in separate parts)", int(stray.sum())
            )
            return labels
        order = np.lexsort((-length, frm))
        frm, to = frm[order], to[order]
        firsts = np.r_[True, frm[1:] != frm[:-1]]
        target = dict(zip(frm[firsts].tolist(), to[firsts].tolist()))
        for c, g in target.items():
            labels[comp == c] = g
    return labels


def fit_count(
    graph: CellGraph, labels: np.ndarray, load: np.ndarray, k: int, fixed_labels: set
) -> tuple[np.ndarray, dict]:
    """Merge the lightest grids into a neighbour, or split the heaviest in two, until there are `k` labels 0..k-1;
    also returns the renumbering {old label: new label} of the labels that survive."""
    labels = labels.copy()
    i, j, s = graph.edges()
    while True:
        present = [g for g in np.unique(labels) if g >= 0]
        if len(present) == k:
            break
        totals = {g: load[labels == g].sum() for g in present}
        free = [g for g in present if g not in fixed_labels]
        if not free:
            raise InvalidInput(f"only held grids are left to merge or split into {k} grids; lock fewer grids")
        if len(present) > k:
            g = min(free, key=lambda x: totals[x])
            nb = set(labels[j[labels[i] == g]]) | set(labels[i[labels[j] == g]])
            nb = [x for x in nb if x != g and x not in fixed_labels]
            if not nb:
                nb = [x for x in free if x != g]
            labels[labels == g] = min(nb, key=lambda x: totals[x])
        else:
            g = max(free, key=lambda x: (totals[x], np.sum(labels == x)))
            nodes = np.flatnonzero(labels == g)
            if len(nodes) < 2:
                raise ValueError("cannot split a grid of one building")
            part = bisect(graph.xy, load, 2, nodes, 0, np.full(graph.n, -1))
            labels[nodes[part[nodes] == 1]] = max(present) + 1
    uniq = np.unique(labels)
    return np.searchsorted(uniq, labels), {int(u): n for n, u in enumerate(uniq)}
