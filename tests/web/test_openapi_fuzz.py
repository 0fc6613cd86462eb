"""schemathesis over the whole OpenAPI document against the app (WSGI): every operation, a bounded number of
generated requests each (deterministic), as the public and as an admin: no 5xx, no answer that breaks its schema.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.tiny import GA1, write_tiny
from web import create_app

pytestmark = pytest.mark.slow

ADMIN, SENSOR = "fuzz-admin", "fuzz-sensor"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HEAVY = {("POST", "/api/redraw")}  # a valid body queues a real redraw: fuzzed as the public only (401 first)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The tiny street with an admin token, a sensor key and two incidents."""
    root = tmp_path_factory.mktemp("fuzz")
    tokens = [{"role": "admin", "token": ADMIN, "name": "office"}, {"role": "staff", "token": "s", "grids": [GA1]}]
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(write_tiny(root / "tiny")),
            "STATE_DIR": str(root / "state"),
            "TOKENS": json.dumps(tokens),
            "SENSOR_KEYS": SENSOR,
        }
    )
    c = app.test_client()
    for code in ("garbage", "fire_hazard"):
        r = c.post("/open311/v2/requests.json", data={"lat": "40.8011", "long": "114.8808", "service_code": code})
        assert r.status_code == 201
    return app


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case):
    plain = {"Accept-Encoding": "identity"}  # the WSGI client does not undo gzip
    case.call_and_validate(headers=plain, checks=CHECKS)
    if (case.method.upper(), case.path) not in HEAVY:
        admin = {**plain, "Authorization": f"Bearer {ADMIN}", "X-API-Key": SENSOR}
        case.call_and_validate(headers=admin, checks=CHECKS)


def test_every_route_of_the_app_is_in_the_document(app):
    import re

    doc = app.test_client().get("/openapi").json
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", p) for p in doc["paths"]}
    routes = {re.sub(r"<\w+:", "<", r.rule) for r in app.url_map.iter_rules() if r.endpoint != "static"}
    routes = {r for r in routes if not r.startswith("/collections/<collection_id>")}  # one path per collection
    assert routes - documented == set()
    assert {"/collections/buildings/queryables", "/api/care/calls", "/api/sensors/events"} <= set(doc["paths"])
