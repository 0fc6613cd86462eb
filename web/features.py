"""OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0) over every layer, with per-role views of personal data."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import NotAcceptable

from twin.access import may_see_incidents, suppress
from twin.errors import Forbidden, InvalidInput, NotFound
from twin.schema import Field
from twin.times import iso_utc, utc_now

from . import crs, filters, get_twin, http
from .auth import current_principal
from .crs import CRS84
from .geojson import FeatureEncoder, VersionCache, dumps, feature_collection, geometry_json, point_json
from .http import parse_bbox, parse_datetime, parse_equals, parse_int

log = logging.getLogger(__name__)

bp = Blueprint("features", __name__)
http.install(bp)

GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
]


# --- the catalogue: every layer kind, the live incidents, and household counts ------------------------------------
WORLD = [-180.0, -90.0, 180.0, 90.0]
FILTER_DTYPES = ("str", "int", "bool")
EARLIEST = pd.Timestamp.min.tz_localize("UTC")  # before every real time, after a missing one


def _cache() -> VersionCache:
    return current_app.extensions.setdefault("features.cache", VersionCache())


class Source:
    """A collection: rows with an id, declared fields and geometry; knows who may see which of its fields."""

    restricted = False  # only staff and admin may read it at all (rows of limited staff filtered by grid)
    time_field = None
    no_filter: tuple = ()  # declared fields that may not be filtered on (e.g. counts that are suppressed)
    static = True  # rows change only when the twin is reloaded (not with every write)

    def __init__(self, id_: str, title_zh: str, title_en: str, id_field: str, fields: tuple[Field, ...]):
        self.id, self.title_zh, self.title_en = id_, title_zh, title_en
        self.id_field, self.fields = id_field, fields
        names = [f.name for f in fields]
        self.grid_field = "grid_code" if "grid_code" in names else None
        self.personal = [f.name for f in fields if f.personal]

    # what the data source provides (subclasses) --------------------------------------------------------------
    def version(self, twin) -> str:
        raise NotImplementedError

    def frame(self, twin) -> pd.DataFrame:
        raise NotImplementedError

    def geometry(self, twin, frame):
        """A function positions → GeoJSON geometry strings."""
        raise NotImplementedError

    def _select(self, twin, bbox, start, end, equals) -> np.ndarray:
        raise NotImplementedError

    def position(self, twin, item_id: str) -> int:
        raise NotImplementedError

    def values(self, twin, name: str, pos: np.ndarray) -> np.ndarray:
        """The values of field `name` at `pos`, as an object array."""
        return self.frame(twin)[name].to_numpy(dtype=object)[pos]

    def keep(self, twin, cql, pos: np.ndarray) -> np.ndarray:
        """The positions of `pos` whose rows satisfy the checked CQL2 filter `cql` (None keeps all)."""
        return filters.keep(cql, self.frame(twin), pos)

    def view_frame(self, twin, full: bool) -> pd.DataFrame:
        """The rows as a caller sees them: all fields (`full`) or without personal ones."""
        return self.frame(twin)

    @property
    def has_private_view(self) -> bool:
        return bool(self.personal)

    # shared behaviour ----------------------------------------------------------------------------------------------
    @property
    def filterable(self) -> dict:
        """Fields a caller may filter on: declared, non-personal, simple types."""
        return {
            f.name: f
            for f in self.fields
            if not f.personal and f.dtype in FILTER_DTYPES and f.name not in self.no_filter
        }

    def visible_to(self, p) -> bool:
        """Whether `p` may read this collection at all."""
        return not self.restricted or p.sees_personal

    def check_visible(self, p) -> None:
        """Forbidden unless `p` may read this collection."""
        if not self.visible_to(p):
            raise Forbidden(
                f"collection {self.id} holds personal data and is for staff and admin only; public and "
                f"planner callers use the household-counts collections",
                collection=self.id,
            )

    def description(self, p) -> str:
        """What the collection is, and what this caller sees of it."""
        text = self.title_en
        if self.personal and not p.sees_personal:
            text += f" (personal fields {', '.join(self.personal)} withheld)"
        return text

    def select(self, twin, p, *, bbox=None, start=None, end=None, equals=None) -> np.ndarray:
        """Ascending positions of the rows matching the query that `p` may see (`bbox`: one box or a list)."""
        boxes = bbox if isinstance(bbox, list) else [bbox]
        pos = self._select(twin, boxes[0], start, end, equals or {})
        for more in boxes[1:]:  # a box across the antimeridian comes as two
            pos = np.union1d(pos, self._select(twin, more, start, end, equals or {}))
        if self.restricted and p.role != "admin" and p.grids is not None:
            pos = pos[np.isin(self.values(twin, self.grid_field, pos), list(p.grids))]
        return pos

    def check_row(self, twin, p, pos: int) -> None:
        """Forbidden when a grid-limited staff caller asks for a restricted row outside their grids."""
        if self.restricted:
            grid = self.values(twin, self.grid_field, np.array([pos]))[0]
            if not p.may_see_grid(grid):
                raise Forbidden(
                    f"{self.id} record is in grid {grid}, outside the grids your token allows", collection=self.id
                )

    def full_rows(self, twin, p, pos: np.ndarray) -> np.ndarray:
        """Which of the rows at `pos` `p` sees in full (personal fields, unsuppressed counts)."""
        if not self.has_private_view or not p.sees_personal:
            return np.zeros(len(pos), dtype=bool)
        if p.role == "admin" or p.grids is None:
            return np.ones(len(pos), dtype=bool)
        if self.grid_field is None:
            return np.zeros(len(pos), dtype=bool)
        return np.isin(self.values(twin, self.grid_field, pos), list(p.grids))

    def encoder(self, twin, full: bool) -> FeatureEncoder:
        """The cached encoder of this collection's current version, full or public view."""

        def build():
            frame = self.view_frame(twin, full)
            names = [f.name for f in self.fields if full or not f.personal]
            log.info("encoder for %s (%s view, %d rows)", self.id, "full" if full else "public", len(frame))
            return FeatureEncoder(frame, self.id_field, names, self.geometry(twin, frame), whole_columns=self.static)

        return _cache().get((id(twin), self.id, full), self.version(twin), build)

    def features(self, twin, p, pos) -> list[str]:
        """Feature JSON strings of the rows at `pos`, each in the view `p` may see."""
        pos = np.asarray(pos, dtype=np.int64)
        return in_views(self.full_rows(twin, p, pos), lambda full, at: self.encoder(twin, full).features(pos[at]))

    def bbox(self, twin) -> list[float]:
        """The spatial extent [minLon, minLat, maxLon, maxLat] of the current rows."""
        return _cache().get((id(twin), self.id, "bbox"), self.version(twin), lambda: self._bounds(twin))

    def _bounds(self, twin) -> list[float]:
        raise NotImplementedError

    def interval(self, twin):
        """The temporal extent (start, end) as RFC 3339 strings, or None for collections without time."""
        if self.time_field is None:
            return None

        def build():
            col = self.frame(twin)[self.time_field]
            return (iso_utc(col.min()), iso_utc(col.max())) if col.notna().any() else (None, None)

        return _cache().get((id(twin), self.id, "interval"), self.version(twin), build)

    def _match(self, frame, pos: np.ndarray, start, end, equals) -> np.ndarray:
        """Keep the positions whose time lies in [start, end] and whose fields equal `equals`."""
        if self.time_field is not None and (start is not None or end is not None):
            t = frame[self.time_field].iloc[pos]
            keep = t.notna()
            if start is not None:
                keep &= t >= start
            if end is not None:
                keep &= t <= end
            pos = pos[keep.to_numpy(dtype=bool)]
        for name, value in equals.items():
            pos = pos[frame[name].iloc[pos].eq(value).fillna(False).to_numpy(dtype=bool)]
        return pos


