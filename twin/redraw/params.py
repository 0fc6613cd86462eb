"""Bounded, validated parameters of a grid redraw (every field has a range; bad input raises InvalidInput)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields

from twin.errors import InvalidInput

log = logging.getLogger(__name__)

LOAD_TERMS = ("households", "population", "special_care", "incidents")
STARTS = ("current", "fresh")
UNITS = ("building", "compound")
FRONTIER_KEEPS = (0.0, 0.3, 0.6, 0.9)  # the keep values the /redraw page asks for (the trade-off curve)
MAX_FRONTIER = 8  # keep values in one run: each is a full solve of every community


@dataclass(frozen=True)
class RedrawParams:
    """What to balance, how many grids, how tight, how much to keep of today's plan, and the seed."""

    grids: int | None = None  # total number of grids in the district (apportioned to communities) ...
    target: float | None = None  # ... or a target load per grid worker (e.g. 300 households)
    band: float = 0.10  # tolerance: every grid's load within ±band of its community's ideal (hard limit when feasible)
    weights: dict = field(default_factory=lambda: {"households": 1.0})  # load = weighted mix of LOAD_TERMS
    start: str = "current"  # "current": start from today's grids; "fresh": balanced start from scratch
    keep: float = 0.3  # 0..1, how strongly to keep households in their current grid (0 = free, 1 = move little)
    compactness: float = 1.0  # 0..10, weight of compactness (Polsby-Popper) against the other terms
    locked: tuple = ()  # grid codes that must not change (their buildings stay, nothing joins them)
    unit: str = "building"  # "building", or "compound" to never split a compound
    communities: tuple = ()  # restrict to these community ids (others keep their grids); all when empty
    effort: int = 60  # search sweeps per node (1..2000): more is slower and usually better
    workers: int = 2  # processes used across communities (1..8)
    seed: int = 1
    frontier: tuple = ()  # also solve at these keep values in the same run (the trade-off curve), e.g. 0, .3, .6, .9

    def __post_init__(self):
        self.validate()

    @classmethod
    def from_dict(cls, data: dict | None) -> "RedrawParams":
        """Parameters from a JSON-like dict (web/CLI); unknown keys are refused with the list of known ones."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(
                f"unknown redraw parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}", field=unknown[0]
            )
        if isinstance(data.get("frontier"), list):
            data["frontier"] = tuple(data["frontier"])
        for key in ("locked", "communities"):
            v = data.get(key)
            if isinstance(v, str):
                data[key] = tuple(filter(None, (c.strip() for c in v.split(","))))
            elif isinstance(v, list):
                data[key] = tuple(v)
        data = {k: v for k, v in data.items() if v is not None or k in ("grids", "target")}
        return cls(**data)

    def keeps(self) -> list[float]:
        """The keep values this run solves: params.keep and the frontier's, ascending, each once."""
        return sorted({float(self.keep), *(float(k) for k in self.frontier)})

    def to_dict(self) -> dict:
        """JSON-able form (for job records and plan metadata)."""
        d = asdict(self)
        d["locked"], d["communities"] = list(self.locked), list(self.communities)
        d["frontier"] = list(self.frontier)
        return d

    def validate(self) -> None:
        """Raise InvalidInput naming the first parameter out of range."""
        if self.grids is not None and self.target is not None:
            raise InvalidInput("give either grids (number of grids) or target (load per grid), not both", field="grids")
        if self.grids is not None:
            _int_in("grids", self.grids, 1, 100_000)
        if self.target is not None:
            _num_in("target", self.target, 1, 1_000_000)
        _num_in("band", self.band, 0.005, 0.5)
        _num_in("keep", self.keep, 0.0, 1.0)
        _num_in("compactness", self.compactness, 0.0, 10.0)
        _int_in("effort", self.effort, 1, 2000)
        _int_in("workers", self.workers, 1, 8)
        _int_in("seed", self.seed, 0, 2**31 - 1)
        if not isinstance(self.frontier, (tuple, list)) or len(self.frontier) > MAX_FRONTIER:
            raise InvalidInput(f"frontier must be a list of at most {MAX_FRONTIER} keep values", field="frontier")
        for v in self.frontier:
            _num_in("frontier", v, 0.0, 1.0)
        if self.start not in STARTS:
            raise InvalidInput(f"start must be one of {', '.join(STARTS)}, not {self.start!r}", field="start")
        if self.unit not in UNITS:
            raise InvalidInput(f"unit must be one of {', '.join(UNITS)}, not {self.unit!r}", field="unit")
        if not isinstance(self.weights, dict) or not self.weights:
            raise InvalidInput(
                f"weights must be a non-empty mapping of {', '.join(LOAD_TERMS)} to numbers", field="weights"
            )
        for k, v in self.weights.items():
            if k not in LOAD_TERMS:
                raise InvalidInput(
                    f"unknown load term {k!r} in weights; known: {', '.join(LOAD_TERMS)}", field="weights"
                )
            _num_in(f"weights.{k}", v, 0.0, 100.0)
        if sum(self.weights.values()) <= 0:
            raise InvalidInput("weights must not all be zero", field="weights")
        for key in ("locked", "communities"):
            v = getattr(self, key)
            if not isinstance(v, (tuple, list)) or not all(isinstance(x, str) and x for x in v):
                raise InvalidInput(f"{key} must be a list of codes (strings)", field=key)
            if len(v) > 100_000:
                raise InvalidInput(f"{key} lists too many codes ({len(v)})", field=key)


def _num_in(name, value, lo, hi) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidInput(f"{name} must be a number between {lo} and {hi}, not {value!r}", field=name)
    if not lo <= value <= hi:
        raise InvalidInput(f"{name} must be between {lo} and {hi}, not {value}", field=name)


def _int_in(name, value, lo, hi) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number between {lo} and {hi}, not {value!r}", field=name)
    _num_in(name, value, lo, hi)
