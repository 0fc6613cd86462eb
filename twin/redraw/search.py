"""Local search over contiguous plans of one community: move a building across a border, swap two across it, or
merge two neighbouring grids and re-split them by a straight cut. Simulated annealing on
    compactness Σ P²/(4πA)  +  balance Σ (d/band)² · 0.05  +  keep · households moved / ideal load,
with the band as a hard limit (a move may never take the plan further out of band). When the band repairs stall,
a rescue anneals with the band as a heavy cost instead, so a plan kept close to today's can still reach it."""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, replace

import numpy as np

from .graph import CellGraph

log = logging.getLogger(__name__)

BALANCE_WEIGHT = 0.05  # balance inside the band only breaks ties; the band itself is hard
EXCESS_WEIGHT = 200.0  # cost of each unit of relative load outside the band while the start is still infeasible
P_SWAP, P_RESPLIT = 0.15, 0.10  # share of proposals that are swaps and merge-and-resplits (the re-cuts do most
# for compactness: none gives mean Polsby-Popper 0.53 on the demo, 4% gives 0.59, 10% 0.60)
RESPLIT_DIRECTIONS = 12
RESCUE_EFFORT = 3  # rescue proposals per node, as a multiple of `effort`, when repairs leave grids out of band
RESCUE_ROUNDS = 6  # the rescue restarts this many times from its best plan, twice as hot each time
RESCUE_MIN_STEPS = 1000  # proposals per rescue round however small the community (cheap, and small ones are rugged)
REPAIR_STALL = 100  # a repair gives up after this many fruitless tries per grid in a row
RESTARTS = 3  # independent searches per community; the best is kept (runs are cheap,
# and their spread in compactness is larger than what a longer single run gains)
REPAIR_TRIES = 20  # band-repair proposals per node before and after the annealing (stops once all are in band)


@dataclass
class Problem:
    """One community's search problem (picklable, so it can run in a worker process)."""

    graph: CellGraph
    load: np.ndarray
    households: np.ndarray
    labels: np.ndarray  # start plan, contiguous, labels 0..k-1
    origin: np.ndarray  # today's label of each node in the same label space, -1 if its grid is gone
    fixed: np.ndarray  # nodes that may not move (locked grids)
    k: int
    band: float
    keep: float
    compactness: float
    effort: int
    seed: int


def keep_weight(keep: float) -> float:
    """Cost of moving one ideal grid's worth of households, from the 0..1 `keep` setting (steep near 1)."""
    return 3.0 * keep / (1.05 - keep)