def in_views(full: np.ndarray, encode) -> list[str]:
    """Feature strings, each row in the view it may be seen in: `encode(view_is_full, row_mask)` encodes the rows
    of one view."""
    out = np.empty(len(full), dtype=object)
    for view, at in ((True, full), (False, ~full)):
        if at.any():
            out[at] = encode(view, at)
    return out.tolist()


class LayerSource(Source):
    """A static layer of the twin: rows, STRtree index and version loaded once."""

    def __init__(self, kind):
        super().__init__(kind.name, kind.title_zh, kind.title_en, kind.schema.id_field, kind.schema.fields)
        self.kind = kind
        self.layer_name = kind.name
        self.restricted = not kind.public
        self.time_field = kind.time_field
        derived = [Field(n, zh=n, en=n) for n in kind.schema.derived if n not in kind.schema.names]
        self.fields = tuple(kind.schema.fields) + tuple(derived)
        self.grid_field = "grid_code" if "grid_code" in [f.name for f in self.fields] else None

    def version(self, twin) -> str:
        return twin.layer(self.layer_name).version

    def frame(self, twin) -> pd.DataFrame:
        return twin.layer(self.layer_name).frame

    def geometry(self, twin, frame):
        geoms = frame.geometry.to_numpy()
        return lambda pos: geometry_json(geoms[pos])

    def _select(self, twin, bbox, start, end, equals) -> np.ndarray:
        layer = twin.layer(self.layer_name)
        pos = layer.index.bbox(*bbox) if bbox else np.arange(len(layer.frame))
        return self._match(self.frame(twin), pos, start, end, equals)

    def position(self, twin, item_id: str) -> int:
        return twin.layer(self.layer_name).position(item_id)

    def _bounds(self, twin) -> list[float]:
        frame = self.frame(twin)
        return [float(v) for v in frame.total_bounds] if len(frame) else WORLD


