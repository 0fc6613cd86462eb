"""One definition of the band, used by the search, the metrics and the docs: grids that are held (locked, or one
building or compound alone above the band) are measured on their own, and every other grid of the community within
±band of the ideal of what remains (the community's load minus the held grids', over the grids left)."""

from __future__ import annotations

import numpy as np


def oversized(load: np.ndarray, fixed: np.ndarray, k_free: int, band: float) -> np.ndarray:
    """Units that alone exceed the band around the ideal of what remains, largest first, each to get a grid of its
    own (as long as one grid is left for the other free units); a mask over the units."""
    load = np.asarray(load, float)
    big = np.zeros(len(load), bool)
    while True:
        free = ~fixed & ~big
        left = k_free - int(big.sum())
        if left <= 1 or not free.any():
            return big
        ideal = load[free].sum() / left
        over = np.flatnonzero(free & (load > (1 + band) * ideal))
        if not len(over):
            return big
        big[over[np.argmax(load[over])]] = True


def held_ideal(load: np.ndarray, held: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(ideal of the free grids, ideal of the community) for building `labels`, `held` marking the buildings whose
    grid is held: a grid holding any of them is held as a whole."""
    labels = np.asarray(labels)
    grids = np.unique(labels)
    held_grids = np.unique(labels[held]) if held is not None and held.any() else np.zeros(0, labels.dtype)
    total = float(np.sum(load))
    community = total / max(len(grids), 1)
    free_grids = len(grids) - len(held_grids)
    if not len(held_grids) or free_grids <= 0:
        return community, community
    held_load = float(np.sum(load[np.isin(labels, held_grids)]))
    return (total - held_load) / free_grids, community


def band_notes(data, grids, band: float, locked: frozenset) -> list[dict]:
    """What a community's plan says about the band, in words ({community_id, community, kind, zh, en}): grids held
    (locked, or a building alone above the band) and the ideal the others are balanced around; grids the band
    cannot hold."""
    g = grids[grids["community_id"] == data.community_id]
    if not len(g):
        return []
    name, out = data.label(), []
    pct = f"{100 * band:g}%"

    def note(kind, zh, en):
        out.append({"community_id": data.community_id, "community": name, "kind": kind, "zh": zh, "en": en})

    held = g[g["held"]]
    free = g[~g["held"]]
    n_locked = len({c for c in data.current if c in locked})
    if len(held) and not len(free):
        note("all_locked", f"{name}：全部网格均已锁定，保持不变", f"{name}: every grid is locked and kept as it is")
        return out
    if len(held):
        ideal, whole = float(free["ideal"].iloc[0]), float(data.load.sum() / len(g))
        big = len(held) - n_locked
        why_zh = "、".join(
            x
            for x in (f"{n_locked} 个锁定网格" if n_locked else "", f"{big} 个单栋超出容差带的网格" if big > 0 else "")
            if x
        )
        why_en = " and ".join(
            x
            for x in (
                f"{n_locked} locked grid(s)" if n_locked else "",
                f"{big} grid(s) of a single building above the band" if big > 0 else "",
            )
            if x
        )
        note(
            "held",
            f"{name}：{why_zh}单独计算；其余 {len(free)} 个网格按剩余负荷的理想值 {ideal:.1f}（全社区为 {whole:.1f}）"
            f"在 ±{pct} 内平衡",
            f"{name}: {why_en} measured on their own; the other {len(free)} grids are balanced within ±{pct} of the "
            f"ideal of what remains, {ideal:.1f} (the whole community's is {whole:.1f})",
        )
    out_free = free[~free["in_band"]]
    if len(out_free):
        worst = float(out_free["deviation"].abs().max()) * 100
        note(
            "band_not_held",
            f"{name}：{len(out_free)} 个网格无法达到 ±{pct} 容差带（最大偏差 {worst:.1f}%），"
            "整栋楼宇的户数或连通性使其不可行",
            f"{name}: the ±{pct} band cannot hold for {len(out_free)} grid(s) (largest deviation {worst:.1f}%): "
            "whole buildings or contiguity make it infeasible here",
        )
    return out
