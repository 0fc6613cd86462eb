"""IncidentService: the live incident layer of a twin (durable store + in-memory table + live rtree index)."""

from __future__ import annotations

import logging
import secrets
import threading

import numpy as np
import pandas as pd

from twin import heap
from twin.errors import Conflict, InvalidInput, NotFound, TwinError
from twin.placement import Placer
from twin.progress import MIN_ROWS, Progress
from twin.spatial import LiveIndex
from twin.times import DEFAULT_TIMEZONE, now_ms, to_utc, utc_now

from . import lifecycle
from .deadlines import Deadlines
from .duplicates import DuplicateLinks
from .figures import FigureIndex
from .intake import OUTSIDE, IntakeLog, batch_error, clean
from .snapshot import load_incidents
from .store import COLUMNS, GroupCommit, LiveStore
from .sync import Follower
from .table import LiveTable
from .timeliness import DONE_RANK, timeliness

log = logging.getLogger(__name__)

CARE_THRESHOLD = 3  # the third unanswered morning call of a day sends someone to the door


class IncidentService:
    """Every incident of the twin: create, act, query; durable in `store`, indexed live, versioned per write."""

    def __init__(
        self,
        twin,
        store: LiveStore,
        clock=None,
        deadlines=None,
        timezone: str = DEFAULT_TIMEZONE,
        location_margin_m: float = 0.0,
        sync_seconds: float | None = None,
    ):
        self.twin = twin
        self.store = store
        self.clock = clock or utc_now
        self.deadlines = Deadlines.parse(deadlines)
        self.timezone = timezone
        self.location_margin_m = location_margin_m
        self.placer = Placer(twin)
        self.care_threshold = CARE_THRESHOLD
        self._lock = threading.RLock()
        self._commits = GroupCommit(store, after=self._added_all)  # concurrent reports share one fsync
        self._intake_log = IntakeLog(log)  # one INFO line a minute counting reports (each one is logged at DEBUG)
        frame = load_incidents(store)  # from a prepared snapshot plus the writes since, where there is one
        big = len(frame) >= MIN_ROWS  # a small store is indexed in a blink: no bar, no log line
        with Progress(3, f"indexing {len(frame):,} incidents", unit="index", min_rows=3 if big else 4) as steps:
            self.figures = FigureIndex(frame)  # codes, times, the open set
            steps.update()
            self.table = LiveTable(frame, self.figures, store.texts)  # ids; open incidents' free text
            steps.update()
            lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
            self.index = LiveIndex.bulk(np.arange(len(frame)), lon, lat, twin.crs)  # the rtree of positions
            steps.update()
        self._boot = secrets.token_hex(3)
        self._writes = 0
        self._cache: tuple[str | None, pd.DataFrame | None] = (None, None)
        # opened at start: its table is created now, so later reads never write (a full disk keeps reads working)
        self.duplicates = DuplicateLinks(store)
        self._sync = Follower(self, store, sync_seconds)  # takes in what other processes write to a shared store
        self._workers: tuple = (None, {})  # the grid layer's frame, and its workers by grid code
        self.memo: dict = {}  # derived figures kept across writes by the modules that keep them (six-nos repeats)
        log.info("incident service: %d incidents loaded from %s", len(frame), getattr(store, "path", store))
        del frame
        heap.release(freeze=big)  # the loaded frame's pages, hundreds of MB at a district's volume

    # --- state -------------------------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Changes on every write, by this process or (seen within sync_seconds) another one, and across restarts."""
        self._sync.follow()
        return f"{self._boot}-{self.table.n}-{self._writes}"

    def refresh(self) -> None:
        """Take in what other processes wrote to a shared store (at most every sync_seconds), before a read."""
        self._sync.follow()

    def xy(self, positions) -> np.ndarray:
        """Metric coordinates (rows of x, y) of the incidents at `positions`, projected once at intake. Under the
        lock: a position already in the figures is in the index once a writer lets go of it."""
        with self._lock:
            return self.index.xy(positions)

    def now(self) -> pd.Timestamp:
        """The service's clock, tz-aware UTC."""
        if self.clock is utc_now:  # the wall clock: milliseconds straight from the system (pandas costs 20 us)
            return now_ms()
        return to_utc(self.clock()).floor("ms")  # the store keeps milliseconds; memory must agree with it

    def close(self) -> None:
        """Close the durable store."""
        self.store.close()

    def __len__(self) -> int:
        return self.table.n

    # --- reads -------------------------------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """Every incident (schema fields + lon, lat), index = position; cached per version; do not modify."""
        with self._lock:
            version, cached = self._cache
            if version == self.version:
                return cached
            frame = self.table.frame()
            self._cache = (self.version, frame)
            return frame

    def select(self, bbox=None, geom=None, start=None, end=None, **equals) -> pd.DataFrame:
        """Incidents in `bbox` (minx, miny, maxx, maxy) and/or `geom`, reported in [start, end), with field equality.

        A value in `equals` may be a list/tuple/set, meaning any of them.
        """
        frame = self.frame()
        pos = None
        if bbox is not None:
            pos = self.index.bbox(*bbox)
        if geom is not None:
            gpos = self.index.intersects(geom)
            pos = gpos if pos is None else np.intersect1d(pos, gpos)
        if pos is not None:
            pos = pos[pos < len(frame)]  # rows written after this snapshot was taken
            frame = frame.iloc[pos]
        mask = np.ones(len(frame), dtype=bool)
        if start is not None:
            mask &= (frame["reported_at"] >= to_utc(start)).to_numpy()
        if end is not None:
            mask &= (frame["reported_at"] < to_utc(end)).to_numpy()
        for col, val in equals.items():
            if col not in frame.columns:
                raise InvalidInput(f"cannot filter incidents by {col!r}", field=col)
            if val is None:
                continue
            if isinstance(val, (list, tuple, set, frozenset)):
                mask &= frame[col].isin(list(val)).to_numpy()
            else:
                mask &= (frame[col] == val).to_numpy(dtype=bool, na_value=False)
        return frame[mask] if not mask.all() else frame

    def positions(self, bbox=None, geom=None, start=None, end=None, **equals) -> np.ndarray:
        """Positions (ascending) of incidents in `bbox` and/or `geom`, reported in [start, end), with field equality
        (as in select()), from the indexes."""
        pos = self._positions(bbox, geom, start, end)
        for column, value in equals.items():
            if value is not None:
                pos = pos[self.equal(column, value, pos)]
        return pos

    def equal(self, column: str, value, positions) -> np.ndarray:
        """Whether `column` equals `value` (any of them for a list/tuple/set) at each of `positions`; a missing value
        equals nothing. Coded columns compare codes; the others read only the rows at `positions`."""
        if column not in COLUMNS:
            raise InvalidInput(f"cannot filter incidents by {column!r}", field=column)
        pos = np.asarray(positions, dtype=np.int64)
        wanted = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        book = self.figures.books.get(column)
        if book is not None:
            codes = [book.code[v] for v in wanted if isinstance(v, str) and v in book.code]
            return np.isin(self.figures.column(column, pos), codes)
        col = self.rows(pos, [column])[column]
        if isinstance(value, (list, tuple, set, frozenset)):
            return col.isin(wanted).to_numpy(dtype=bool)
        return (col == value).to_numpy(dtype=bool, na_value=False)

    def values(self, column: str, positions) -> np.ndarray:
        """The values of `column` at `positions` as an object array (None where missing), from the codes if coded."""
        pos = np.asarray(positions, dtype=np.int64)
        if column in self.figures.books:
            return self.figures.values(column, pos)
        col = self.rows(pos, [column])[column].astype(object)
        return col.where(col.notna(), None).to_numpy(dtype=object)

    def visible(self, may_see, positions) -> np.ndarray:
        """Whether `may_see(categories, grid_codes) -> bools` passes each incident at `positions`; asked once per
        (category, grid) pair of codes rather than once per incident, so a million rows cost two array lookups."""
        pos = np.asarray(positions, dtype=np.int64)
        fig = self.figures
        cats, grids = fig.column("category", pos), fig.column("grid_code", pos)  # read before the books they index
        cat_values = np.array([*fig.books["category"].values, None], dtype=object)  # code -1 picks the None
        grid_values = np.array([*fig.books["grid_code"].values, None], dtype=object)
        pairs = len(cat_values) * len(grid_values)
        if pairs >= len(pos):
            return np.asarray(may_see(cat_values[cats], grid_values[grids]), dtype=bool)
        rule = may_see(np.repeat(cat_values, len(grid_values)), np.tile(grid_values, len(cat_values)))
        return np.asarray(rule, dtype=bool).reshape(len(cat_values), len(grid_values))[cats, grids]

    def _positions(self, bbox, geom, start, end) -> np.ndarray:
        pos = None
        if start is not None or end is not None:
            pos = self.figures.between(start, end)
        if bbox is not None:
            b = self.index.bbox(*bbox)
            pos = b if pos is None else np.intersect1d(pos, b, assume_unique=True)
        if geom is not None:
            g = self.index.intersects(geom)
            pos = g if pos is None else np.intersect1d(pos, g, assume_unique=True)
        return np.arange(len(self.figures)) if pos is None else pos[pos < len(self.figures)]

    def extent(self) -> dict:
        """bbox [minLon, minLat, maxLon, maxLat] (None when empty) and the earliest and latest report times."""
        first, last = self.figures.reported_range()
        return {"bbox": self.index.bounds(), "start": first, "end": last}

    def positions_of(self, incident_ids) -> np.ndarray:
        """Positions (ascending) of the incidents with these ids (unknown ids are left out)."""
        pos = self.table.pos.many(incident_ids)
        return np.unique(pos[pos >= 0])

    def ids(self, positions) -> list:
        """The incident ids at `positions` (the inverse of positions_of)."""
        return self.table.cols["incident_id"][np.asarray(positions, dtype=np.int64)].tolist()

    def rows(self, positions, columns=None) -> pd.DataFrame:
        """The incidents at `positions` as a frame (schema fields + lon, lat, or `columns`), index = position."""
        return self.table.frame(np.asarray(positions, dtype=np.int64), columns)

    def open_positions(self) -> np.ndarray:
        """Positions of the incidents still open (not resolved or closed), ascending."""
        return self.figures.open_positions()

    def is_open(self, positions) -> np.ndarray:
        """Whether each incident at `positions` is open: not yet resolved or closed."""
        return self.figures.rank(np.asarray(positions, dtype=np.int64)) < DONE_RANK

    def overdue(self, positions=None, now=None) -> np.ndarray:
        """Whether each incident at `positions` (default: the open ones) is overdue at `now` (default: the clock)."""
        pos = self.open_positions() if positions is None else positions
        return self.figures.overdue(pos, self.deadlines, self.now() if now is None else now)

    def summary(self, positions=None, now=None) -> dict:
        """Counts, on-time rates, closure rate and mean rating of the incidents at `positions` (default: all)."""
        pos = np.arange(len(self.figures)) if positions is None else positions
        return self.figures.summary(pos, self.deadlines, self.now() if now is None else now)

    def get(self, incident_id) -> dict:
        """One incident as a dict (schema fields + lon, lat); NotFound when there is none."""
        self._sync.follow()
        with self._lock:
            if incident_id not in self.table.pos:
                raise NotFound(f"incident {incident_id!r} does not exist", id=str(incident_id))
            return self.table.row(incident_id)

    def history(self, incident_id) -> list[dict]:
        """Every stage change of one incident (who, when, action, from, to, note), oldest first."""
        self.get(incident_id)
        return self.store.history(incident_id)

    def timeliness(self, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        """Due times and overdue state of `frame` (all incidents by default) at the service's clock."""
        return timeliness(self.frame() if frame is None else frame, self.deadlines, self.now())

    def worker(self, grid_code) -> dict | None:
        """The grid worker responsible for `grid_code` (name, grid name, phone), or None."""
        layer = self.twin.layers.get("grids")
        frame = None if layer is None else layer.frame
        known, workers = self._workers
        if known is not frame:  # a plan installed a new grid layer: its workers are looked up afresh
            workers = {}
            self._workers = (frame, workers)
        if grid_code not in workers:  # a pandas row lookup per request cost intake as much as its placement
            workers[grid_code] = self.placer.worker(grid_code)
        found = workers[grid_code]
        return None if found is None else dict(found)

    # --- writes ------------------------------------------------------------------------------------------------
    def create(self, fields: dict, actor: str) -> dict:
        """Validate, place, store durably and index one new incident; return it."""
        return self._insert([self.prepare(fields)], actor, "report")[0]

    def create_many(self, items: list[dict], actor: str, urgent_first: bool = True) -> list[dict]:
        """Validate and place every item first (one InvalidInput naming each bad item's index and field), then
        store them all in one transaction (all or none): most urgent first, or in the given order."""
        recs = self.prepare_many(items)
        if urgent_first:
            recs = sorted(recs, key=lambda r: -r["priority"])
        return self._insert(recs, actor, "report")

    def prepare(self, fields: dict) -> dict:
        """The validated, placed record of a new incident (nothing stored); InvalidInput naming the bad field."""
        recs, problems = self._prepare([fields])
        if problems:
            raise problems[0][1]
        return recs[0]

    def prepare_many(self, items: list) -> list[dict]:
        """prepare() for every item, placed in one vectorised pass; one InvalidInput listing every bad item (an item
        may be the InvalidInput its caller's own check raised, so that it is listed with the others)."""
        recs, problems = self._prepare(items)
        if problems:
            raise batch_error(problems, len(items))
        return recs

    def _prepare(self, items: list) -> tuple[list[dict], list[tuple[int, TwinError]]]:
        """(records of the good items in order, [(index, error)] of the bad ones)."""
        recs: dict[int, dict] = {}
        homes: dict[int, dict] = {}
        problems: list[tuple[int, TwinError]] = []
        for i, fields in enumerate(items):
            try:
                if isinstance(fields, TwinError):  # the caller's own check of this item failed already
                    raise fields
                if not isinstance(fields, dict):
                    raise InvalidInput("an incident must be an object of fields")
                rec = clean(fields)
                if rec.get("household_id"):
                    homes[i] = home = self.placer.household(rec["household_id"])
                    rec.setdefault("lon", home["lon"])
                    rec.setdefault("lat", home["lat"])
                recs[i] = rec
            except (InvalidInput, NotFound) as exc:
                problems.append((i, exc))
        lons = np.array([recs[i]["lon"] for i in recs], dtype=float)
        lats = np.array([recs[i]["lat"] for i in recs], dtype=float)
        inside = self.twin.contains_points(lons, lats, self.location_margin_m)
        if len(lons) == 1:  # one report (the usual request): scalar queries cost a third of the vectorised pass
            places = iter([self.placer.place_one(lons[0], lats[0])] if inside[0] else [])
        else:
            places = iter(self.placer.place_all(lons[inside], lats[inside]))
        for i, ok in zip(list(recs), inside.tolist()):
            rec = recs[i]
            if not ok:
                problems.append((i, InvalidInput(OUTSIDE, field="lat", lon=rec["lon"], lat=rec["lat"])))
                del recs[i]
                continue
            place = next(places)
            home = homes.get(i)
            if home is not None:  # a household's own building beats the nearest one
                place.update({k: home[k] for k in place if home.get(k) is not None})
            rec.update(place)
        return list(recs.values()), sorted(problems, key=lambda p: p[0])

    def _insert(self, recs: list[dict], actor: str, action: str, note: str | None = None) -> list[dict]:
        def maker(rec: dict):
            def make(seq: int):
                now = self.now()
                record = {c: rec.get(c) for c in COLUMNS}
                record.update(incident_id=new_id(now, seq), stage="reported", reported_at=now)
                return record, {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "from_stage": None,
                    "to_stage": "reported",
                    "note": note,
                }

            return make

        records = self._commits.submit([maker(r) for r in recs])
        for record in records:
            log.debug(
                "incident %s (%s) reported by %s in grid %s",
                record["incident_id"],
                record["category"],
                actor,
                record["grid_code"],
            )
        self._intake_log.add(len(records))
        return [dict(r) for r in records]  # as get() would read them back (a test holds them equal)

    def _added_all(self, records: list[dict]) -> None:
        with self._lock:
            at = [self._added(record) for record in records]
            self.index.insert_many(at, [r["lon"] for r in records], [r["lat"] for r in records])
            self._writes += len(records)

    def _added(self, record: dict) -> int:
        if record["incident_id"] in self.table.pos:  # already taken in from the store by the sync
            i = self.table.update(record["incident_id"], record)
            self.figures.update(i, record)
        else:
            i = self.table.append(record)
            if self.figures.append(record) != i:
                raise RuntimeError("the incident table and its figures disagree on positions")
        return i

    def act(self, incident_id, action: str, actor: str, note: str | None = None, rating=None) -> dict:
        """Move one incident through its lifecycle (accept/arrive/resolve/close/escalate/reopen); else Conflict."""
        self.get(incident_id)
        self._not_a_duplicate(incident_id)
        with self._lock:
            now = self.now()
            row = self.store.update(
                incident_id, lambda r: lifecycle.apply(r, action, actor, now, note=note, rating=rating)
            )
            i = self.table.update(incident_id, row)
            self.figures.update(i, row)
            self._writes += 1
        log.info("incident %s: %s by %s", incident_id, action, actor)
        return self.get(incident_id)

    def allowed_actions(self, incident_id) -> list[str]:
        """The actions the lifecycle allows on one incident now (lifecycle.allowed); none on a closed duplicate."""
        row = self.get(incident_id)
        return [] if incident_id in self.duplicates.original else lifecycle.allowed(row)

    def _not_a_duplicate(self, incident_id) -> None:
        original = self.duplicates.original.get(incident_id)
        if original is not None:
            raise Conflict(
                f"{incident_id} was closed as a duplicate of {original}; work on {original} instead",
                id=incident_id,
                duplicate_of=original,
            )

    # --- duplicates --------------------------------------------------------------------------------------------
    def possible_duplicates(self, row: dict, radius_m: float, may_see=None) -> list[tuple[str, float]]:
        """Open incidents of the same category within `radius_m` reported before `row`: [(id, metres)]; only those
        `may_see(categories, grid_codes) -> bools` passes, when given."""
        return self.possible_duplicates_many([row], radius_m, may_see)[0]

    def possible_duplicates_many(self, rows: list[dict], radius_m: float, may_see=None) -> list[list]:
        """possible_duplicates() of each of a batch's `rows` (in filing order: an earlier row counts for a later
        one filed at the same instant), in one vectorised pass."""
        from .duplicates import candidates_many

        return candidates_many(self, rows, radius_m, may_see)

    def mark_duplicate(self, incident_id, original_id, actor: str, note: str | None = None) -> dict:
        """Close an open incident as a duplicate of another (linked both ways); Conflict if it is not open."""
        return self.duplicates.link(self, incident_id, original_id, actor, note)

    # --- care checks -------------------------------------------------------------------------------------------
    def record_call(self, household_id: str, answered: bool, actor: str, note: str | None = None) -> dict:
        """Record one morning call to an elderly person living alone; the third miss of a day opens a visit."""
        from .care import record_call

        return record_call(self, household_id, answered, actor, note)


def new_id(now: pd.Timestamp, seq: int) -> str:
    """A readable, unique work-order number: GD + report date + store sequence."""
    return f"GD{now:%Y%m%d}{seq:07d}"