class LiveSource(Source):
    """A live layer served by a service on the twin (twin.incidents), answered from the service's indexes.

    A query is positions (bbox through the live spatial index, datetime through the report-time order, equality on
    coded columns), a page is a slice of them, and only the page's rows are read and encoded: a page right after a
    write costs what the page and the filter cost, never a frame of the whole history.
    """

    static = False

    def __init__(self, kind):
        super().__init__(kind.name, kind.title_zh, kind.title_en, kind.schema.id_field, kind.schema.fields)
        self.time_field = kind.time_field
        self.restricted = not kind.public

    def service(self, twin):
        return twin.live[self.id]

    def version(self, twin) -> str:
        return str(self.service(twin).version)

    def frame(self, twin) -> pd.DataFrame:
        return self.service(twin).frame()

    def geometry(self, twin, frame):
        lon, lat = frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
        return lambda pos: point_json(lon[pos], lat[pos])

    def values(self, twin, name: str, pos: np.ndarray) -> np.ndarray:
        service = self.service(twin)
        if hasattr(service, "values"):
            return service.values(name, pos)
        return service.rows(pos, [name])[name].to_numpy(dtype=object)  # a service offering only rows()

    def keep(self, twin, cql, pos: np.ndarray) -> np.ndarray:
        if cql is None or not len(pos):
            return pos
        rows = self.service(twin).rows(pos, filters.properties(cql)).reset_index(drop=True)
        return pos[filters.keep(cql, rows, np.arange(len(pos)))]

    def _select(self, twin, bbox, start, end, equals) -> np.ndarray:
        if end is not None:
            # OGC intervals are closed; the service's end is exclusive, so ask for one microsecond more; an
            # incident without a report time lies in no interval, not even an open-started one.
            end = end + pd.Timedelta(microseconds=1)
            start = EARLIEST if start is None else start
        service = self.service(twin)
        if hasattr(service, "positions"):
            return service.positions(bbox=bbox, start=start, end=end, **equals)
        # a service offering only select() (the contract's frame of matches): its frame is indexed by position
        return np.sort(service.select(bbox=bbox, start=start, end=end, **equals).index.to_numpy(dtype=np.int64))

    def _shown(self, twin, p, pos: np.ndarray) -> np.ndarray:
        """Which rows at `pos` `p` may see as records (care incidents only within the caller's grids)."""
        service = self.service(twin)
        if hasattr(service, "visible"):
            return service.visible(lambda categories, grids: may_see_incidents(p, categories, grids), pos)
        return may_see_incidents(p, self.values(twin, "category", pos), self.values(twin, self.grid_field, pos))

    def select(self, twin, p, **query) -> np.ndarray:
        pos = super().select(twin, p, **query)
        return pos[self._shown(twin, p, pos)]

    def check_row(self, twin, p, pos: int) -> None:
        super().check_row(twin, p, pos)
        if not self._shown(twin, p, np.array([pos]))[0]:
            raise Forbidden(
                f"{self.id} record is about a person's care (SOS, care visit) and is shown only to staff of its grid",
                collection=self.id,
            )

    def features(self, twin, p, pos) -> list[str]:
        """Feature JSON strings of the rows at `pos`: only those rows are read (personal fields only when shown)."""
        pos = np.asarray(pos, dtype=np.int64)
        full = self.full_rows(twin, p, pos)
        names = [f.name for f in self.fields if full.any() or not f.personal]
        rows = self.service(twin).rows(pos, list(dict.fromkeys([self.id_field, *names, "lon", "lat"])))
        rows = rows.reset_index(drop=True)
        geometry = self.geometry(twin, rows)

        def encode(view: bool, at: np.ndarray) -> list[str]:
            shown = [f.name for f in self.fields if view or not f.personal]
            return FeatureEncoder(rows, self.id_field, shown, geometry, whole_columns=False).features(
                np.flatnonzero(at)
            )

        return in_views(full, encode)

    def position(self, twin, item_id: str) -> int:
        service = self.service(twin)
        if hasattr(service, "positions_of"):
            pos = service.positions_of([str(item_id)])
        else:  # a service offering only frame()
            pos = np.flatnonzero(service.frame()[self.id_field].astype(str).to_numpy() == str(item_id))
        if not len(pos):
            raise NotFound(f"{self.title_en.lower()} {item_id!r} does not exist", layer=self.id, id=str(item_id))
        return int(pos[0])

    def _bounds(self, twin) -> list[float]:
        return self.service(twin).extent()["bbox"] or WORLD

    def interval(self, twin):
        """The earliest and latest report time, from the service's indexes (RFC 3339), or (None, None)."""
        e = self.service(twin).extent()
        return (iso_utc(e["start"]), iso_utc(e["end"])) if e["start"] is not None else (None, None)


