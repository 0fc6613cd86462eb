"""HTTP plumbing of the API: weak ETags from data versions (If-None-Match → 304), gzip, reading request bodies,
query-parameter parsing (the label language among them)."""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import re

import pandas as pd
from flask import Response, current_app, request

from twin import jsontext
from twin.errors import InvalidInput
from twin.times import to_utc

log = logging.getLogger(__name__)

GZIP_MIN_BYTES = 1400  # below about one packet, compressing costs more than it saves
GZIP_LEVEL = 5  # most of level 9's saving at a fraction of its CPU on a 2-core machine
COMPRESSIBLE = (
    "application/json",
    "application/geo+json",
    "application/vnd.oai.openapi+json",
    "text/",
    "application/javascript",
    "image/svg+xml",
)
MAX_BODY = 256 * 1024  # a 4,000-character description is at most ~36 KB form-encoded
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def etag_of(*parts) -> str:
    """A short digest of everything a response depends on (data version, caller's view, query)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=12).hexdigest()


def conditional(etag: str, build) -> Response:
    """304 when the client already holds `etag`; else the response `build()` makes, tagged with it."""
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        resp = build()
    resp.set_etag(etag, weak=True)  # weak: the same entity may be sent gzipped or not
    resp.headers["Cache-Control"] = "no-cache"  # caches must revalidate: live data, per-caller views
    resp.vary.update(("Authorization", "Accept-Encoding"))
    return resp


def gzip_response(resp: Response) -> Response:
    """Compress a large text-like response when the client accepts gzip (after_request hook)."""
    if (
        resp.direct_passthrough
        or resp.is_streamed
        or resp.status_code < 200
        or resp.status_code in (204, 304)
        or "Content-Encoding" in resp.headers
        or not (resp.mimetype or "").startswith(COMPRESSIBLE)
    ):
        return resp
    resp.vary.add("Accept-Encoding")
    if not request.accept_encodings["gzip"]:
        return resp
    data = resp.get_data()
    if len(data) < GZIP_MIN_BYTES:
        return resp
    resp.set_data(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
    resp.headers["Content-Encoding"] = "gzip"
    return resp


def install(bp) -> None:
    """Apply gzip_response to every response of the app that registers blueprint `bp`."""

    def once(state) -> None:  # several blueprints install it: each response is looked at once, not once per install
        if gzip_response not in state.app.after_request_funcs.get(None, []):
            state.app.after_request(gzip_response)

    bp.record_once(once)


def read_json(limit: int, what: str = "the body", empty=None):
    """The request body as JSON, at most `limit` bytes (413 beyond), nesting and text checked by twin.jsontext;
    `empty` when there is no body."""
    request.max_content_length = limit
    raw = request.get_data(cache=False)
    return jsontext.loads(raw, what) if raw else empty


def body(limit: int = MAX_BODY) -> dict:
    """The request's fields from a form or JSON body of at most `limit` bytes (413 beyond); else InvalidInput."""
    request.max_content_length = limit
    if request.mimetype in FORM_TYPES:
        return request.form.to_dict()
    if request.mimetype == "application/json":
        data = read_json(limit)
        if not isinstance(data, dict):
            raise InvalidInput("the body is not a JSON object")
        return data
    raise InvalidInput(
        "send the fields form-encoded (application/x-www-form-urlencoded) or as JSON",
        content_type=request.mimetype or None,
    )


def lang() -> str:
    """Language of labels: ?lang=en|zh, else the DEFAULT_LANG setting."""
    value = request.args.get("lang") or current_app.config.get("DEFAULT_LANG") or "zh"
    return "en" if value == "en" else "zh"


# --- query parameters: parsed once here, with messages a person can act on -------------------------------------
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?")


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """`bbox`: four numbers (x0,y0,x1,y1) or six (x0,y0,z0,x1,y1,z1, heights ignored); None when absent.

    Ranges and axis order depend on `bbox-crs` and are checked by web.crs.bbox_in_crs84.
    """
    if raw is None:
        return None
    parts = raw.split(",")
    hint = (
        "bbox must be four numbers minLon,minLat,maxLon,maxLat (or six with minimum and maximum height), "
        "e.g. bbox=114.88,40.80,114.89,40.81"
    )
    if len(parts) not in (4, 6):
        raise InvalidInput(f"{hint} (got {len(parts)} value(s))", parameter="bbox")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(f"{hint} (got {raw!r})", parameter="bbox") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidInput(f"{hint} (got {raw!r})", parameter="bbox")
    if len(values) == 6:
        if values[2] > values[5]:
            raise InvalidInput("bbox: the lower height comes first (got min > max)", parameter="bbox")
        values = [values[0], values[1], values[3], values[4]]
    return tuple(values)


def parse_int(args, name: str, default: int, lo: int, hi: int | None) -> int:
    """An integer query parameter within [lo, hi], `default` when absent."""
    raw = args.get(name)
    if raw is None:
        return default
    rng = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number {rng}, not {raw!r}", parameter=name) from None
    if value < lo or (hi is not None and value > hi):
        raise InvalidInput(f"{name} must be {rng}, not {value}", parameter=name)
    return value


def _instant(raw: str, end: bool):
    if raw in ("", ".."):
        return None
    if not _RFC3339.fullmatch(raw):
        raise InvalidInput(
            f"datetime {raw!r} is not RFC 3339: use 2026-03-01T08:00:00Z (with Z or an offset), "
            "a date 2026-03-01, or an interval start/end with .. for an open end",
            parameter="datetime",
        )
    try:
        ts = pd.Timestamp(raw)
    except ValueError:
        raise InvalidInput(f"datetime {raw!r} is not a valid date or time", parameter="datetime") from None
    ts = to_utc(ts)
    if len(raw) == 10:  # a whole day: from its first to its last instant (UTC)
        return ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if end else ts
    return ts


def parse_datetime(raw: str) -> tuple:
    """OGC `datetime`: an instant, a date, or an interval `start/end` with `..` open ends → (start, end) in UTC."""
    raw = raw.strip()
    if "/" in raw:
        a, _, b = raw.partition("/")
        start, end = _instant(a.strip(), False), _instant(b.strip(), True)
    else:
        start, end = _instant(raw, False), _instant(raw, True)
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"datetime interval {raw!r} ends before it starts", parameter="datetime")
    return start, end


_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def parse_equals(args, fields: dict) -> dict:
    """Property filters `name=value` for the filterable `fields` (name → twin.schema.Field), typed by field."""
    out = {}
    for name, f in fields.items():
        raw = args.get(name)
        if raw is None:
            continue
        if f.dtype == "int":
            try:
                out[name] = int(raw)
            except ValueError:
                raise InvalidInput(f"{name} must be a whole number, not {raw!r}", parameter=name) from None
        elif f.dtype == "bool":
            if raw.lower() not in _TRUE | _FALSE:
                raise InvalidInput(f"{name} must be true or false, not {raw!r}", parameter=name)
            out[name] = raw.lower() in _TRUE
        else:
            if f.choices and raw not in f.choices:
                raise InvalidInput(
                    f"{name} must be one of {', '.join(map(str, f.choices))}, not {raw!r}", parameter=name
                )
            out[name] = raw
    return out
