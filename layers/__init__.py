"""Layer kinds: one module per kind, each defining KIND; found by scanning this package, so a new kind is one file.

A kind may also come from another installed distribution that names its module in the entry-point group
`community_twin.layers` (a plugin package: no change to this project at all).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import pkgutil

from .base import LayerKind

log = logging.getLogger(__name__)
ENTRY_POINTS = "community_twin.layers"


def _discover() -> dict[str, LayerKind]:
    modules = [f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__) if info.name not in ("base",)]
    modules += [ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINTS)]
    kinds = []
    for name in modules:
        if name.rpartition(".")[2].startswith("_"):
            continue
        kind = getattr(importlib.import_module(name), "KIND", None)
        if isinstance(kind, LayerKind):
            kinds.append(kind)
        else:
            log.warning("layer module %s defines no KIND; ignored", name)
    return {k.name: k for k in sorted(kinds, key=lambda k: (k.load_order, k.name))}


REGISTRY: dict[str, LayerKind] = _discover()


def open_twin(data_dir=None, **options):
    """Load a twin from `data_dir` (the built-in demo street when None) with every registered layer kind."""
    from twin.core import Twin

    return Twin.open(data_dir, REGISTRY, **options)


__all__ = ["LayerKind", "REGISTRY", "open_twin"]