COUNT_FIELDS = (
    Field("households", "int", required=False, zh="户数", en="Households"),
    Field("persons", "int", required=False, zh="人口", en="Persons"),
    Field("elderly_alone", "int", required=False, zh="独居老人户", en="Elderly living alone"),
    Field("floating", "int", required=False, zh="流动人口户", en="Floating households"),
    Field("key_group", "int", required=False, zh="重点人群户", en="Key-group households"),
)


class CountsSource(LayerSource):
    """Household counts per building or per grid: the households layer as public and planner callers may see it.

    Counts of 1 or 2 are suppressed (null) for them (twin.access.suppress); staff and admin see exact counts.
    """

    no_filter = tuple(f.name for f in COUNT_FIELDS)  # filtering on a suppressed count would reveal it

    def __init__(self, base, by: str, title_zh: str, title_en: str):
        super().__init__(base)
        keep = [
            f
            for f in self.fields
            if f.name in (base.schema.id_field, "grid_code", "community_id", "compound_id", "name")
        ]
        self.fields = tuple(keep) + COUNT_FIELDS
        self.id = f"household-counts-by-{by}"
        self.title_zh, self.title_en = title_zh, title_en
        self.restricted = False
        self.time_field = None

    @property
    def has_private_view(self) -> bool:
        return True

    def description(self, p) -> str:
        note = "" if p.sees_personal else "; counts of 1 or 2 are suppressed (null)"
        return f"{self.title_en}: households, persons and special-care households{note}"

    def version(self, twin) -> str:
        return f"{twin.layer(self.layer_name).version}-{twin.layer('households').version}"

    def frame(self, twin) -> pd.DataFrame:
        return self.view_frame(twin, True)

    def view_frame(self, twin, full: bool) -> pd.DataFrame:
        return _cache().get((id(twin), self.id, "frame", full), self.version(twin), lambda: self._counts(twin, full))

    def _counts(self, twin, full: bool) -> pd.DataFrame:
        base = twin.layer(self.layer_name).frame
        key = self.id_field
        h = twin.layer("households").frame
        flags = pd.DataFrame(
            {
                key: h[key].to_numpy(),
                "households": 1,
                "persons": h["size"].to_numpy(),
                **{
                    c: h[c].fillna(False).astype(bool).to_numpy(dtype=int)
                    for c in ("elderly_alone", "floating", "key_group")
                },
            }
        )
        sums = flags.groupby(key).sum()
        out = base[[f.name for f in self.fields if f.name in base.columns] + [base.geometry.name]].copy()
        for f in COUNT_FIELDS:
            col = sums[f.name].reindex(base[key]).fillna(0).astype(int).to_numpy()
            out[f.name] = col if full else pd.array([suppress(v) for v in col.tolist()], dtype="Int64")
        return out