class Search:
    """The annealing state: labels, per-grid load/area/perimeter and members, updated incrementally."""

    def __init__(self, p: Problem):
        g = p.graph
        self.p = p
        self.rng = random.Random(p.seed)
        self.nbr = [g.idx[g.ptr[i] : g.ptr[i + 1]].tolist() for i in range(g.n)]
        self.nlen = [g.shared[g.ptr[i] : g.ptr[i + 1]].tolist() for i in range(g.n)]
        self.perim, self.area = g.perimeter.tolist(), g.area.tolist()
        self.load, self.hh = p.load.astype(float).tolist(), p.households.astype(float).tolist()
        self.xy = g.xy
        self.load_np, self.area_np, self.perim_np = p.load.astype(float), g.area, g.perimeter
        self.hh_np, self.origin_np = p.households.astype(float), p.origin.astype(int)
        self.fixed_np, self.pos_np = p.fixed.astype(bool), np.full(g.n, -1)
        self.lab = p.labels.astype(int).tolist()
        self.origin = p.origin.astype(int).tolist()
        self.fixed = p.fixed.astype(bool).tolist()
        k = p.k
        fixed_labels = {self.lab[v] for v in range(g.n) if self.fixed[v]}
        self.free_grid = [gi not in fixed_labels for gi in range(k)]
        free_load = sum(self.load[v] for v in range(g.n) if not self.fixed[v])
        nfree = max(1, sum(self.free_grid))
        self.T = max(free_load / nfree, 1e-9)
        self.band = p.band
        self.wc = p.compactness
        self.wk = keep_weight(p.keep) / self.T
        self.soft = False  # during a rescue the band is a (heavy) cost instead of a hard limit
        self.set_labels(self.lab)
        self.moves = 0

    def set_labels(self, labels) -> None:
        """Take `labels` as the plan and recompute every grid's load, area, perimeter and members."""
        k = self.p.k
        self.lab = list(labels)
        self.L, self.A, self.P = [0.0] * k, [0.0] * k, [0.0] * k
        self.members = [set() for _ in range(k)]
        for v, gi in enumerate(self.lab):
            self.L[gi] += self.load[v]
            self.A[gi] += self.area[v]
            self.P[gi] += self.perim[v]
            self.members[gi].add(v)
        for v in range(len(self.lab)):
            for u, s in zip(self.nbr[v], self.nlen[v]):
                if u > v and self.lab[u] == self.lab[v]:
                    self.P[self.lab[v]] -= 2 * s

    # --- costs --------------------------------------------------------------------------------------------------
    def grid_cost(self, g: int) -> float:
        """Compactness (1/Polsby-Popper, weighted) plus the small balance term of grid g."""
        a = max(self.A[g], 1e-6)
        d = (self.L[g] - self.T) / (self.T * self.band)
        return self.wc * self.P[g] * self.P[g] / (4 * math.pi * a) + BALANCE_WEIGHT * d * d

    def excess(self, g: int) -> float:
        """How far grid g's load is outside the band, relative to the ideal (0 inside, always 0 for locked grids)."""
        if not self.free_grid[g]:
            return 0.0
        return max(0.0, abs(self.L[g] - self.T) - self.band * self.T) / self.T

    def node_cost(self, v: int) -> float:
        """Keep term of node v: its households if it left today's grid."""
        return self.wk * self.hh[v] if self.lab[v] != self.origin[v] else 0.0

    def total(self) -> tuple[float, float]:
        """(objective without band excess, total band excess) of the whole plan."""
        k = len(self.L)
        return (
            sum(self.grid_cost(g) for g in range(k)) + sum(self.node_cost(v) for v in range(len(self.lab))),
            sum(self.excess(g) for g in range(k)),
        )

    # --- moves ------------------------------------------------------------------------------------------------
    def connected_without(self, v: int, g: int) -> bool:
        """Whether grid g stays non-empty and contiguous when node v leaves it."""
        if len(self.members[g]) <= 1:
            return False
        lab, nbr = self.lab, self.nbr
        gn = [u for u in nbr[v] if lab[u] == g]
        if len(gn) <= 1:
            return True
        targets = set(gn[1:])
        seen = {v, gn[0]}
        stack = [gn[0]]
        while stack:
            x = stack.pop()
            for u in nbr[x]:
                if u not in seen and lab[u] == g:
                    if u in targets:
                        targets.discard(u)
                        if not targets:
                            return True
                    seen.add(u)
                    stack.append(u)
        return False

    def apply(self, v: int, h: int) -> None:
        """Move node v into grid h, updating loads, areas, perimeters and members."""
        g = self.lab[v]
        sg = sh = 0.0
        for u, s in zip(self.nbr[v], self.nlen[v]):
            lu = self.lab[u]
            if lu == g:
                sg += s
            elif lu == h:
                sh += s
        self.P[g] += 2 * sg - self.perim[v]
        self.P[h] += self.perim[v] - 2 * sh
        self.L[g] -= self.load[v]
        self.L[h] += self.load[v]
        self.A[g] -= self.area[v]
        self.A[h] += self.area[v]
        self.members[g].discard(v)
        self.members[h].add(v)
        self.lab[v] = h

    def attempt(self, moves, temp: float, repair: bool = False) -> bool:
        """Apply the moves [(node, grid), ...] in order if each keeps grids contiguous, then accept by annealing
        (with `repair`: accept exactly when the load outside the band falls, whatever the other costs)."""
        grids = {self.lab[v] for v, _ in moves} | {h for _, h in moves}
        nodes = [v for v, _ in moves]
        before = sum(self.grid_cost(g) for g in grids) + sum(self.node_cost(v) for v in nodes)
        ex_before = sum(self.excess(g) for g in grids)
        done = []
        for v, h in moves:
            g = self.lab[v]
            # the node must touch its new grid now (an earlier move of the list may have taken its only link)
            if g == h or not any(self.lab[u] == h for u in self.nbr[v]) or not self.connected_without(v, g):
                self._undo(done)
                return False
            self.apply(v, h)
            done.append((v, g))
        ex_after = sum(self.excess(g) for g in grids)
        if (ex_after > ex_before + 1e-12 and not self.soft) or (repair and ex_after > ex_before - 1e-12):
            self._undo(done)
            return False
        if repair:
            self.moves += 1
            return True
        delta = sum(self.grid_cost(g) for g in grids) + sum(self.node_cost(v) for v in nodes) - before
        delta += EXCESS_WEIGHT * (ex_after - ex_before)
        if delta <= 0 or (temp > 0 and self.rng.random() < math.exp(-delta / temp)):
            self.moves += 1
            return True
        self._undo(done)
        return False

    def _undo(self, done) -> None:
        for v, g in reversed(done):
            self.apply(v, g)

    def swap_partner(self, v: int, g: int, h: int):
        """A node of grid h, next to v, that also borders grid g elsewhere (so the two can trade places)."""
        cands = [
            u
            for u in self.nbr[v]
            if self.lab[u] == h and not self.fixed[u] and any(self.lab[w] == g and w != v for w in self.nbr[u])
        ]
        return self.rng.choice(cands) if cands else None

    def resplit(self, g: int, h: int, temp: float, repair: bool = False) -> bool:
        """Merge grids g and h and cut them again by the best straight line (both halves contiguous, the band no
        worse); a few cut points along each of RESPLIT_DIRECTIONS directions are tried. With `repair` the cut is
        kept exactly when it lowers the load outside the band."""
        nodes = np.fromiter(self.members[g] | self.members[h], int)
        if len(nodes) < 2 or self.fixed_np[nodes].any():
            return False
        m = len(nodes)
        local = self._local(nodes)
        load = self.load_np[nodes]
        total = load.sum()
        lo, hi = (1 - self.band) * self.T, (1 + self.band) * self.T
        before = self.grid_cost(g) + self.grid_cost(h) + sum(self.node_cost(v) for v in nodes.tolist())
        ex_before = self.excess(g) + self.excess(h)
        th = self.rng.random() * math.pi + math.pi * np.arange(RESPLIT_DIRECTIONS) / RESPLIT_DIRECTIONS
        pts = self.xy[nodes]
        orders = np.argsort(pts[:, :1] * np.cos(th) + pts[:, 1:] * np.sin(th), axis=0, kind="stable")
        best, best_cost, best_ex = None, math.inf, math.inf
        for t in range(RESPLIT_DIRECTIONS):
            order = orders[:, t]
            cum = np.cumsum(load[order])[:-1]  # cut after position c: both sides non-empty
            ok = np.flatnonzero((cum >= lo) & (cum <= hi) & (total - cum >= lo) & (total - cum <= hi))
            cuts = (
                {int(ok[0]), int(ok[len(ok) // 2]), int(ok[-1])}
                if len(ok)
                else {int(np.argmin(np.abs(cum - total / 2)))}
                if len(cum)
                else set()
            )
            for c in cuts:
                side = np.zeros(m, bool)
                side[order[: c + 1]] = True
                cost = self._split_cost(side, local, (g, h), ex_before)
                # a repair takes the cheapest of the cuts that lower the load outside the band
                if cost is not None and cost[0] < best_cost and (not repair or cost[2] < ex_before - 1e-12):
                    best, best_cost, best_ex = (side, cost[1]), cost[0], cost[2]
        if best is None:
            return False
        delta = best_cost - before
        if (
            (best_ex < ex_before - 1e-12)
            if repair
            else (delta <= 0 or (temp > 0 and self.rng.random() < math.exp(-delta / temp)))
        ):
            self._relabel(nodes, best[0], best[1])
            self.moves += 1
            return True
        return False

    def _local(self, nodes):
        """The subgraph of `nodes`: edges (a, b, shared length) in local numbering, and the nodes' figures."""
        g = self.p.graph
        self.pos_np[nodes] = np.arange(len(nodes))
        starts, deg = g.ptr[nodes], g.ptr[nodes + 1] - g.ptr[nodes]
        offsets = np.cumsum(deg) - deg
        flat = np.arange(deg.sum()) - np.repeat(offsets, deg) + np.repeat(starts, deg)
        rows = np.repeat(np.arange(len(nodes)), deg)
        cols = self.pos_np[g.idx[flat]]
        self.pos_np[nodes] = -1
        keep = cols > rows
        return (
            rows[keep],
            cols[keep],
            g.shared[flat][keep],
            self.load_np[nodes],
            self.area_np[nodes],
            self.perim_np[nodes],
            self.hh_np[nodes],
            self.origin_np[nodes],
        )

    def _split_cost(self, side, local, grids, ex_before):
        """(cost, (label of side, label of the rest), load outside the band) of splitting a merged pair, the cheaper
        labelling; None when a part is not contiguous or the split puts more load outside the band."""
        ea, eb, el, load, area, perim, hh, origin = local
        m = len(side)
        same = side[ea] == side[eb]
        if _count_parts(m, ea[same].tolist(), eb[same].tolist()) != 2:
            return None
        base, ex = 0.0, 0.0
        for part in (side, ~side):
            L, A = float(load[part].sum()), float(area[part].sum())
            P = float(perim[part].sum()) - 2 * float(el[same & part[ea]].sum())
            d = (L - self.T) / (self.T * self.band)
            base += self.wc * P * P / (4 * math.pi * max(A, 1e-6)) + BALANCE_WEIGHT * d * d
            ex += max(0.0, abs(L - self.T) - self.band * self.T) / self.T
        if ex > ex_before + 1e-12 and not self.soft:
            return None
        g, h = grids
        moved_gh = float(hh[side & (origin != g)].sum() + hh[~side & (origin != h)].sum())
        moved_hg = float(hh[side & (origin != h)].sum() + hh[~side & (origin != g)].sum())
        labels = (g, h) if moved_gh <= moved_hg else (h, g)
        return base + self.wk * min(moved_gh, moved_hg) + EXCESS_WEIGHT * (ex - ex_before), labels, ex

    def _relabel(self, nodes, side, labels) -> None:
        """Give the nodes on `side` label labels[0] and the others labels[1], recomputing both grids' figures."""
        a, b = labels
        for gl in labels:
            self.L[gl] = self.A[gl] = self.P[gl] = 0.0
            self.members[gl] = set()
        for v, s in zip(nodes.tolist(), side.tolist()):
            gl = a if s else b
            self.lab[v] = gl
            self.L[gl] += self.load[v]
            self.A[gl] += self.area[v]
            self.P[gl] += self.perim[v]
            self.members[gl].add(v)
        for v in nodes.tolist():
            for u, ln in zip(self.nbr[v], self.nlen[v]):
                if self.lab[u] == self.lab[v]:
                    self.P[self.lab[v]] -= ln

    # --- driver -----------------------------------------------------------------------------------------------
    def propose(self, temp: float) -> bool:
        """One random proposal at temperature `temp`; True if the plan changed."""
        n = len(self.lab)
        v = self.rng.randrange(n)
        if self.fixed[v] or not self.nbr[v]:
            return False
        u = self.nbr[v][self.rng.randrange(len(self.nbr[v]))]
        g, h = self.lab[v], self.lab[u]
        if g == h or not self.free_grid[h] or not self.free_grid[g]:
            return False
        r = self.rng.random()
        if r < P_RESPLIT:
            return self.resplit(g, h, temp)
        if r < P_RESPLIT + P_SWAP:
            w = self.swap_partner(v, g, h)
            if w is not None:
                return self.attempt([(v, h), (w, g)], temp)
        return self.attempt([(v, h)], temp)

    # --- band repair ------------------------------------------------------------------------------------------
    def out_of_band(self) -> list[int]:
        """Free grids whose load is outside the band."""
        return [g for g in range(len(self.L)) if self.excess(g) > 1e-12]

    def border(self, g: int, other=None) -> list[tuple[int, int]]:
        """(node of grid g, neighbouring grid) pairs along g's border (only towards `other` when given)."""
        out = []
        for v in self.members[g]:
            if self.fixed[v]:
                continue
            for u in self.nbr[v]:
                h = self.lab[u]
                if h != g and self.free_grid[h] and (other is None or h == other):
                    out.append((v, h))
        return out

    def repair_band(self, tries: int) -> int:
        """Greedy moves, chains of two and swaps that reduce the load outside the band; returns grids still outside."""
        rng = self.rng
        stalled, last = 0, self.moves
        for _ in range(tries):
            bad = self.out_of_band()
            if not bad:
                return 0
            stalled = 0 if self.moves != last else stalled + 1
            last = self.moves
            if stalled > REPAIR_STALL * len(self.L):  # stuck in a corner only a rescue can leave
                break
            g = rng.choice(bad)
            if self.L[g] > self.T:  # over: hand a border node to a neighbour, which may pass one on
                pairs = self.border(g)
                if not pairs:
                    continue
                v, h = rng.choice(pairs)
                moves = [(v, h)]
            else:  # under: take a node from a neighbour, which may take one from its own neighbour
                pairs = [
                    (u, g) for v, h in self.border(g) for u in self.nbr[v] if self.lab[u] == h and not self.fixed[u]
                ]
                if not pairs:
                    continue
                u, _ = rng.choice(pairs)
                h = self.lab[u]
                moves = [(u, g)]
            if self.attempt(moves, 0.0, repair=True):
                continue
            chain = (
                [(w, q) for w, q in self.border(h) if q != g and w != moves[0][0]]
                if self.L[g] > self.T
                else [
                    (w, h)
                    for x, q in self.border(h)
                    if q != g
                    for w in self.nbr[x]
                    if self.lab[w] == q and not self.fixed[w]
                ]
            )
            if chain and self.attempt(moves + [rng.choice(chain)], 0.0, repair=True):
                continue
            v, to = moves[0]  # a swap across the border: a lighter node comes back
            w = self.swap_partner(v, self.lab[v], to)
            if w is not None and self.attempt([(v, to), (w, self.lab[v])], 0.0, repair=True):
                continue
            if self.path_repair(g):
                continue
            h = rng.choice(sorted(self.grid_neighbours(g)) or [g])  # last resort: re-cut g with a neighbour
            if h != g:
                self.resplit(g, h, 0.0, repair=True)
        return len(self.out_of_band())

    def grid_neighbours(self, g: int) -> set:
        """Free grids sharing an edge with grid g."""
        return {
            self.lab[u]
            for v in self.members[g]
            for u in self.nbr[v]
            if self.lab[u] != g and self.free_grid[self.lab[u]]
        }

    def path_repair(self, g: int) -> bool:
        """Pass load along the shortest chain of grids between out-of-band grid g and the nearest grid with room for
        what g must shed (or with that much to spare), one border building per step; kept if the excess falls."""
        over = self.L[g] > self.T
        need = abs(self.L[g] - self.T) - self.band * self.T  # load to pass on (over) or to take in (under)
        room = (
            (lambda q: self.L[q] + need <= (1 + self.band) * self.T)
            if over
            else (lambda q: self.L[q] - need >= (1 - self.band) * self.T)
        )
        prev, frontier, found = {g: None}, [g], None
        while frontier and found is None:
            nxt = []
            for a in frontier:
                for b in self.grid_neighbours(a):
                    if b not in prev:
                        prev[b] = a
                        if room(b):
                            found = b
                            break
                        nxt.append(b)
                if found is not None:
                    break
            frontier = nxt
        if found is None:
            return False
        path = [found]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        path = path[::-1] if over else path  # load flows along `path`
        grids = set(path)
        ex_before = sum(self.excess(x) for x in grids)
        done = []
        for a, b in zip(path, path[1:]):
            cands = [v for v in self.members[a] if not self.fixed[v] and any(self.lab[u] == b for u in self.nbr[v])]
            cands.sort(key=lambda v: abs(self.load[v] - need))
            for v in cands[:6]:
                if self.connected_without(v, a):
                    self.apply(v, b)
                    done.append((v, a))
                    break
            else:
                self._undo(done)
                return False
        if sum(self.excess(x) for x in grids) < ex_before - 1e-12:
            self.moves += 1
            return True
        self._undo(done)
        return False

    def run(self, progress=None) -> np.ndarray:
        """Repair the band, anneal for effort × nodes proposals from a calibrated temperature down to zero, repair
        again; return the labels."""
        n = len(self.lab)
        if n < 2 or len(self.L) < 2:
            return np.asarray(self.lab)
        left = self.repair_band(REPAIR_TRIES * n)
        temp0 = self._calibrate()
        if left:
            self.rescue(temp0, polish=False)  # the annealing below polishes
        steps = self.p.effort * n
        temp_end = temp0 * 1e-3
        chunk = max(1, steps // 20)
        for s in range(steps):
            frac = s / steps
            temp = temp0 * (temp_end / temp0) ** frac if frac < 0.9 else 0.0
            self.propose(temp)
            if progress is not None and s % chunk == 0:
                progress(frac)
        left = self.repair_band(REPAIR_TRIES * n)
        if left:
            left = self.rescue(temp0)
        if left:
            log.info("search: %d grids still outside the band (whole buildings may make it infeasible)", left)
        return np.asarray(self.lab)

    def rescue(self, temp0: float, polish: bool = True) -> int:
        """When repairs stall with grids outside the band: anneal with the band as a heavy cost rather than a hard
        limit, so the plan may pass through worse states (several grids shifting at once) to one in band; then
        polish that plan with the band hard again. Returns grids still outside (the best plan seen is kept)."""
        n = len(self.lab)
        best_ex, best = sum(self.excess(g) for g in range(len(self.L))), list(self.lab)
        free = self.load_np[~self.fixed_np]
        floor = float(np.clip(free - (1 + self.band) * self.T, 0, None).sum()) / self.T  # buildings above the band
        if best_ex <= floor + 1e-12:
            return len(self.out_of_band())
        steps = max(RESCUE_MIN_STEPS, RESCUE_EFFORT * self.p.effort * n // RESCUE_ROUNDS)
        # at `hot`, moving a typical building outside the band is accepted about one time in e: the temperature
        # follows the buildings' size, since a coarse community can only reach the band through large detours.
        # Rounds start cooler (fewer households disturbed) and heat up only while the band is not reached.
        hot = EXCESS_WEIGHT * float(np.median(free)) / self.T
        self.soft = True
        for r in range(RESCUE_ROUNDS):
            self.set_labels(best)
            top = hot * 2.0 ** (r - 3)
            for s in range(steps):
                if self.propose(top * 1e-3 ** (s / steps)):
                    ex = sum(self.excess(g) for g in range(len(self.L)))
                    if ex < best_ex - 1e-12:
                        best_ex, best = ex, list(self.lab)
                        if ex <= floor + 1e-12:
                            break
            if best_ex <= floor + 1e-12:
                break
        self.soft = False
        self.set_labels(best)
        if (
            polish and best_ex <= floor + 1e-12
        ):  # as far in band as whole buildings allow: win back households and compactness without leaving it
            polish = self.p.effort * n // 2
            for s in range(polish):
                self.propose(0.01 * temp0 * (1 - s / polish))
        return self.repair_band(REPAIR_TRIES * n)

    def _calibrate(self) -> float:
        """A start temperature at which a typical worsening single move is accepted about half the time."""
        deltas = []
        for _ in range(min(300, 20 * len(self.lab))):
            v = self.rng.randrange(len(self.lab))
            if self.fixed[v] or not self.nbr[v]:
                continue
            u = self.nbr[v][self.rng.randrange(len(self.nbr[v]))]
            g, h = self.lab[v], self.lab[u]
            if g == h or not self.free_grid[h] or not self.free_grid[g] or not self.connected_without(v, g):
                continue
            before = self.grid_cost(g) + self.grid_cost(h) + self.node_cost(v)
            self.apply(v, h)
            d = self.grid_cost(g) + self.grid_cost(h) + self.node_cost(v) - before
            self.apply(v, g)
            if d > 0:
                deltas.append(d)
        return 0.3 * float(np.median(deltas)) if deltas else 1e-3


def _count_parts(m: int, a: list, b: list) -> int:
    """Connected components of m nodes and edges (a[i], b[i]): union-find, fast for the small graphs of a resplit."""
    parent = list(range(m))
    parts = m
    for x, y in zip(a, b):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x != y:
            parent[x] = y
            parts -= 1
    return parts


def solve(problem: Problem, progress=None) -> np.ndarray:
    """Improve the start plan of one community: RESTARTS independent searches (seeds seed, seed+1, ...) from the
    same start; returns the node labels of the best (least load outside the band, then lowest cost)."""
    best, best_key = None, None
    for r in range(RESTARTS):
        search = Search(replace(problem, seed=problem.seed + r))
        step = None if progress is None else (lambda f, r=r: progress((r + f) / RESTARTS))
        labels = search.run(step)
        cost, excess = search.total()
        log.debug("search %d: cost %.3f, excess %.3f, %d accepted moves", r, cost, excess, search.moves)
        if best_key is None or (round(excess, 9), cost) < best_key:
            best, best_key = labels, (round(excess, 9), cost)
    return best
