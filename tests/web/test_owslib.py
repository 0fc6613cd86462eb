"""A real OGC API – Features client (OWSLib) against waitress on 127.0.0.1: list collections, page all buildings."""

from __future__ import annotations

import json

import pytest

from tests.live import live_server
from twin.store import default_data_dir
from web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    return create_app({"DATA_DIR": str(default_data_dir()), "STATE_DIR": str(state)})


def test_owslib_lists_collections_and_pages_through_every_building(demo_app):
    from owslib.ogcapi.features import Features

    twin = demo_app.extensions["twin"]
    expected = twin.frame("buildings")["building_id"].tolist()
    with live_server(demo_app) as base:
        api = Features(base)
        assert "conformsTo" in api.conformance()
        listed = {c["id"]: c for c in api.collections()["collections"]}
        assert {"communities", "compounds", "buildings", "grids", "household-counts-by-building"} <= set(listed)
        assert "households" not in listed
        assert all(c["itemType"] == "feature" for c in listed.values())
        assert api.collection("buildings")["id"] == "buildings"

        seen, offset, limit = [], 0, 37
        while True:
            page = api.collection_items("buildings", limit=limit, offset=offset)
            assert page["numberMatched"] == len(expected)
            seen += [f["id"] for f in page["features"]]
            if not any(link["rel"] == "next" for link in page["links"]):
                break
            offset += limit
        assert seen == expected
        assert len(seen) > limit  # really paged

        box = twin.layer("buildings").frame.total_bounds
        mid = (box[0] + box[2]) / 2
        west = api.collection_items("buildings", bbox=[box[0], box[1], mid, box[3]], limit=10000)
        assert 0 < west["numberReturned"] == west["numberMatched"] < len(expected)
        one = api.collection_item("buildings", expected[0])
        assert one["id"] == expected[0] and one["geometry"]["type"] in ("Polygon", "MultiPolygon")


GDAL_READ = """
import json, sys
import pyogrio
base = "OAPIF:" + sys.argv[1]
layers = [str(name) for name, _ in pyogrio.list_layers(base)]
buildings = pyogrio.read_dataframe(base, layer="buildings")
unmanaged = pyogrio.read_dataframe(base, layer="compounds", where="state = 'unmanaged'")
print(json.dumps({"layers": layers, "ids": buildings["building_id"].tolist(), "crs": buildings.crs.to_string(),
                  "floors": int(buildings["floors"].sum()), "unmanaged": sorted(unmanaged["compound_id"])}))
"""


def test_gdal_oapif_driver_reads_every_building(demo_app):
    """GDAL's OAPIF driver (QGIS reads OGC API the same way), through pyogrio's bundled GDAL.

    GDAL runs in a child process: it keeps the GIL while it fetches, which would stall a server thread of ours."""
    import subprocess
    import sys

    twin = demo_app.extensions["twin"]
    b, c = twin.frame("buildings"), twin.frame("compounds")
    with live_server(demo_app) as base:
        proc = subprocess.run([sys.executable, "-c", GDAL_READ, base], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert {"communities", "compounds", "buildings", "grids", "household-counts-by-building"} <= set(got["layers"])
    assert "households" not in got["layers"]
    assert sorted(got["ids"]) == sorted(b["building_id"])  # GDAL pages through every one (its pages are 1,000)
    assert got["crs"] in ("OGC:CRS84", "EPSG:4326") and got["floors"] == int(b["floors"].sum())
    assert got["unmanaged"] == sorted(c.loc[c["state"] == "unmanaged", "compound_id"])