def catalogue(twin) -> list[Source]:
    """Every collection of the twin: each registered layer kind, then the household-count views."""

    def build():
        sources: list[Source] = []
        for kind in twin.kinds.values():
            if kind.live:
                if twin.live.get(kind.name) is not None:
                    sources.append(LiveSource(kind))
                else:
                    log.warning("live layer %s has no service on this twin; not served", kind.name)
            elif kind.name in twin.layers:
                sources.append(LayerSource(kind))
        if "households" in twin.layers:
            for base, by, zh, en in (
                ("buildings", "building", "楼栋住户统计", "Household counts per building"),
                ("grids", "grid", "网格住户统计", "Household counts per grid"),
            ):
                if base in twin.layers:
                    sources.append(CountsSource(twin.kinds[base], by, zh, en))
        return sources

    return _cache().get((id(twin), "catalogue"), "static", build)


def source_of(twin, collection_id: str) -> Source:
    """The collection called `collection_id`; NotFound naming the ones there are."""
    for s in catalogue(twin):
        if s.id == collection_id:
            return s
    raise NotFound(f"no collection {collection_id!r}; see /collections for the list", collection=collection_id)


# --- request helpers --------------------------------------------------------------------------------------------
def check_params(allowed) -> None:
    """400 for any query parameter not in `allowed`, naming the ones that are."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown query parameter(s) {', '.join(unknown)}; this endpoint takes "
            f"{', '.join(sorted(allowed)) or 'none'}",
            parameters=unknown,
        )


def wants(offered: tuple[str, ...]) -> str:
    """The media type to answer with: `f` if given, else the Accept header, JSON when neither says."""
    f = request.args.get("f")
    if f is not None:
        by_f = {"json": "application/json", "geojson": GEOJSON, "html": "text/html"}
        if f not in by_f:
            raise InvalidInput(f"f must be json or html, not {f!r}", f=f)
        if by_f[f] not in offered and not (f == "json" and GEOJSON in offered):
            raise NotAcceptable(f"f={f} is not offered here; offered: {', '.join(offered)}")
        return by_f[f] if by_f[f] in offered else GEOJSON
    if not request.accept_mimetypes:
        return offered[0]
    best = request.accept_mimetypes.best_match(offered + ("application/json",) * (GEOJSON in offered))
    if best is None:
        raise NotAcceptable(f"cannot answer with {request.headers.get('Accept')}; offered: {', '.join(offered)}")
    return GEOJSON if best == "application/json" and GEOJSON in offered else best


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    """One OGC link object."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def url(path: str, **args) -> str:
    """An absolute URL on this server."""
    query = urlencode({k: v for k, v in args.items() if v is not None})
    return request.host_url.rstrip("/") + path + (f"?{query}" if query else "")


def principal_key(p) -> tuple:
    """What about the caller changes a response: role and grid limits (not the name)."""
    return p.role, tuple(sorted(p.grids)) if p.grids is not None else None


