"""The community twin core: layers, spatial queries, incidents, risk, area queries and grid redraw. No Flask."""

__version__ = "0.1.0"
