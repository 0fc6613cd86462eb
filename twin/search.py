"""Find a place by what people type: names, codes, pinyin initials, incident numbers, household rooms.

The index is built once (sorted key lists searched by prefix with bisect), so a query never scans a frame and never
calls pypinyin. Households are indexed per grid and only searched in the grids the caller may see; incidents are
found by number and shown by the same rule as everywhere (twin.access.may_see_incidents). No web code here.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from .access import Principal, may_see_incidents
from .vocab import INCIDENT_CATEGORIES, label

log = logging.getLogger(__name__)

KINDS = ("community", "compound", "grid", "building", "household", "incident")  # ranked in this order
LAYER_OF = {
    "community": "communities",
    "compound": "compounds",
    "grid": "grids",
    "building": "buildings",
    "household": "households",
    "incident": "incidents",
}
LIMIT = 10
SCAN = 200  # keys looked at per sorted list and query: enough to fill LIMIT after ranking and role rules
MAX_QUERY = 64
PACK_CHUNK = 65_536  # keys packed per step
APART_BUILDINGS = 10_000  # from this many buildings on, pinyin initials are worked out in a child process
_SPACE = re.compile(r"\s+")


def normalize(text) -> str:
    """A key or query as compared: lower case, no spaces, full-width digits and letters made half-width."""
    s = str(text or "").translate(_FULLWIDTH)
    return _SPACE.sub("", s).lower()


_FULLWIDTH = {0xFF10 + i: 0x30 + i for i in range(10)} | {0xFF21 + i: 0x41 + i for i in range(26)}
_FULLWIDTH |= {0xFF41 + i: 0x61 + i for i in range(26)} | {0xFF0D: 0x2D}


def initials(names) -> dict[str, str]:
    """Pinyin initials of each distinct name ("玉兰华庭" → "ylht"; digits and letters kept as they are)."""
    from pypinyin import Style, lazy_pinyin

    return {n: "".join(lazy_pinyin(n, style=Style.FIRST_LETTER, errors="default")).lower() for n in set(names)}


def initials_apart(names) -> dict[str, str]:
    """initials() worked out in a child process, so this one never holds pypinyin's dictionaries (56 MB for as long
    as the process lives); here if no child can start."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:  # spawn: a fresh interpreter (forking a threaded server is unsafe)
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            return pool.submit(initials, set(names)).result()
    except (OSError, BrokenProcessPool) as exc:
        log.info("pinyin initials worked out in this process (no child process: %s)", exc)
        return initials(names)


def building_number(name: str) -> str:
    """The number people say for a building: "3号楼" → "3", "B1号楼" → "B1"; else the name."""
    n = _SPACE.sub("", str(name))
    for tail in ("号楼", "栋", "号", "幢", "座"):
        if n.endswith(tail) and len(n) > len(tail):
            return n[: -len(tail)]
    return n


@dataclass
class Entry:
    """One thing that can be found: its kind, id, label, second line, box and (household, incident) grid."""

    kind: str
    id: str
    label: str
    sub: str
    bbox: tuple
    grid: str | None = None
    building_id: str | None = None
    category: str | None = None


class SortedKeys:
    """(key, reference) pairs sorted by key; prefix lookup by bisect."""

    def __init__(self, pairs):
        pairs = sorted(pairs)
        self.keys = [k for k, _ in pairs]
        self.refs = [r for _, r in pairs]

    def prefix(self, q: str, limit: int = SCAN):
        """(key, entry) of the first `limit` keys starting with `q`."""
        i = bisect.bisect_left(self.keys, q)
        out = []
        while i < len(self.keys) and len(out) < limit and self.keys[i].startswith(q):
            out.append((self.keys[i], self.refs[i]))
            i += 1
        return out

    def __len__(self) -> int:
        return len(self.keys)