def json_response(doc, mimetype: str = "application/json") -> Response:
    """A JSON response with the given media type."""
    return Response(dumps(doc), mimetype=mimetype)


# --- landing, conformance, openapi --------------------------------------------------------------------------------
@bp.get("/")
def landing():
    """Landing page: JSON by default; the wall dashboard for a browser asking for HTML (or f=html)."""
    dashboard = current_app.view_functions.get("dashboard.page")
    offered = ("application/json", "text/html") if dashboard else ("application/json",)
    if wants(offered) == "text/html":
        return dashboard()
    check_params({"f", "lang"})
    links = [
        link(url("/"), "self", "application/json", "this document"),
        link(url("/openapi"), "service-desc", OPENAPI, "the API definition"),
        link(url("/conformance"), "conformance", "application/json", "conformance classes"),
        link(url("/collections"), "data", "application/json", "the collections"),
    ]
    if dashboard:
        links.append(link(url("/", f="html"), "alternate", "text/html", "wall dashboard"))
    return jsonify(
        {
            "title": "社区数字孪生 Community digital twin",
            "description": "Every layer of the street (communities, grids, compounds, buildings, incidents "
            "and household counts) as OGC API – Features.",
            "links": links,
        }
    )


@bp.get("/conformance")
def conformance():
    """The conformance classes this API implements."""
    wants(("application/json",))
    check_params({"f"})
    return jsonify({"conformsTo": CONFORMANCE})


@bp.get("/openapi")
def openapi():
    """The OpenAPI 3.0 document (local $refs only)."""
    wants(("application/vnd.oai.openapi+json", "application/json"))
    check_params({"f"})
    from .openapi import document

    sources = catalogue(get_twin())
    etag = http.etag_of("openapi", tuple(s.id for s in sources), MAX_LIMIT)
    return http.conditional(etag, lambda: json_response(document(sources, url("/"), DEFAULT_LIMIT, MAX_LIMIT), OPENAPI))


