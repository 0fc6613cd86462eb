"""OGC API – Features over the tiny street: every endpoint, paging, filters, counts, ETag/304 and gzip."""

from __future__ import annotations

import gzip
import json

import pytest

from layers import REGISTRY
from tests.postgres import BACKENDS  # noqa: F401 - every test here runs on both backends
from tests.tiny import GA1, GA2, GB1, A, B
from web import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TOKENS = [
    {"role": "admin", "token": "admin-secret", "name": "office"},
    {"role": "planner", "token": "planner-secret"},
    {"role": "staff", "token": "staff-a1", "grids": [GA1]},
]


@pytest.fixture
def api(app_config):
    """A client of the tiny street with admin, planner and grid-limited staff tokens."""
    app = create_app({**app_config, "TOKENS": json.dumps(TOKENS)})
    return app.test_client()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def ids(doc):
    return [f["id"] for f in doc["features"]]


def test_landing_is_json_by_default_and_links_the_api(client):
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        r = client.get("/", headers=headers)
        assert r.status_code == 200 and r.mimetype == "application/json"
    rels = {link["rel"]: link for link in r.json["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/openapi")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert client.get("/?f=json").status_code == 200


def test_landing_gives_the_dashboard_to_a_browser(app_config):
    app = create_app(app_config)
    client = app.test_client()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for r in (client.get("/", headers={"Accept": browser}), client.get("/?f=html")):
        assert r.status_code == 200 and r.mimetype == "text/html"
        assert 'id="twin-config"' in r.get_data(as_text=True) and "dashboard.js" in r.get_data(as_text=True)
    assert client.get("/").mimetype == "application/json"


def test_conformance(client):
    classes = client.get("/conformance").json["conformsTo"]
    for c in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}" in classes


def test_openapi_is_valid_with_local_refs_only(client):
    from openapi_spec_validator import validate

    r = client.get("/openapi")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    validate(r.json)
    refs = [v for v in _walk(r.json) if isinstance(v, tuple) and v[0] == "$ref"]
    assert refs and all(ref.startswith("#/") for _, ref in refs)
    assert "/collections/buildings/items" in r.json["paths"]