class RowKeys:
    """One key per row (its reference is the row position), sorted by an int32 order over Arrow text: a million
    rows cost a few bytes each, not a Python string each; prefix lookup by bisect, as SortedKeys.

    With `head`, the key of row p is head[p] + "|" + keys[p] (sorted as such; the joined text is not kept); with
    `refs`, row p refers to refs[p] instead of p."""

    def __init__(self, keys, head, order: np.ndarray, refs: np.ndarray | None = None):
        self._keys, self._head, self._order = keys, head, order
        self._refs = order if refs is None else refs[order]

    @classmethod
    def of(cls, keys, head: pd.Series | None = None, refs=None) -> "RowKeys":
        """The keys of rows 0..n-1 (and their heads), sorted stably (by code point, as Python compares text)."""
        import pyarrow.compute as pc

        text = lambda s: pa.array(np.asarray(s, dtype=object), type=pa.large_string())  # noqa: E731
        keys = text(keys)
        head = None if head is None else text(head)
        whole = keys if head is None else pc.binary_join_element_wise(head, keys, pa.scalar("|", pa.large_string()))
        order = pc.sort_indices(whole).to_numpy().astype(np.int32)  # Arrow's sort is stable
        return cls(keys, head, order, None if refs is None else np.asarray(refs, dtype=np.int32))

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, i: int) -> str:
        p = int(self._order[i])
        key = self._keys[p].as_py()
        return key if self._head is None else f"{self._head[p].as_py()}|{key}"

    def prefix(self, q: str, limit: int = SCAN):
        """(key, row) of the first `limit` keys starting with `q`."""
        i = bisect.bisect_left(self, q)
        rows = self._order[i : i + limit]
        keys = self._keys.take(rows).to_pylist()
        if self._head is not None:
            keys = [f"{h}|{k}" for h, k in zip(self._head.take(rows).to_pylist(), keys)]
        n = next((j for j, k in enumerate(keys) if not k.startswith(q)), len(keys))
        return list(zip(keys[:n], self._refs[i : i + n].tolist()))


class PackedKeys:
    """Many (key, reference) pairs sorted by key, packed as UTF-8 bytes in one numpy array (a million household
    rooms or incident numbers cost tens of MB, not a Python string each); prefix lookup by binary search. Keys
    added later wait in a small sorted list beside it."""

    def __init__(self, keys, refs: np.ndarray):
        """`keys`: text (a sequence, or Arrow text, which is packed without a Python string per key)."""
        import pyarrow.compute as pc

        text = keys if isinstance(keys, pa.Array) else pa.array(np.asarray(keys, dtype=object), type=pa.large_string())
        order = pc.sort_indices(text).to_numpy()  # stable; UTF-8 bytes sort as Python compares text
        text = text.take(pa.array(order))
        width = max(1, pc.max(pc.binary_length(text)).as_py() or 0) if len(text) else 1
        packed = np.empty(len(text), dtype=f"S{width}")
        for lo in range(0, len(text), PACK_CHUNK):  # a chunk of Python strings at a time, not a million at once
            packed[lo : lo + PACK_CHUNK] = [k.encode("utf-8") for k in text.slice(lo, PACK_CHUNK).to_pylist()]
        self.keys, self.refs = packed, np.asarray(refs, dtype=np.int64)[order]
        self.extra = SortedKeys([])

    def add(self, key: str, ref: int) -> None:
        """One more pair (kept in the small sorted list)."""
        i = bisect.bisect_left(self.extra.keys, key)
        self.extra.keys.insert(i, key)
        self.extra.refs.insert(i, ref)

    def prefix(self, q: str, limit: int = SCAN):
        """(key, reference) of the first `limit` keys starting with `q`."""
        b = q.encode("utf-8")
        i = int(np.searchsorted(self.keys, b, side="left"))
        j = min(int(np.searchsorted(self.keys, b + b"\xff", side="left")), i + limit)  # 0xff is never in UTF-8
        found = [(k.decode("utf-8"), int(r)) for k, r in zip(self.keys[i:j].tolist(), self.refs[i:j].tolist())]
        if self.extra.keys:
            found = sorted(found + self.extra.prefix(q, limit))[:limit]
        return found

    def __len__(self) -> int:
        return len(self.keys) + len(self.extra)


