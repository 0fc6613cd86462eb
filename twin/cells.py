"""Spreadsheet cells from text: the one place where CSV and XLSX exports neutralise formulas (CSV injection)."""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheet programs read as the start of a formula


def safe_cell(value):
    """`value` for a CSV/XLSX cell: text starting like a formula gets a leading apostrophe; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_frame(frame):
    """A copy of the DataFrame `frame` with every text cell passed through safe_cell."""
    return frame.map(safe_cell)
