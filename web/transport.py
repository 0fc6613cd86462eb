"""Compact transport of map layers to deck.gl: typed arrays in one binary blob, encoded once per data version.

Format ("TWB1"), little-endian:
    4 bytes  magic b"TWB1"
    4 bytes  uint32 length H of the header
    H bytes  header: UTF-8 JSON {"arrays": {name: [dtype, byte_offset, length, size]}, ...layer metadata},
             padded with spaces so that the data section (at 8 + H) starts on an 8-byte boundary
    arrays   each at data section + byte_offset (8-byte aligned), `length` values of `dtype`
             (float32, float64, uint8, uint16, uint32, int16, int32), `size` values per feature (or per vertex)

Polygons end up in deck.gl's binary polygon layout: `starts` (uint32 index of each polygon's first vertex, plus
the total at the end) and float32 vertex offsets in degrees from header "origin" (drawn with
COORDINATE_SYSTEM.LNGLAT_OFFSETS so float32 keeps centimetres). They are sent quantized (quantized_rings: vertex
counts, first vertices as steps from ring to ring, int16 steps between vertices, in 1e-7 degrees; gzip shrinks
these far better than floats) and the page rebuilds offsets and starts; or as float32 `positions` and uint32
`starts` when an edge is too long for int16. Only each footprint's
outer ring of its largest part is sent (holes and extra parts of building footprints do not change the wall
view); rings are closed and clockwise, ready for SolidPolygonLayer with _normalize: false.

`Blob` keeps the raw bytes and their gzip once; `send(blob)` serves them with a weak ETag (304 on
If-None-Match) and gzip when the client accepts it, so no request encodes or compresses anything.
"""

from __future__ import annotations

import gzip
import json
import logging
import struct
from dataclasses import dataclass, field

import numpy as np
import shapely
from flask import Response, request

from .http import conditional, etag_of

log = logging.getLogger(__name__)

