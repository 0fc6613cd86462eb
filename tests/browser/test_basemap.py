"""The optional base map in headless Chromium: tiles from TILE_URL are requested and drawn under the demo street, the
page's GCJ-02 functions equal twin.chinacoords, and GCJ-02 tiles are drawn moved back onto WGS84 and cover the view."""

from __future__ import annotations

import io
import math
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from tests.live import chromium_page, live_server
from twin import chinacoords
from web import create_app

pytestmark = pytest.mark.browser

TILE_RGB = (255, 0, 255)  # magenta: no colour of the page's property-state palette comes near its hue
VIEWPORT = (1100, 700)  # small: software WebGL draws and decodes tiles faster
HANG_GUARD = 60_000  # ms before a wait gives up (a guard against hanging, not a speed requirement)
TILES = "/test-tiles/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo street served live with a test tile route: (base URL, app, Counter of requested tiles, browser page)."""
    app = create_app({"STATE_DIR": str(tmp_path_factory.mktemp("state")), "REFRESH_SECONDS": 600})
    requested = Counter()
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), TILE_RGB).save(buf, "PNG")
    png = buf.getvalue()

    def tile(z, x, y):
        requested[(z, x, y)] += 1
        return png, 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}  # every load asks the route

    app.add_url_rule("/test-tiles/<int:z>/<int:x>/<int:y>.png", "test_tiles", tile)
    with live_server(app) as base, chromium_page(viewport=VIEWPORT) as page:
        yield base, app, requested, page  # one browser for every page load here: launching it costs seconds


def observe(served, **config) -> dict:
    """Open /dashboard under `config` (TILE_URL, TILE_CRS) and wait until it and its base map have drawn: the tiles
    drawn, the base map's loaded flag, ground points under the view, the share of magenta, console errors."""
    base, app, requested, page = served
    app.config.update(config)
    requested.clear()
    page.errors.clear()
    page.goto(base + "/dashboard")
    page.wait_for_function("window.twinDashboard && twinDashboard.drawnAt && twinDashboard.kpis", timeout=HANG_GUARD)
    if config.get("TILE_URL"):
        page.wait_for_function("Twin.baseMapTiles().loaded", timeout=HANG_GUARD)
    page.wait_for_timeout(300)  # a frame or two after the last tile arrived
    state = page.evaluate("Twin.baseMapTiles()")
    return {
        "loaded": state["loaded"],
        "held": len(state["tiles"]),
        "drawn": [t for t in state["tiles"] if t["loaded"] and t["visible"]],
        "samples": view_samples(page),
        "share": tile_share(page),
        "errors": list(page.errors),
    }


def tile_share(page) -> float:
    """Share of the map area (left of the KPI panel, below the header) showing the tiles' magenta, translucent.

    The tiles are drawn at opacity 0.55 over the map's dark radial gradient (the canvas is transparent), so the
    blend varies a little across the screen: what is checked is the hue (red and blue high, green low) and that
    the colour is darker than the tile's own (the layer is translucent)."""
    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB")).astype(int)
    box = page.evaluate(
        "(() => { const m = document.getElementById('map').getBoundingClientRect();"
        " const k = document.getElementById('kpis').getBoundingClientRect();"
        " return [m.top, m.left, k.left]; })()"
    )
    area = img[int(box[0]) + 10 : VIEWPORT[1] - 10, int(box[1]) + 10 : int(box[2]) - 10]
    r, g, b = area[..., 0], area[..., 1], area[..., 2]
    magenta = (r > 110) & (b > 110) & (g < 50) & (np.abs(r - b) < 40)
    translucent = (r < 230) & (b < 230)
    return float((magenta & translucent).mean())


def tile_bbox(x: int, y: int, z: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of slippy-map tile x/y/z, in degrees."""
    n = 2.0**z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def view_samples(page, cols=12, rows=8) -> list:
    """Ground points (lon, lat) under a grid of screen points of the map canvas."""
    return page.evaluate(f"""(() => {{
        const vp = Twin.currentMap().getViewports()[0], out = [];
        for (let i = 0; i < {cols}; i++) for (let j = 0; j < {rows}; j++)
          out.push(vp.unproject([vp.width * (i + 0.5) / {cols}, vp.height * (j + 0.5) / {rows}]));
        return out; }})()""")


def uncovered(samples, tiles) -> list:
    """Samples that no tile's drawn bounds contain."""
    boxes = [t["bounds"] for t in tiles]
    return [p for p in samples if not any(b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3] for b in boxes)]


def key(tile) -> tuple[int, int, int]:
    """(z, x, y) of a tile from Twin.baseMapTiles()."""
    return tile["index"]["z"], tile["index"]["x"], tile["index"]["y"]


