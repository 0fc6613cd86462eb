"""`twin import`: buildings, households and incidents from real data files into a twin's data directory."""

from .run import LAYERS, Options, import_layer, report_path

__all__ = ["LAYERS", "Options", "import_layer", "report_path"]
