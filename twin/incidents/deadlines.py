"""Time limits per incident category (the "three ones": accept 1 min, on site 1 h, resolve 1 day; SOS on site 2 min)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from twin.errors import InvalidInput
from twin.settings import json_setting
from twin.vocab import INCIDENT_CATEGORIES

log = logging.getLogger(__name__)

LIMITS = ("accept", "on_site", "resolve")
DEFAULTS = {"*": {"accept": 60, "on_site": 3600, "resolve": 86400}, "sos": {"on_site": 120}}


@dataclass(frozen=True)
class Deadlines:
    """Seconds allowed for each limit, measured from the report, per category ("*" is every other category)."""

    table: dict = field(default_factory=lambda: json.loads(json.dumps(DEFAULTS)))

    @classmethod
    def parse(cls, raw=None) -> "Deadlines":
        """Defaults overlaid by `raw` (the DEADLINES setting: JSON text or a dict, seconds per category and limit)."""
        if isinstance(raw, Deadlines):
            return raw
        table = json.loads(json.dumps(DEFAULTS))
        if raw:
            extra = json_setting("DEADLINES", raw, dict, "object {category: {limit: seconds}}")
            for cat, limits in extra.items():
                if cat != "*" and cat not in INCIDENT_CATEGORIES:
                    raise InvalidInput(f"DEADLINES: unknown category {cat!r}")
                if not isinstance(limits, dict):
                    raise InvalidInput(f"DEADLINES[{cat!r}] must be an object {{limit: seconds}}")
                for lim, secs in limits.items():
                    if lim not in LIMITS:
                        raise InvalidInput(f"DEADLINES[{cat!r}]: unknown limit {lim!r}; limits are {', '.join(LIMITS)}")
                    if isinstance(secs, bool) or not isinstance(secs, (int, float)) or not 0 < secs <= 366 * 86400:
                        raise InvalidInput(f"DEADLINES[{cat!r}][{lim!r}] must be seconds in (0, 31622400]")
                    table.setdefault(cat, {})[lim] = float(secs)
        return cls(table)

    def seconds(self, category: str, limit: str) -> float:
        """Seconds allowed for `limit` of an incident of `category`."""
        return float(self.table.get(category, {}).get(limit, self.table["*"][limit]))

    def column(self, categories: pd.Series, limit: str) -> np.ndarray:
        """Seconds allowed for `limit`, one per category in `categories` (vectorised)."""
        default = float(self.table["*"][limit])
        special = {c: float(v[limit]) for c, v in self.table.items() if c != "*" and limit in v}
        if not special:
            return np.full(len(categories), default)
        return categories.map(special).astype("float64").fillna(default).to_numpy()

    def to_dict(self) -> dict:
        """Every category's three limits in seconds (for the API and the docs)."""
        return {c: {lim: self.seconds(c, lim) for lim in LIMITS} for c in ("*", *INCIDENT_CATEGORIES)}