# --- collections --------------------------------------------------------------------------------------------------
def collection_doc(twin, source, principal) -> dict:
    """The description of one collection as OGC API – Features lists it."""
    base = f"/collections/{source.id}"
    doc = {
        "id": source.id,
        "title": source.title_zh,
        "description": source.description(principal),
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [source.bbox(twin)], "crs": CRS84}},
        "crs": crs.URIS,
        "storageCrs": crs.STORAGE.uri,
        "links": [
            link(url(base), "self", "application/json", source.title_zh),
            link(url(base + "/items"), "items", GEOJSON, f"{source.title_zh} (GeoJSON)"),
            link(url(base + "/queryables"), QUERYABLES_REL, SCHEMA_JSON, "queryables"),
        ],
    }
    interval = source.interval(twin)
    if interval is not None:
        doc["extent"]["temporal"] = {
            "interval": [list(interval)],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return doc


@bp.get("/collections")
def collections():
    """Every collection the caller may see."""
    wants(("application/json",))
    check_params({"f"})
    twin, p = get_twin(), current_principal()
    visible = [s for s in catalogue(twin) if s.visible_to(p)]
    etag = http.etag_of("collections", principal_key(p), [(s.id, s.version(twin)) for s in visible])
    return http.conditional(
        etag,
        lambda: jsonify(
            {
                "links": [link(url("/collections"), "self", "application/json", "collections")],
                "collections": [collection_doc(twin, s, p) for s in visible],
            }
        ),
    )


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    """One collection."""
    wants(("application/json",))
    check_params({"f"})
    twin, p = get_twin(), current_principal()
    source = source_of(twin, collection_id)
    source.check_visible(p)
    etag = http.etag_of("collection", source.id, source.version(twin), principal_key(p))
    return http.conditional(etag, lambda: jsonify(collection_doc(twin, source, p)))


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    """A page of features, filtered by bbox, datetime and simple properties."""
    wants((GEOJSON,))
    twin, p = get_twin(), current_principal()
    source = source_of(twin, collection_id)
    source.check_visible(p)
    filterable = source.filterable
    check_params({"f", "bbox", "limit", "offset", "datetime", "crs", "bbox-crs", "filter", "filter-lang", *filterable})
    out_crs = crs.parse_crs(request.args, "crs")
    box, box_crs = parse_bbox(request.args.get("bbox")), crs.parse_crs(request.args, "bbox-crs")
    bbox = crs.bbox_in_crs84(box, box_crs) if box else None
    cql = filters.parse_filter(request.args, filterable)
    limit = parse_int(request.args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int(request.args, "offset", 0, 0, None)
    start = end = None
    if "datetime" in request.args:
        if source.time_field is None:
            raise InvalidInput(
                f"collection {source.id} has no time; datetime applies to collections with a temporal extent",
                parameter="datetime",
            )
        start, end = parse_datetime(request.args["datetime"])
    equals = parse_equals(request.args, filterable)
    version = source.version(twin)
    query = sorted((k, v) for k, v in request.args.items(multi=True) if k != "f")
    etag = http.etag_of("items", source.id, version, principal_key(p), query)

    def build():
        pos = source.select(twin, p, bbox=bbox, start=start, end=end, equals=equals)
        pos = source.keep(twin, cql, pos)
        page = pos[offset : offset + limit]
        feats = crs.reproject_features(source.features(twin, p, page), out_crs)
        base = f"/collections/{source.id}/items"
        args = {k: v for k, v in request.args.items() if k not in ("offset", "f")}
        links = [
            link(url(base, **args, offset=offset or None), "self", GEOJSON, "this page"),
            link(url(f"/collections/{source.id}"), "collection", "application/json", source.title_zh),
        ]
        if offset + limit < len(pos):
            links.append(
                link(url(base, **{**args, "limit": limit}, offset=offset + limit), "next", GEOJSON, "next page")
            )
        if offset > 0:
            links.append(
                link(
                    url(base, **{**args, "limit": limit}, offset=max(offset - limit, 0) or None),
                    "prev",
                    GEOJSON,
                    "previous page",
                )
            )
        meta = {
            "numberMatched": int(len(pos)),
            "numberReturned": len(feats),
            "timeStamp": iso_utc(utc_now()),
            "links": links,
        }
        resp = Response(feature_collection(feats, meta), mimetype=GEOJSON)
        resp.headers["Content-Crs"] = crs.content_crs(out_crs)
        return resp

    return http.conditional(etag, build)


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def item(collection_id: str, feature_id: str):
    """One feature."""
    wants((GEOJSON,))
    check_params({"f", "crs"})
    out_crs = crs.parse_crs(request.args, "crs")
    twin, p = get_twin(), current_principal()
    source = source_of(twin, collection_id)
    source.check_visible(p)
    pos = source.position(twin, feature_id)
    source.check_row(twin, p, pos)
    etag = http.etag_of("item", source.id, source.version(twin), principal_key(p), feature_id, out_crs.uri)

    def build():
        feature = crs.reproject_features(source.features(twin, p, [pos]), out_crs)[0]
        base = f"/collections/{source.id}"
        links = dumps(
            [
                link(url(f"{base}/items/{feature_id}"), "self", GEOJSON, "this feature"),
                link(url(base), "collection", "application/json", source.title_zh),
            ]
        )
        resp = Response(f'{feature[:-1]},"links":{links}}}', mimetype=GEOJSON)
        resp.headers["Content-Crs"] = crs.content_crs(out_crs)
        return resp

    return http.conditional(etag, build)


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str):
    """The properties of a collection that may be filtered on, as JSON Schema (OGC API – Features Part 3)."""
    wants((SCHEMA_JSON, "application/json"))
    check_params({"f"})
    twin, p = get_twin(), current_principal()
    source = source_of(twin, collection_id)
    source.check_visible(p)
    etag = http.etag_of("queryables", source.id, principal_key(p))
    doc = filters.queryables(source.filterable, url(f"/collections/{source.id}/queryables"), source.title_zh)
    return http.conditional(etag, lambda: json_response(doc, SCHEMA_JSON))