class SearchIndex:
    """Every searchable thing of a twin, keyed by normalized names, codes, initials and rooms."""

    def __init__(self, twin):
        t0 = time.perf_counter()
        self.twin = twin
        self.entries: list[Entry] = []
        self._building_place: dict[str, tuple[str, str]] = {}  # building id → (compound name, building name)
        self._building_bounds: dict[str, tuple] = {}
        pairs: list[tuple[str, int]] = []
        big = "buildings" in twin.layers and len(twin.frame("buildings")) >= APART_BUILDINGS
        self._initials = initials_apart if big else initials
        self._places(pairs)
        self.places = RowKeys.of([k for k, _ in pairs], refs=[n for _, n in pairs])
        del pairs
        self._rooms: tuple | None = None  # (rooms, rooms_by_grid), built by the first search that may see rooms
        self._rooms_lock = threading.Lock()
        self.incident_keys = PackedKeys(np.array([], dtype=object), np.array([], dtype=np.int64))
        self._incidents_seen = 0
        self._sync_incidents()
        log.info(
            "search index: %d place keys, %d incidents, in %.1f s (household rooms on first use)",
            len(self.places),
            len(self.incident_keys),
            time.perf_counter() - t0,
        )

    # --- building --------------------------------------------------------------------------------------------
    def _add(self, entry: Entry, keys, pairs) -> None:
        n = len(self.entries)
        self.entries.append(entry)
        for k in {normalize(k) for k in keys if k}:
            pairs.append((k, n))

    def _frame(self, name):
        return self.twin.frame(name) if name in self.twin.layers else None

    def _title(self, kind: str, lang: int) -> str:
        k = self.twin.kinds.get(LAYER_OF[kind])
        return (k.title_zh, k.title_en)[lang] if k is not None else kind

    def _places(self, pairs) -> None:
        names = {}
        for layer, kind, id_col in (
            ("communities", "community", "community_id"),
            ("compounds", "compound", "compound_id"),
            ("grids", "grid", "grid_code"),
        ):
            f = self._frame(layer)
            if f is None:
                continue
            label = f["name"].fillna(f[id_col]).astype(str).tolist()
            names.update(zip(f[id_col].astype(str), label))
            ini = self._initials(label)
            bounds = f.geometry.bounds.to_numpy()
            parents = f["community_id"].astype(str).tolist()
            for i, (code, name) in enumerate(zip(f[id_col].astype(str), label)):
                keys = [name, code, ini[name], *_suffixes(name)]
                if kind == "grid" and len(code) == 15:
                    keys.append(code[9:])  # community + sequence, as on the map labels
                sub = names.get(parents[i], "") if kind != "community" else ""
                self._add(Entry(kind, code, name, sub, tuple(bounds[i])), keys, pairs)
        b = self._frame("buildings")
        if b is None:
            return
        self._building_names = b["name"].fillna(b["building_id"]).astype(str).to_numpy()
        comp = b["compound_id"].astype(str).map(names).fillna("").to_numpy() if "compound_id" in b else None
        ini = self._initials(set(self._building_names) | (set(comp) if comp is not None else set()))
        bounds = list(map(tuple, b.geometry.bounds.to_numpy().tolist()))  # one tuple per building, shared below
        self._building_bounds = dict(zip(b["building_id"].astype(str), bounds))
        communities = b["community_id"].astype(str).map(names).fillna("").tolist()
        for i, (bid, name) in enumerate(zip(b["building_id"].astype(str), self._building_names)):
            c = comp[i] if comp is not None else ""
            self._building_place[bid] = (c, name)
            keys = [bid, name, c + name, ini.get(c, "") + ini[name], c + building_number(name)]
            self._add(
                Entry(
                    "building",
                    bid,
                    f"{c}{name}",
                    communities[i],
                    bounds[i],
                    building_id=bid,
                ),
                keys,
                pairs,
            )

    @property
    def rooms(self) -> "RowKeys":
        """Rooms as "building number-unit-room" keys of every household (built on first use)."""
        return self._room_index()[0]

    @property
    def rooms_by_grid(self) -> "RowKeys":
        """The same keys prefixed by the household's grid ("<grid>|<key>"), for staff of some grids."""
        return self._room_index()[1]

    def _room_index(self) -> tuple:
        with self._rooms_lock:
            if self._rooms is None:
                t0 = time.perf_counter()
                self._rooms = self._households()
                log.info("search index: %d household rooms in %.1f s", len(self._rooms[0]), time.perf_counter() - t0)
            return self._rooms

    def _households(self) -> tuple:
        """The room keys of every household: Arrow text and int32 orders, no Python string per household."""
        h = self._frame("households")
        if h is None or not self._building_place:
            return RowKeys.of(pd.Series([], dtype=object)), RowKeys.of(pd.Series([], dtype=object))
        number = pd.Series(self._numbers(), dtype=object)
        bids = h["building_id"].astype(str)
        keys = _normalized(bids.map(number).fillna(bids)) + _normalized(self._tail(h))
        grids = h["grid_code"].astype(str)
        return RowKeys.of(keys), RowKeys.of(keys, head=grids)

    def _numbers(self) -> dict:
        """Building id → the number people say for it (its name's number)."""
        if getattr(self, "_building_numbers", None) is None:
            self._building_numbers = {b: building_number(n) for b, (_, n) in self._building_place.items()}
        return self._building_numbers

    @staticmethod
    def _tail(h: pd.DataFrame) -> pd.Series:
        return "-" + h["unit"].astype(str) + "-" + h["room"].astype(str)

    def room_label(self, pos: int) -> str:
        """ "3-2-501": the building number, unit and room of the household at row `pos`."""
        h = self.twin.frame("households")
        bid, unit, room = (str(h[c].iat[pos]) for c in ("building_id", "unit", "room"))
        return f"{self._numbers().get(bid, bid)}-{unit}-{room}"

    def _household_entry(self, pos: int) -> Entry:
        h = self.twin.frame("households")
        hid, bid, unit, room = (str(h[c].iat[pos]) for c in ("household_id", "building_id", "unit", "room"))
        compound, bname = self._building_place.get(bid, ("", bid))
        return Entry(
            "household",
            hid,
            self.room_label(pos),
            f"{compound}{bname} {unit}-{room}",
            self._building_bounds.get(bid, (0, 0, 0, 0)),
            building_id=bid,
        )

    def _sync_incidents(self) -> None:
        """Index incidents written since the last query (numbers grow with time, so the list stays sorted)."""
        service = self.twin.incidents
        if service is None or len(service) == self._incidents_seen:
            return
        n = len(service)
        pos = np.arange(self._incidents_seen, n)
        new = service.rows(pos, ["incident_id"])["incident_id"].astype(str)  # the ids only, not every column
        if not len(self.incident_keys):
            self.incident_keys = PackedKeys(pa.array(new.str.lower(), type=pa.large_string()), pos)
        else:
            for i_pos, iid in zip(pos.tolist(), new):
                self.incident_keys.add(iid.lower(), i_pos)
        self._incidents_seen = n

    # --- querying --------------------------------------------------------------------------------------------
    def search(self, q: str, p: Principal, lang: str = "zh", limit: int = LIMIT) -> list[dict]:
        """The best `limit` things matching `q` that `p` may see, best first (exact, then by kind, then shortest)."""
        q = normalize(q)[:MAX_QUERY]
        if not q:
            return []
        found: dict[tuple, tuple] = {}
        self._rank(found, self.places.prefix(q), q)
        if p.sees_personal:
            if p.role == "admin" or p.grids is None:
                hits = self.rooms.prefix(q)
            else:
                hits = [
                    (k.split("|", 1)[1], r) for g in sorted(p.grids) for k, r in self.rooms_by_grid.prefix(f"{g}|{q}")
                ]
            self._rank(found, hits, q, "household")
        best = sorted(found.items(), key=lambda kv: kv[1])[:limit]
        out = [
            self._doc(self._household_entry(n) if kind == "household" else self.entries[n], lang)
            for (kind, n), _ in best
        ]
        return (out + self._incidents(q, p, lang, limit - len(out)))[:limit]

    def _rank(self, found: dict, hits, q: str, kind: str | None = None) -> None:
        for key, n in hits:
            k = kind or self.entries[n].kind
            score = (key != q, KINDS.index(k), len(key), key)
            if (k, n) not in found or score < found[(k, n)]:
                found[(k, n)] = score

    def _incidents(self, q: str, p: Principal, lang: str, room: int) -> list[dict]:
        if room <= 0 or not q.startswith("gd"):
            return []
        self._sync_incidents()
        pos = [r for _, r in self.incident_keys.prefix(q, SCAN)]
        if not pos:
            return []
        names = ["incident_id", "category", "grid_code", "lon", "lat", "building_id"]
        rows = self.twin.incidents.rows(pos, names)  # only the rows found, not every incident
        cols = {c: rows[c].to_numpy(dtype=object) for c in names}
        ok = may_see_incidents(p, cols["category"], cols["grid_code"])
        out = []
        for i in np.flatnonzero(ok)[:room]:
            lon, lat, bid = float(cols["lon"][i]), float(cols["lat"][i]), cols["building_id"][i]
            place = self._building_place.get(str(bid), ("", "")) if isinstance(bid, str) else ("", "")
            e = Entry(
                "incident",
                cols["incident_id"][i],
                cols["incident_id"][i],
                f"{label(INCIDENT_CATEGORIES, cols['category'][i], lang)} {''.join(place)}".strip(),
                (lon, lat, lon, lat),
                building_id=bid if isinstance(bid, str) else None,
            )
            out.append(self._doc(e, lang))
        return out

    def _doc(self, e: Entry, lang: str) -> dict:
        doc = {
            "kind": e.kind,
            "kind_label": self._title(e.kind, 0 if lang == "zh" else 1),
            "id": e.id,
            "label": e.label,
            "sub": e.sub,
            "bbox": [round(float(v), 7) for v in e.bbox],
        }
        if e.building_id:
            doc["building_id"] = e.building_id
        return doc


def _normalized(values: pd.Series) -> pd.Series:
    """normalize() of each value, computed once per distinct value."""
    return values.map({v: normalize(v) for v in pd.unique(values)})


def _suffixes(name: str) -> list[str]:
    """Tails of a Chinese name from its second character on, so "华庭" finds "玉兰华庭" (names are short)."""
    return [name[i:] for i in range(1, len(name) - 1)] if any(ord(c) > 0x2E80 for c in name) else []