def test_tiles_are_requested_and_drawn_under_the_street_and_absent_without_tile_url(served):
    requested = served[2]
    seen = observe(served, TILE_URL=TILES, TILE_CRS="wgs84")
    assert seen["errors"] == []
    assert seen["loaded"] and seen["drawn"]
    assert {key(t) for t in seen["drawn"]} <= set(requested), "a drawn tile was never requested from the tile route"
    # a WGS84 base map is drawn exactly at its tiles' bounds, and they cover the whole view (so the street too)
    for t in seen["drawn"]:
        z, x, y = key(t)
        assert t["bounds"] == pytest.approx(list(tile_bbox(x, y, z)), abs=1e-9)
    assert uncovered(seen["samples"], seen["drawn"]) == []
    assert seen["share"] > 0.2, f"only {seen['share']:.1%} of the map area shows the base map's magenta"

    seen = observe(served, TILE_URL="")
    assert seen["errors"] == []
    assert (seen["loaded"], seen["held"], seen["share"]) == (False, 0, 0.0)
    assert not requested


STREET = [(114.8840, 40.7687), (114.8702, 40.7801)]  # the demo street
CHINA = [
    (116.3975, 39.9087),
    (121.4737, 31.2304),
    (87.6168, 43.8256),
    (109.5120, 18.2528),
    (126.6425, 45.7567),
    (91.1322, 29.6604),
]  # Beijing, Shanghai, Ürümqi, Sanya, Harbin, Lhasa
ABROAD = [(139.6917, 35.6895), (-0.1276, 51.5072), (151.2093, -33.8688), (-74.0060, 40.7128)]


def test_the_pages_gcj02_functions_equal_twin_chinacoords(served):
    base, app, _, page = served
    app.config.update(TILE_URL="")
    points = STREET + CHINA + ABROAD
    page.errors.clear()
    page.goto(base + "/dashboard")
    page.wait_for_function("window.Twin && Twin.gcj02", timeout=HANG_GUARD)
    forward = page.evaluate("(ps) => ps.map(([x, y]) => Twin.gcj02(x, y))", points)
    back = page.evaluate("(ps) => ps.map(([x, y]) => Twin.wgs84FromGcj02(x, y))", forward)
    # TILE_CRS spelt as twin.chinacoords accepts it picks the GCJ-02 tile choice; wgs84 the plain one
    shifted = page.evaluate(
        "['gcj02', 'GCJ-02', 'gcj_02', 'wgs84', ''].map((c) =>"
        " Twin.baseMapLayer('/t/{z}/{x}/{y}.png', c).props.TilesetClass !== deck._Tileset2D)"
    )
    assert shifted == [True, True, True, False, False]
    assert page.errors == []
    lon, lat = np.array(points).T
    glon, glat = chinacoords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(np.array(forward), np.column_stack([glon, glat]), rtol=0, atol=1e-7)
    inside = len(STREET) + len(CHINA)
    shift_m = np.hypot((glon - lon) * 111_320 * np.cos(np.radians(lat)), (glat - lat) * 110_574)
    assert (shift_m[:inside] > 50).all() and (shift_m[inside:] == 0).all()  # the datum shift is there, abroad none
    assert [tuple(p) for p in forward[inside:]] == ABROAD
    # the inverse: back where we started, and where the Python inverse lands, to well under half a metre
    blon, blat = np.array(back).T
    err_m = np.hypot((blon - lon) * 111_320 * np.cos(np.radians(lat)), (blat - lat) * 110_574)
    assert err_m.max() < 0.5, err_m
    plon, plat = chinacoords.gcj02_to_wgs84(glon, glat)
    np.testing.assert_allclose(np.array(back), np.column_stack([plon, plat]), rtol=0, atol=1e-7)
    assert [tuple(p) for p in back[inside:]] == ABROAD


def test_gcj02_tiles_are_drawn_moved_back_onto_wgs84_and_still_cover_the_view(served):
    seen = observe(served, TILE_URL=TILES, TILE_CRS="gcj02")
    assert seen["errors"] == []
    assert seen["loaded"] and seen["drawn"]
    assert {key(t) for t in seen["drawn"]} <= set(served[2])
    for t in seen["drawn"]:
        z, x, y = key(t)
        west, south, east, north = tile_bbox(x, y, z)
        (w, e), (s, n) = chinacoords.gcj02_to_wgs84(np.array([west, east]), np.array([south, north]))
        assert t["bounds"] == pytest.approx([w, s, e, n], abs=1e-7)
        # moved south-west by the datum shift here: hundreds of metres, not nothing
        assert 0.002 < west - w < 0.01 and 0.0005 < south - s < 0.005
    # the moved tiles still cover every sampled ground point of the view (tiles are chosen for GCJ-02 ground)
    assert uncovered(seen["samples"], seen["drawn"]) == []
    assert seen["share"] > 0.2
