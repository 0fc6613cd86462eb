"""No response to a public or planner caller carries a personal field of any household (the demo street).

Every endpoint is crawled as each caller: landing, conformance, OpenAPI, collections, every collection, every
items page and every single item, and the households URLs (refused). Each body is scanned for the demo street's
household names, phone numbers and household ids (and the other personal values: incident contacts, grid workers'
phones).
"""
from __future__ import annotations

import json
import re

import pytest

from layers import REGISTRY
from twin.store import default_data_dir
from web import create_app

DEMO = default_data_dir()
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
CALLERS = {"public": {}, "planner": {"Authorization": "Bearer plan-token"}}


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    return create_app({"TESTING": True, "DATA_DIR": str(DEMO), "STATE_DIR": str(state),
                       "TOKENS": json.dumps([{"role": "planner", "token": "plan-token"}])})


@pytest.fixture(scope="module")
def secrets(demo_app):
    """Personal values to look for, minus names that are also values of public fields (e.g. a grid worker)."""
    twin = demo_app.extensions["twin"]
    h = twin.frame("households")
    phones = set(h["phone"].dropna().astype(str))
    names = set(h["name"].dropna().astype(str))
    ids = set(h["household_id"].astype(str))
    public_values = set()
    for name, layer in twin.layers.items():
        kind = REGISTRY[name]
        if kind.public:
            for f in kind.schema.fields:
                if f.dtype == "str" and not f.personal and f.name in layer.frame.columns:
                    public_values |= set(layer.frame[f.name].dropna().astype(str))
    if twin.incidents is not None:
        inc = twin.incidents.frame()
        for f in REGISTRY["incidents"].schema.fields:
            if f.personal:
                values = set(inc[f.name].dropna().astype(str))
                phones |= {v for v in values if PHONE.fullmatch(v)}
                (ids if f.name == "household_id" else names).update(v for v in values if not PHONE.fullmatch(v))
    if "grids" in twin.layers:
        phones |= set(twin.frame("grids")["worker_phone"].dropna().astype(str))
    shared = names & public_values
    assert len(shared) < 0.05 * len(names), "too many personal names double as public values for a fair test"
    return {"names": names - shared, "phones": phones, "ids": ids - public_values, "households": h}


def _strings(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _crawl(client, headers):
    """Yield (url, response) for every endpoint a caller can reach."""
    for url in ("/", "/conformance", "/openapi", "/collections"):
        yield url, client.get(url, headers=headers)
    catalogue = client.get("/collections", headers=headers).json["collections"]
    for c in catalogue:
        base = f"/collections/{c['id']}"
        yield base, client.get(base, headers=headers)
        url = f"{base}/items?limit=10000"
        while url:
            r = client.get(url, headers=headers)
            yield url, r
            doc = r.json
            for f in doc["features"]:
                item = f"{base}/items/{f['id']}"
                yield item, client.get(item, headers=headers)
            nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
            url = nxt[0].replace("http://localhost", "") if nxt else None


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_no_personal_value_reaches_public_or_planner(demo_app, secrets, caller):
    client, headers = demo_app.test_client(), CALLERS[caller]
    names, phones, ids = secrets["names"], secrets["phones"], secrets["ids"]
    assert len(names) > 1000 and len(phones) > 1000
    bodies = 0
    listed = {c["id"] for c in client.get("/collections", headers=headers).json["collections"]}
    assert "households" not in listed and "household-counts-by-building" in listed
    for url, r in _crawl(client, headers):
        assert r.status_code == 200, (url, r.status_code)
        text = r.get_data(as_text=True)
        leaked_phones = set(PHONE.findall(text)) & phones
        assert not leaked_phones, f"{url} leaks phone numbers {sorted(leaked_phones)[:3]}"
        values = set(_strings(json.loads(text)))
        assert not values & names, f"{url} leaks names {sorted(values & names)[:3]}"
        assert not values & ids, f"{url} leaks household ids {sorted(values & ids)[:3]}"
        bodies += 1
    assert bodies > len(secrets["households"]) / 100
    some = secrets["households"]["household_id"].iloc[::997].tolist()
    for url in ["/collections/households", "/collections/households/items"] + [
            f"/collections/households/items/{hid}" for hid in some]:
        r = client.get(url, headers=headers)
        assert r.status_code == 403 and r.json["code"] == "forbidden"
        text = r.get_data(as_text=True)
        assert not set(PHONE.findall(text)) & phones and not set(_strings(r.json)) & (names | ids)


def test_counts_of_one_or_two_are_suppressed_on_the_demo_street(demo_app, secrets):
    h = secrets["households"]
    exact = h.groupby("building_id").size()
    doc = demo_app.test_client().get("/collections/household-counts-by-building/items?limit=10000").json
    shown = {f["id"]: f["properties"]["households"] for f in doc["features"]}
    for bid, n in exact.items():
        assert shown[bid] == (None if n in (1, 2) else n)
    client = demo_app.test_client()
    for by in ("building", "grid"):
        feats = client.get(f"/collections/household-counts-by-{by}/items?limit=10000").json["features"]
        counts = [v for f in feats for k, v in f["properties"].items()
                  if k in ("households", "persons", "elderly_alone", "floating", "key_group")]
        assert counts and not {1, 2} & set(counts)
