"""Static assets over real HTTP: linked by content hash, gzipped once, cached a year, revalidated otherwise."""

from __future__ import annotations

import gzip
import hashlib
import re
import urllib.error
import urllib.request

import pytest

from tests.live import live_server
from web.assets import STATIC, deck_bundle_path


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The tiny street served live over HTTP."""
    from tests.tiny import write_tiny
    from web import create_app

    data = write_tiny(tmp_path_factory.mktemp("tiny") / "tiny")
    app = create_app({"DATA_DIR": str(data), "STATE_DIR": str(tmp_path_factory.mktemp("state"))})
    with live_server(app) as url:
        yield url


def fetch(url, **headers):
    """(status, headers, body bytes as sent) of a GET; HTTP errors are answers too."""
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def page_links(base) -> dict[str, str]:
    """src/href of the dashboard page's scripts and stylesheets, by file name."""
    _, _, body = fetch(base + "/dashboard")
    links = re.findall(r'(?:src|href)="(/(?:vendor|static)/[^"]+)"', body.decode())
    return {re.sub(r"\?.*", "", link).rsplit("/", 1)[1]: link for link in links}


def test_the_deck_bundle_is_linked_by_hash_gzipped_and_immutable(base):
    raw = deck_bundle_path().read_bytes()
    links = page_links(base)
    deck = next(v for k, v in links.items() if k.startswith("deckgl."))
    assert re.fullmatch(r"/vendor/deckgl\.[0-9a-f]{12}\.js", deck)
    assert hashlib.blake2b(raw, digest_size=6).hexdigest() in deck

    status, h, body = fetch(base + deck, **{"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and h["Content-Encoding"] == "gzip"
    assert h["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in h["Vary"] and h["Content-Type"].startswith("text/javascript")
    assert gzip.decompress(body) == raw
    assert len(body) < len(raw) * 0.35, f"{len(body)} bytes sent of {len(raw)}"

    status, h, body = fetch(base + deck, **{"Accept-Encoding": "identity"})
    assert status == 200 and "Content-Encoding" not in h and body == raw and "Accept-Encoding" in h["Vary"]

    status, h, body = fetch(base + deck, **{"Accept-Encoding": "gzip", "If-None-Match": h["ETag"]})
    assert status == 304 and body == b""


def test_a_stale_or_plain_url_still_answers_but_must_revalidate(base):
    raw = deck_bundle_path().read_bytes()
    for url in ("/vendor/deckgl.000000000000.js", "/vendor/deckgl.js"):
        status, h, body = fetch(base + url)
        assert status == 200 and body == raw
        assert h["Cache-Control"] == "no-cache"


def test_every_static_file_is_linked_by_hash_and_compressed(base):
    links = page_links(base)
    for name in ("common.js", "common.css", "dashboard.js", "dashboard.css"):
        link = links[name]
        raw = (STATIC / name).read_bytes()
        assert link.endswith("?v=" + hashlib.blake2b(raw, digest_size=6).hexdigest()), link
        status, h, body = fetch(base + link, **{"Accept-Encoding": "gzip"})
        assert status == 200 and h["Content-Encoding"] == "gzip" and gzip.decompress(body) == raw
        assert h["Cache-Control"] == "public, max-age=31536000, immutable" and "Accept-Encoding" in h["Vary"]
        status, h, _ = fetch(base + "/static/" + name)
        assert status == 200 and h["Cache-Control"] == "no-cache" and "Content-Encoding" not in h


def test_no_escaping_the_static_folder(base):
    for path in ("/static/../assets.py", "/static/%2e%2e/assets.py", "/static/nope.js"):
        status, h, body = fetch(base + path)
        assert status == 404, (path, status)
        assert b"Blueprint" not in body and b'"code":"not_found"' in body
