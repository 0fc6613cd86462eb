"""Adjacency of tessellation cells through shared edges (not corners), optionally cut where roads separate them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

log = logging.getLogger(__name__)

MIN_SHARED_M = 0.05  # cells touching along less than this (a corner) are not neighbours


@dataclass
class CellGraph:
    """Cells as a graph in CSR form: neighbours of node i are idx[ptr[i]:ptr[i+1]] with shared edge lengths."""

    ptr: np.ndarray
    idx: np.ndarray
    shared: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray
    xy: np.ndarray

    @property
    def n(self) -> int:
        return len(self.area)

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each undirected edge once: (i, j, shared length) with i < j."""
        i = np.repeat(np.arange(self.n), np.diff(self.ptr))
        keep = i < self.idx
        return i[keep], self.idx[keep], self.shared[keep]

    def neighbours(self, i: int) -> np.ndarray:
        """Nodes sharing an edge with node i."""
        return self.idx[self.ptr[i] : self.ptr[i + 1]]


def build_graph(cells, roads=None) -> CellGraph:
    """The shared-edge graph of `cells` (metric polygons); edges whose centre-to-centre line crosses a road are cut,
    except where cutting would split the community (then the shortest crossing is kept)."""
    cells = np.asarray(cells, dtype=object)
    n = len(cells)
    xy = shapely.get_coordinates(shapely.point_on_surface(cells)) if n else np.zeros((0, 2))
    if len(xy) != n:  # empty cells have no point on surface
        xy = np.array(
            [
                shapely.get_coordinates(shapely.point_on_surface(c))[0] if not c.is_empty else (np.nan, np.nan)
                for c in cells
            ]
        )
    i, j = shapely.STRtree(cells).query(cells, predicate="intersects") if n else (np.array([], int),) * 2
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(cells[i]), shapely.boundary(cells[j])))
    keep = shared > MIN_SHARED_M
    i, j, shared = i[keep], j[keep], shared[keep]
    if roads is not None and len(i):
        i, j, shared = _cut_roads(n, i, j, shared, xy, roads)
    return _csr(n, i, j, shared, shapely.area(cells), shapely.length(cells), xy)


def subgraph(graph: CellGraph, nodes: np.ndarray, merge: np.ndarray | None = None) -> CellGraph:
    """The graph restricted to `nodes` (renumbered 0..len-1); with `merge` (a group per node) groups become nodes."""
    pos = np.full(graph.n, -1)
    pos[nodes] = np.arange(len(nodes))
    i, j, s = graph.edges()
    keep = (pos[i] >= 0) & (pos[j] >= 0)
    i, j, s = pos[i[keep]], pos[j[keep]], s[keep]
    area, perim, xy = graph.area[nodes], graph.perimeter[nodes], graph.xy[nodes]
    if merge is None:
        return _csr(len(nodes), i, j, s, area, perim, xy)
    groups, g = np.unique(merge, return_inverse=True)
    m = len(groups)
    gi, gj = g[i], g[j]
    inner = gi == gj
    garea = np.bincount(g, area, m)
    gperim = np.bincount(g, perim, m) - 2 * np.bincount(gi[inner], s[inner], m)
    gxy = (
        np.column_stack([np.bincount(g, xy[:, 0] * area, m), np.bincount(g, xy[:, 1] * area, m)])
        / np.maximum(garea, 1e-9)[:, None]
    )
    a, b = np.minimum(gi[~inner], gj[~inner]), np.maximum(gi[~inner], gj[~inner])
    mat = coo_matrix((s[~inner], (a, b)), shape=(m, m)).tocsr().tocoo()
    return _csr(m, mat.row, mat.col, mat.data, garea, gperim, gxy)


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected-component label of each of n nodes given undirected edges (i, j)."""
    mat = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    return connected_components(mat, directed=False)[1]


def _csr(n, i, j, shared, area, perim, xy) -> CellGraph:
    a = np.concatenate([i, j]).astype(np.int64)
    b = np.concatenate([j, i]).astype(np.int64)
    s = np.concatenate([shared, shared]).astype(float)
    order = np.lexsort((b, a))
    a, b, s = a[order], b[order], s[order]
    ptr = np.searchsorted(a, np.arange(n + 1))
    return CellGraph(ptr, b, s, np.asarray(area, float), np.asarray(perim, float), np.asarray(xy, float))


def _cut_roads(n, i, j, shared, xy, roads):
    roads = np.asarray(shapely.get_parts(np.atleast_1d(roads)), dtype=object)
    if not len(roads):
        return i, j, shared
    links = shapely.linestrings(np.stack([xy[i], xy[j]], axis=1))
    link_idx, _ = shapely.STRtree(roads).query(links, predicate="crosses")
    barrier = np.zeros(len(i), bool)
    barrier[np.unique(link_idx)] = True
    before = components(n, i, j)
    after = components(n, i[~barrier], j[~barrier])
    keep = ~barrier
    # keep the longest crossing between two road-separated pieces of one connected community
    for e in np.flatnonzero(barrier)[np.argsort(-shared[barrier])]:
        if before[i[e]] == before[j[e]] and after[i[e]] != after[j[e]]:
            keep[e] = True
            after[after == after[j[e]]] = after[i[e]]
    log.info("roads cut %d of %d adjacencies", int((~keep).sum()), len(i))
    return i[keep], j[keep], shared[keep]
