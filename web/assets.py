"""Front-end assets served from the package (no CDN): deck.gl from pydeck's bundle, and web/static.

Every byte once, compressed: each asset is read and gzipped once per process (level 9, kept in memory with its
content hash) the first time it is asked for. Pages link them by content hash (`/vendor/deckgl.<hash>.js`,
`/static/common.js?v=<hash>`), so a browser keeps them a year without asking again (`immutable`); an URL without
the current hash is answered too, but must be revalidated (ETag → 304). gzip goes only to clients that accept it
(`Vary: Accept-Encoding`).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, request, url_for

from twin.errors import NotFound

bp = Blueprint("assets", __name__)

STATIC = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
GZIP_LEVEL = 9  # once per process, so the smallest
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class Asset:
    """One file's bytes, their gzip (empty when it would not help) and the content hash it is linked by."""

    raw: bytes
    mimetype: str
    digest: str
    gz: bytes = field(default=b"", repr=False)

    @classmethod
    def read(cls, path: Path) -> "Asset":
        """Read and compress `path` now."""
        raw = path.read_bytes()
        gz = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0) if len(raw) >= GZIP_MIN_BYTES else b""
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if mimetype in ("application/javascript", "text/javascript"):
            mimetype = "text/javascript"
        return cls(raw, mimetype, hashlib.blake2b(raw, digest_size=6).hexdigest(), gz if len(gz) < len(raw) else b"")


_lock = threading.Lock()
_assets: dict[tuple, Asset] = {}


def asset(path: Path) -> Asset:
    """The cached Asset of `path` (read again only when the file's size or mtime changed)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:  # one compression per file even when the first page load asks for everything at once
        if key not in _assets:
            _assets[key] = Asset.read(path)
        return _assets[key]


@lru_cache(maxsize=1)
def deck_bundle_path() -> Path:
    """Path of the deck.gl bundle that pydeck ships (a UMD script exposing deck.gl and pydeck's createDeck)."""
    import pydeck

    path = Path(pydeck.__file__).parent / "nbextension" / "static" / "index.js"
    if not path.exists():
        raise NotFound(f"pydeck's deck.gl bundle is missing at {path}; reinstall pydeck")
    return path


def static_path(filename: str) -> Path:
    """The file under web/static named by `filename`; NotFound for anything else (no escaping the folder)."""
    path = (STATIC / filename).resolve()
    if not path.is_relative_to(STATIC) or not path.is_file():
        raise NotFound(f"no static file {filename[:80]!r}")
    return path


def serve(a: Asset, immutable: bool) -> Response:
    """The asset as gzip when accepted, else raw; long-lived when linked by its hash, else revalidated by ETag."""
    etag = a.digest
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    elif a.gz and request.accept_encodings["gzip"]:
        resp = Response(a.gz, mimetype=a.mimetype)
        resp.headers["Content-Encoding"] = "gzip"
    else:
        resp = Response(a.raw, mimetype=a.mimetype)
    resp.set_etag(etag, weak=True)  # weak: the same entity is sent gzipped or not
    resp.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
    resp.vary.add("Accept-Encoding")
    return resp


@bp.get("/vendor/deckgl.<digest>.js")
def deckgl_hashed(digest):
    """deck.gl by content hash: cached a year (a stale hash still gets the current bytes, revalidated)."""
    a = asset(deck_bundle_path())
    return serve(a, immutable=digest == a.digest)


@bp.get("/vendor/deckgl.js")
def deckgl():
    """deck.gl under its plain name (revalidated every time; pages link deckgl_url() instead)."""
    return serve(asset(deck_bundle_path()), immutable=False)


def static_file(filename):
    """web/static files (replaces Flask's static view): immutable when ?v= is the file's current hash."""
    a = asset(static_path(filename))
    return serve(a, immutable=request.args.get("v") == a.digest)


def deckgl_url() -> str:
    """The hashed URL pages load deck.gl from."""
    return url_for("assets.deckgl_hashed", digest=asset(deck_bundle_path()).digest)


def _static_version(endpoint: str, values: dict) -> None:
    """url_for('static', filename=...) gains ?v=<content hash>, so every page links static files by hash."""
    if endpoint == "static" and "v" not in values and "filename" in values:
        try:
            values["v"] = asset(static_path(values["filename"])).digest
        except NotFound:
            pass


@bp.record_once
def _install(state) -> None:
    app = state.app
    app.view_functions["static"] = static_file
    app.url_default_functions.setdefault(None, []).append(_static_version)
    app.jinja_env.globals["deckgl_url"] = deckgl_url
    threading.Thread(target=warm, name="assets-warm", daemon=True).start()


def warm() -> None:
    """Read and compress every asset now (start-up), so no page load waits for it."""
    asset(deck_bundle_path())
    for path in STATIC.rglob("*"):
        if path.is_file():
            asset(path)