MAGIC = b"TWB1"
MIMETYPE = "application/vnd.twin.binary"
GZIP_LEVEL = 6
DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "uint8": np.uint8,
    "uint16": np.uint16,
    "uint32": np.uint32,
    "int16": np.int16,
    "int32": np.int32,
}
_NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def pack(header: dict, arrays: dict[str, np.ndarray], sizes: dict[str, int] | None = None) -> bytes:
    """One TWB1 blob holding `header` (JSON-able) and the typed `arrays` (see the module docstring)."""
    sizes = sizes or {}
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    layout, pos = {}, 0
    for k, v in arrays.items():
        if v.dtype not in _NAMES:
            raise TypeError(f"array {k!r} has dtype {v.dtype}; use one of {', '.join(DTYPES)}")
        layout[k] = [_NAMES[v.dtype], pos, int(v.size), int(sizes.get(k, 1))]
        pos += _align(v.nbytes)
    text = json.dumps(dict(header, arrays=layout), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (_align(8 + len(text)) - 8 - len(text))
    parts = [MAGIC, struct.pack("<I", len(text)), text]
    for v in arrays.values():
        b = v.tobytes()
        parts.append(b + b"\0" * (_align(len(b)) - len(b)))
    return b"".join(parts)


def unpack(blob: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """The header and arrays of a TWB1 blob (the inverse of pack; used by tests and benchmarks)."""
    if blob[:4] != MAGIC:
        raise ValueError("not a TWB1 blob")
    (n,) = struct.unpack("<I", blob[4:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    arrays = {
        k: np.frombuffer(blob, dtype=DTYPES[t], count=length, offset=8 + n + off)
        for k, (t, off, length, _size) in header.pop("arrays").items()
    }
    return header, arrays


def _align(n: int) -> int:
    return (n + 7) // 8 * 8


def outer_rings(geoms) -> tuple[np.ndarray, np.ndarray]:
    """(coords float64 (V, 2), starts uint32 (N + 1)) of each geometry's clockwise outer ring (largest part)."""
    geoms = np.asarray(geoms, dtype=object)
    polys = largest_parts(geoms)
    polys = shapely.orient_polygons(polys, exterior_cw=True)
    rings = shapely.get_exterior_ring(polys)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    counts = np.bincount(idx, minlength=len(geoms)) if len(idx) else np.zeros(len(geoms), dtype=np.int64)
    starts = np.zeros(len(geoms) + 1, dtype=np.uint32)
    np.cumsum(counts, out=starts[1:])
    return coords, starts


def largest_parts(geoms: np.ndarray) -> np.ndarray:
    """Each geometry as one Polygon: itself, or the largest polygon of a multi-part or collection."""
    out = geoms.copy()
    multi = shapely.get_num_geometries(geoms) > 1
    multi |= shapely.get_type_id(geoms) != 3
    for i in np.flatnonzero(multi):
        g = geoms[i]
        if g is None or g.is_empty:
            out[i] = shapely.Polygon()
            continue
        parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]
        out[i] = max(parts, key=lambda p: p.area) if parts else shapely.Polygon()
    return out


def offsets(coords: np.ndarray, origin) -> np.ndarray:
    """float32 (lon, lat) offsets in degrees from `origin`, flattened x0, y0, x1, y1, ..."""
    return (np.asarray(coords, dtype=np.float64) - np.asarray(origin, dtype=np.float64)).astype(np.float32).ravel()


QUANTUM = 1e-7  # degrees per unit of quantized ring coordinates (about 1 cm)


def quantized_rings(coords: np.ndarray, starts: np.ndarray, origin) -> dict[str, np.ndarray] | None:
    """Rings as small integers that gzip well, in QUANTUM degrees from `origin`: vertex counts per ring (uint16),
    each ring's first vertex as a step from the previous ring's (int32), and the steps between consecutive vertices
    (int16; 0 for a ring's first vertex). None when a step or a count is too large for that (an edge of more than
    ~300 m): then send float32 offsets and starts instead."""
    q = np.round((np.asarray(coords, dtype=np.float64) - np.asarray(origin, dtype=np.float64)) / QUANTUM)
    q = q.astype(np.int64).reshape(-1, 2)
    starts = np.asarray(starts, dtype=np.int64)
    counts = np.diff(starts)
    steps = np.zeros_like(q)
    if len(q):
        steps[1:] = q[1:] - q[:-1]
    nonempty = counts > 0
    steps[starts[:-1][nonempty]] = 0
    first = np.zeros((len(counts), 2), dtype=np.int64)
    first[nonempty] = q[starts[:-1][nonempty]]
    first_steps = np.diff(first, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    if (
        (len(q) and np.abs(steps).max() > np.iinfo(np.int16).max)
        or (len(counts) and counts.max() > 65535)
        or (len(first) and np.abs(first_steps).max() > np.iinfo(np.int32).max)
    ):
        return None
    return {
        "ring_counts": counts.astype(np.uint16),
        "ring_first": first_steps.astype(np.int32).ravel(),
        "ring_steps": steps.astype(np.int16).ravel(),
    }


def ring_offsets(header: dict, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """(offsets (V, 2) float64 in degrees from header["origin"], starts (N + 1)) of a blob's footprints, sent
    quantized (quantized_rings) or as float32 `positions` + `starts`: the inverse the page's decoder implements."""
    if "positions" in arrays:
        return arrays["positions"].reshape(-1, 2).astype(np.float64), arrays["starts"].astype(np.int64)
    counts = arrays["ring_counts"].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    steps = arrays["ring_steps"].reshape(-1, 2).astype(np.int64)
    first = np.cumsum(arrays["ring_first"].reshape(-1, 2).astype(np.int64), axis=0)
    out = np.cumsum(steps, axis=0)
    ring = np.repeat(np.arange(len(counts)), counts)
    before = np.vstack([np.zeros((1, 2), dtype=np.int64), out])[starts[:-1]]  # running sum before each ring
    return (out - before[ring] + first[ring]) * QUANTUM, starts


def origin_of(coords: np.ndarray) -> list[float]:
    """A round origin near the middle of `coords` (6 decimals: exact in the header)."""
    if not len(coords):
        return [0.0, 0.0]
    mid = (coords.min(axis=0) + coords.max(axis=0)) / 2
    return [round(float(mid[0]), 6), round(float(mid[1]), 6)]


@dataclass
class Blob:
    """Encoded bytes of one layer version, gzipped once, with the ETag they are served under."""

    raw: bytes
    etag: str
    mimetype: str = MIMETYPE
    gz: bytes = field(default=b"", repr=False)

    @classmethod
    def of(cls, raw: bytes, *version_parts, mimetype: str = MIMETYPE) -> "Blob":
        """Wrap `raw` (bytes or str) and compress it now."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        return cls(raw, etag_of(*version_parts), mimetype, gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0))


def send(blob: Blob) -> Response:
    """Serve a cached Blob: 304 when the client holds its ETag, else its gzip (if accepted) or raw bytes."""

    def build():
        if request.accept_encodings["gzip"] and len(blob.gz) < len(blob.raw):
            resp = Response(blob.gz, mimetype=blob.mimetype)
            resp.headers["Content-Encoding"] = "gzip"
        else:
            resp = Response(blob.raw, mimetype=blob.mimetype)
        return resp

    return conditional(blob.etag, build)  # which also sets Vary: Accept-Encoding
