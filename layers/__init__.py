"""Layer kinds: one module per kind, each defining KIND; found by scanning this package, so a new kind is one file."""

from __future__ import annotations

import importlib
import pkgutil

from .base import LayerKind


def _discover() -> dict[str, LayerKind]:
    kinds = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, LayerKind):
            kinds.append(kind)
    return {k.name: k for k in sorted(kinds, key=lambda k: (k.load_order, k.name))}


REGISTRY: dict[str, LayerKind] = _discover()


def open_twin(data_dir=None, **options):
    """Load a twin from `data_dir` (the built-in demo street when None) with every registered layer kind."""
    from twin.core import Twin

    return Twin.open(data_dir, REGISTRY, **options)


__all__ = ["LayerKind", "REGISTRY", "open_twin"]