def _walk(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield ("$ref", v)
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_every_layer_is_a_collection_and_households_are_hidden_from_the_public(client, api):
    public = {c["id"]: c for c in client.get("/collections").json["collections"]}
    assert set(public) == {k.name for k in REGISTRY.values() if k.name != "households"} | {
        "household-counts-by-building",
        "household-counts-by-grid",
    }
    for c in public.values():
        assert c["itemType"] == "feature"
        assert c["crs"][0] == CRS84 and c["storageCrs"] == CRS84 and c["extent"]["spatial"]["crs"] == CRS84
        assert any(link["rel"] == "items" for link in c["links"])
    assert public["communities"]["extent"]["spatial"]["bbox"] == [[114.880, 40.800, 114.888, 40.803]]
    admin = {c["id"] for c in api.get("/collections", headers=bearer("admin-secret")).json["collections"]}
    assert "households" in admin


def test_collection_and_unknown_collection(client):
    r = client.get("/collections/buildings")
    assert r.status_code == 200 and r.json["id"] == "buildings" and r.json["title"] == "楼栋"
    r = client.get("/collections/nope")
    assert r.status_code == 404 and "/collections" in r.json["message"]


def test_items_page_through_with_next_and_prev_links(client):
    r = client.get("/collections/buildings/items?limit=2")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = r.json
    assert doc["type"] == "FeatureCollection" and doc["numberMatched"] == 5 and doc["numberReturned"] == 2
    assert doc["timeStamp"].endswith("Z")
    seen = ids(doc)
    while True:
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            break
        doc = client.get(nxt[0].replace("http://localhost", "")).json
        seen += ids(doc)
        assert any(link["rel"] == "prev" for link in doc["links"])
    assert seen == ["B1", "B2", "B3", "B4", "B5"]
    assert client.get("/collections/buildings/items?offset=10").json["numberReturned"] == 0


def test_items_default_limit_and_properties(client):
    doc = client.get("/collections/buildings/items").json
    b3 = doc["features"][2]
    assert b3["id"] == "B3" and b3["geometry"]["type"] == "Polygon"
    assert b3["properties"]["floors"] == 18 and b3["properties"]["grid_code"] == GA2


def test_bbox_selects_by_footprint(client):
    doc = client.get("/collections/buildings/items?bbox=114.884,40.800,114.888,40.803").json
    assert ids(doc) == ["B4", "B5"] and doc["numberMatched"] == 2
    assert client.get("/collections/buildings/items?bbox=100,10,100.1,10.1").json["numberMatched"] == 0


def test_property_filters(client):
    assert ids(client.get("/collections/compounds/items?state=unmanaged").json) == ["C1"]
    assert ids(client.get(f"/collections/buildings/items?community_id={B}").json) == ["B4", "B5"]
    assert ids(client.get("/collections/buildings/items?floors=6&compound_id=C3").json) == ["B4", "B5"]
    assert ids(client.get("/collections/compounds/items?has_owners_committee=true").json) == ["C2"]
    assert ids(client.get(f"/collections/grids/items?community_id={A}&bbox=114.880,40.800,114.881,40.803").json) == [
        GA1
    ]


@pytest.mark.parametrize(
    "query, word",
    [
        ("bbox=1,2,3", "four numbers"),
        ("bbox=a,b,c,d", "four numbers"),
        ("bbox=1,2,3,4,5", "four numbers"),
        ("bbox=114.8,40.9,114.9,40.8", "min > max"),
        ("bbox=114.8,40.8,5,114.9,40.9,1", "lower height"),
        ("bbox=200,0,201,1", "[-180, 180]"),
        ("limit=0", "between 1 and 10000"),
        ("limit=10001", "between 1 and 10000"),
        ("limit=ten", "whole number"),
        ("offset=-1", "at least 0"),
        ("datetime=2026-01-01", "no time"),
        ("colour=red", "unknown query parameter"),
        ("floors=six", "whole number"),
        ("use=castle", "one of"),
        ("f=xml", "f must be"),
    ],
)
def test_bad_items_queries_are_400_with_a_hint(client, query, word):
    r = client.get(f"/collections/buildings/items?{query}")
    assert r.status_code == 400, r.json
    assert r.json["code"] == "invalid_input" and word in r.json["message"]


def test_crs84_is_accepted_as_gdal_sends_it_and_an_unserved_crs_is_400(client):
    crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    r = client.get(f"/collections/buildings/items?limit=2&crs={crs84}&bbox-crs={crs84}")
    assert r.status_code == 200 and ids(r.json) == ["B1", "B2"]
    assert crs84 in [link["href"] for link in r.json["links"] if link["rel"] == "next"][0].replace("%3A", ":").replace(
        "%2F", "/"
    )
    assert client.get(f"/collections/buildings/items/B1?crs={crs84}").status_code == 200
    for url in (
        "/collections/buildings/items?crs=http://www.opengis.net/def/crs/EPSG/0/2000",
        "/collections/buildings/items?bbox-crs=EPSG:32650&bbox=1,2,3,4",
        "/collections/buildings/items/B1?crs=x",
    ):
        r = client.get(url)
        assert r.status_code == 400 and "is not served" in r.json["message"], url
        assert r.json["details"]["supported"][0] == crs84


def test_personal_fields_are_not_filterable(api):
    r = api.get("/collections/households/items?name=x", headers=bearer("admin-secret"))
    assert r.status_code == 400 and "unknown query parameter" in r.json["message"]


def test_item(client):
    r = client.get("/collections/buildings/items/B4")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.json["id"] == "B4" and r.json["properties"]["compound_id"] == "C3"
    assert {link["rel"] for link in r.json["links"]} == {"self", "collection"}
    assert client.get("/collections/buildings/items/B99").status_code == 404


def test_personal_fields_by_role(client, api):
    phones = lambda r: [f["properties"].get("worker_phone") for f in r.json["features"]]  # noqa: E731
    assert phones(client.get("/collections/grids/items")) == [None] * 3
    assert phones(api.get("/collections/grids/items", headers=bearer("planner-secret"))) == [None] * 3
    assert phones(api.get("/collections/grids/items", headers=bearer("admin-secret"))) == [
        "13900000001",
        "13900000002",
        "13900000003",
    ]
    assert phones(api.get("/collections/grids/items", headers=bearer("staff-a1"))) == ["13900000001", None, None]
    assert "worker_phone" not in client.get(f"/collections/grids/items/{GA1}").json["properties"]


def test_households_for_staff_only_in_their_grids(client, api):
    for r in (
        client.get("/collections/households/items"),
        client.get("/collections/households/items/H1"),
        client.get("/collections/households"),
        api.get("/collections/households/items", headers=bearer("planner-secret")),
    ):
        assert r.status_code == 403 and r.json["code"] == "forbidden"
    staff = api.get("/collections/households/items", headers=bearer("staff-a1")).json
    assert ids(staff) == ["H1", "H2", "H3", "H4", "H5"] and staff["numberMatched"] == 5
    assert staff["features"][0]["properties"]["name"] == "住户H1"
    assert api.get("/collections/households/items/H4", headers=bearer("staff-a1")).status_code == 200
    r = api.get("/collections/households/items/H6", headers=bearer("staff-a1"))
    assert r.status_code == 403 and GA2 in r.json["message"]
    admin = api.get("/collections/households/items?building_id=B3", headers=bearer("admin-secret")).json
    assert ids(admin) == ["H6", "H7", "H8", "H9"]


def test_household_counts_suppress_one_and_two_for_public_and_planner(client, api):
    def counts(r, field):
        return {f["id"]: f["properties"][field] for f in r.json["features"]}

    by_building = "/collections/household-counts-by-building/items"
    for r in (client.get(by_building), api.get(by_building, headers=bearer("planner-secret"))):
        # B1 3 households (6 persons), B2 2 (6), B3 4 (8), B4 1 (1), B5 2 (5)
        assert counts(r, "households") == {"B1": 3, "B2": None, "B3": 4, "B4": None, "B5": None}
        assert counts(r, "persons") == {"B1": 6, "B2": 6, "B3": 8, "B4": None, "B5": 5}
        assert counts(r, "elderly_alone") == {"B1": None, "B2": 0, "B3": 0, "B4": None, "B5": 0}
    exact = api.get(by_building, headers=bearer("admin-secret"))
    assert counts(exact, "households") == {"B1": 3, "B2": 2, "B3": 4, "B4": 1, "B5": 2}
    by_grid = client.get("/collections/household-counts-by-grid/items")
    assert counts(by_grid, "households") == {GA1: 5, GA2: 4, GB1: 3}
    assert counts(by_grid, "floating") == {GA1: 0, GA2: None, GB1: 0}
    assert client.get(f"/collections/household-counts-by-grid/items/{GB1}").json["properties"]["elderly_alone"] is None
    r = client.get("/collections/household-counts-by-building/items?households=1")
    assert r.status_code == 400  # filtering on a suppressed count would reveal it
    assert ids(client.get(f"/collections/household-counts-by-building/items?grid_code={GB1}").json) == ["B4", "B5"]


def test_etag_and_304(client, api):
    r = client.get("/collections/buildings/items?limit=2")
    tag = r.headers["ETag"]
    assert tag.startswith('W/"')
    again = client.get("/collections/buildings/items?limit=2", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    assert client.get("/collections/buildings/items?limit=3", headers={"If-None-Match": tag}).status_code == 200
    for url in ("/collections", "/collections/buildings", "/collections/buildings/items/B1", "/openapi"):
        t = client.get(url).headers["ETag"]
        assert client.get(url, headers={"If-None-Match": t}).status_code == 304
    admin = api.get("/collections/grids/items", headers=bearer("admin-secret")).headers["ETag"]
    assert api.get("/collections/grids/items").headers["ETag"] != admin  # views differ by role
    assert "Authorization" in r.headers["Vary"]


def test_items_are_served_without_reading_files_again(api, monkeypatch):
    from twin import store

    api.get("/collections/buildings/items")  # encoders built once

    def no_reading(*args, **kwargs):
        raise AssertionError("a request read a layer file again")

    for name in ("read_frame", "to_layer_frame"):
        monkeypatch.setattr(store, name, no_reading)
    monkeypatch.setattr(store.FileStore, "read_layer", no_reading)
    for url in (
        "/collections/buildings/items",
        "/collections/buildings/items?limit=2&offset=1",
        "/collections/household-counts-by-grid/items",
        "/collections/buildings/items/B1",
    ):
        assert api.get(url).status_code == 200, url
    assert api.get("/collections/households/items", headers=bearer("admin-secret")).status_code == 200


def test_gzip_for_large_bodies_only(client):
    r = client.get("/openapi", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert json.loads(gzip.decompress(r.data))["openapi"].startswith("3.0")
    small = client.get("/conformance", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    plain = client.get("/openapi")
    assert "Content-Encoding" not in plain.headers


def test_a_live_layer_without_its_service_is_left_out(tiny_twin):
    tiny_twin.incidents = None
    client = create_app({"TESTING": True, "TWIN": tiny_twin}).test_client()
    listed = {c["id"] for c in client.get("/collections").json["collections"]}
    assert "incidents" not in listed and "buildings" in listed
    assert client.get("/collections/incidents/items").status_code == 404


# --- the incidents collection, against the IncidentService contract (a small in-memory stand-in) -----------------
class ContractIncidents:
    """The part of the IncidentService contract the API reads: version, frame(), rows(), select(), get(), extent()."""

    def __init__(self, rows):
        import pandas as pd

        self.df = pd.DataFrame(rows)
        for c in ("reported_at", "accepted_at", "on_site_at", "resolved_at", "closed_at"):
            self.df[c] = pd.to_datetime(self.df.get(c), utc=True)
        self.version = "v1"

    def frame(self):
        return self.df

    def select(self, bbox=None, geom=None, start=None, end=None, **equals):
        d = self.df
        keep = d["incident_id"].notna()
        if bbox is not None:
            keep &= d["lon"].between(bbox[0], bbox[2]) & d["lat"].between(bbox[1], bbox[3])
        if start is not None:
            keep &= d["reported_at"] >= start
        if end is not None:
            keep &= d["reported_at"] < end  # exclusive, as the real service
        for k, v in equals.items():
            keep &= d[k] == v
        return d[keep]

    def rows(self, positions, columns=None):
        d = self.df.iloc[list(positions)]
        return d if columns is None else d[columns]

    def get(self, item_id):
        return self.df.set_index("incident_id").loc[item_id].to_dict()

    def __len__(self):  # the alert feed (web/alerts.py) starts after the incidents there are
        return len(self.df)

    def extent(self):
        d = self.df
        bbox = [d["lon"].min(), d["lat"].min(), d["lon"].max(), d["lat"].max()] if len(d) else None
        return {"bbox": bbox, "start": d["reported_at"].min(), "end": d["reported_at"].max()}


def _incident(iid, lon, lat, when, grid, stage="reported", **extra):
    base = {
        "incident_id": iid,
        "category": "garbage",
        "source": "hotline",
        "description": "楼道堆物",
        "stage": stage,
        "level": "grid",
        "priority": 1,
        "reported_at": when,
        "rating": None,
        "grid_code": grid,
        "community_id": grid[:12],
        "compound_id": None,
        "building_id": None,
        "household_id": None,
        "media_url": None,
        "contact_name": None,
        "contact_phone": None,
        "contact_email": None,
        "lon": lon,
        "lat": lat,
    }
    base.update(extra)
    return base


@pytest.fixture
def incidents_api(tiny_twin):
    from twin.vocab import INCIDENT_CATEGORIES, INCIDENT_SOURCES

    cat, src = next(iter(INCIDENT_CATEGORIES)), next(iter(INCIDENT_SOURCES))
    rows = [
        _incident(
            "E1",
            114.8808,
            40.8011,
            "2026-03-01T08:00:00Z",
            GA1,
            contact_name="张投诉",
            contact_phone="13712345678",
            household_id="H1",
        ),
        _incident("E2", 114.8829, 40.8011, "2026-03-02T09:30:00Z", GA2, stage="closed", contact_phone="13787654321"),
        _incident("E3", 114.8866, 40.8011, "2026-04-10T12:00:00+08:00", GB1),
    ]
    for r in rows:
        r["category"], r["source"] = cat, src
    tiny_twin.incidents = ContractIncidents(rows)
    app = create_app({"TESTING": True, "TWIN": tiny_twin, "TOKENS": json.dumps(TOKENS)})
    return app.test_client()


def test_incidents_collection_with_temporal_extent(incidents_api):
    c = incidents_api.get("/collections/incidents").json
    assert c["itemType"] == "feature"
    assert c["extent"]["temporal"]["interval"] == [["2026-03-01T08:00:00Z", "2026-04-10T04:00:00Z"]]
    assert c["extent"]["spatial"]["bbox"] == [[114.8808, 40.8011, 114.8866, 40.8011]]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["E1", "E2", "E3"]),
        ("datetime=2026-03-01", ["E1"]),
        ("datetime=2026-03-02T09:30:00Z", ["E2"]),
        ("datetime=2026-03-01T17:00:00%2B08:00/..", ["E2", "E3"]),  # 09:00Z, after E1
        ("datetime=../2026-03-02", ["E1", "E2"]),
        ("datetime=2026-03-02/2026-04-10", ["E2", "E3"]),
        ("stage=closed", ["E2"]),
        ("bbox=114.884,40.8,114.888,40.803", ["E3"]),
        (f"grid_code={GA1}&datetime=2026-01-01/2026-12-31", ["E1"]),
    ],
)
def test_incident_items_by_time_place_and_property(incidents_api, query, expected):
    assert_incidents(incidents_api, query, expected)


def assert_incidents(client, query, expected):
    """The incidents `query` selects are exactly `expected`, in order, and numberMatched agrees."""
    r = client.get(f"/collections/incidents/items?{query}")
    assert r.status_code == 200, r.json
    assert ids(r.json) == expected and r.json["numberMatched"] == len(expected)


def test_incident_personal_fields_by_role(incidents_api):
    pub = incidents_api.get("/collections/incidents/items/E1").json
    assert pub["geometry"] == {"type": "Point", "coordinates": [114.8808, 40.8011]}
    assert pub["properties"]["reported_at"] == "2026-03-01T08:00:00Z"
    assert not {"contact_name", "contact_phone", "household_id", "contact_email"} & set(pub["properties"])
    text = incidents_api.get("/collections/incidents/items", headers=bearer("planner-secret")).get_data(as_text=True)
    assert "张投诉" not in text and "13712345678" not in text and "H1" not in text
    staff = incidents_api.get("/collections/incidents/items", headers=bearer("staff-a1")).json
    props = {f["id"]: f["properties"] for f in staff["features"]}
    assert props["E1"]["contact_name"] == "张投诉" and "contact_phone" not in props["E2"]
    admin = incidents_api.get("/collections/incidents/items/E2", headers=bearer("admin-secret")).json
    assert admin["properties"]["contact_phone"] == "13787654321"


def test_incident_etag_follows_the_service_version(incidents_api):
    r = incidents_api.get("/collections/incidents/items")
    tag = r.headers["ETag"]
    assert incidents_api.get("/collections/incidents/items", headers={"If-None-Match": tag}).status_code == 304
    svc = incidents_api.application.extensions["twin"].incidents
    svc.df.loc[svc.df.incident_id == "E3", "stage"] = "accepted"
    svc.version = "v2"
    r2 = incidents_api.get("/collections/incidents/items", headers={"If-None-Match": tag})
    assert r2.status_code == 200 and r2.headers["ETag"] != tag
    assert r2.json["features"][2]["properties"]["stage"] == "accepted"
    assert incidents_api.get("/collections/incidents/items/E9").status_code == 404


@pytest.mark.parametrize(
    "raw", ["yesterday", "2026-03-01T08:00:00", "2026-02-01/2026-01-01", "2026-13-01", "2026-03-01T25:00:00Z"]
)
def test_bad_datetime_is_400(incidents_api, raw):
    r = incidents_api.get(f"/collections/incidents/items?datetime={raw}")
    assert r.status_code == 400 and "datetime" in r.json["message"]


def test_feature_encoder_modes_give_the_same_strings():
    import pandas as pd

    from web.geojson import FeatureEncoder

    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "x": [1.5, float("nan"), 2.0],
            "t": pd.to_datetime(["2026-01-01T08:00:00Z", None, "2026-02-01T00:00:00Z"], utc=True),
            "s": ["东", None, "西"],
            "ok": [True, False, True],
        }
    )
    geoms = lambda pos: ['{"type":"Point","coordinates":[1.0,2.0]}' if p != 1 else None for p in pos]  # noqa: E731
    whole = FeatureEncoder(frame, "id", ["n", "x", "t", "s", "ok"], geoms, whole_columns=True)
    paged = FeatureEncoder(frame, "id", ["n", "x", "t", "s", "ok"], geoms, whole_columns=False)
    assert whole.features([2, 0, 1]) == paged.features([2, 0, 1])
    assert whole.features([1])[0] == (
        '{"type":"Feature","id":"b","geometry":null,"properties":{"n":null,"x":null,"t":null,"s":null,"ok":false}}'
    )
    assert json.loads(whole.features([0])[0])["properties"] == {
        "n": 1,
        "x": 1.5,
        "t": "2026-01-01T08:00:00Z",
        "s": "东",
        "ok": True,
    }
