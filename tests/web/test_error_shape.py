"""Every error path of the features API answers with the one JSON body {code, message, status[, details]}."""

from __future__ import annotations

import json

import pytest

from web import create_app

BROWSER_XML = {"Accept": "application/xml"}
CASES = [
    # (method, url, headers, status)
    ("GET", "/no/such/route", {}, 404),
    ("GET", "/collections/nope", {}, 404),
    ("GET", "/collections/nope/items", {}, 404),
    ("GET", "/collections/buildings/items/B99", {}, 404),
    ("GET", "/collections/household-counts-by-grid/items/000000000000000", {}, 404),
    ("POST", "/collections", {}, 405),
    ("DELETE", "/collections/buildings/items/B1", {}, 405),
    ("PUT", "/", {}, 405),
    ("GET", "/?colour=red", {}, 400),
    ("GET", "/conformance?x=1", {}, 400),
    ("GET", "/openapi?x=1", {}, 400),
    ("GET", "/collections?x=1", {}, 400),
    ("GET", "/collections/buildings?x=1", {}, 400),
    ("GET", "/collections/buildings/items?x=1", {}, 400),
    ("GET", "/collections/buildings/items/B1?x=1", {}, 400),
    ("GET", "/collections/buildings/items?bbox=1,2,3", {}, 400),
    ("GET", "/collections/buildings/items?bbox=north", {}, 400),
    ("GET", "/collections/buildings/items?limit=0", {}, 400),
    ("GET", "/collections/buildings/items?limit=99999", {}, 400),
    ("GET", "/collections/buildings/items?offset=x", {}, 400),
    ("GET", "/collections/buildings/items?datetime=2026-01-01", {}, 400),
    ("GET", "/collections/compounds/items?state=happy", {}, 400),
    ("GET", "/collections/buildings/items?f=xml", {}, 400),
    ("GET", "/collections", {"Authorization": "Bearer nobody"}, 401),
    ("GET", "/collections/buildings/items", {"Authorization": "Basic eDp5"}, 401),
    ("GET", "/collections/households", {}, 403),
    ("GET", "/collections/households/items", {}, 403),
    ("GET", "/collections/households/items/H1", {}, 403),
    ("GET", "/collections/households/items", {"Authorization": "Bearer planner"}, 403),
    ("GET", "/collections/households/items/H6", {"Authorization": "Bearer staff-a1"}, 403),
    ("GET", "/collections", BROWSER_XML, 406),
    ("GET", "/collections/buildings/items", BROWSER_XML, 406),
    ("GET", "/collections?f=html", {}, 406),
    ("GET", "/boom", {}, 500),
]


@pytest.fixture
def api(tiny_dir, tmp_path):
    from tests.tiny import GA1

    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tiny_dir),
            "STATE_DIR": str(tmp_path / "state"),
            "TOKENS": json.dumps(
                [{"role": "planner", "token": "planner"}, {"role": "staff", "token": "staff-a1", "grids": [GA1]}]
            ),
        }
    )

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail /etc/passwd")

    return app.test_client()


@pytest.mark.parametrize("method, url, headers, status", CASES, ids=[f"{c[3]} {c[0]} {c[1]}" for c in CASES])
def test_error_shape(api, method, url, headers, status):
    r = api.open(url, method=method, headers=headers)
    assert r.status_code == status
    assert r.mimetype == "application/json"
    body = r.json
    assert set(body) <= {"code", "message", "status", "details"} and {"code", "message", "status"} <= set(body)
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"] and " " not in body["code"]
    assert isinstance(body["message"], str) and len(body["message"]) > 10
    text = r.get_data(as_text=True)
    assert "Traceback" not in text and "secret internal detail" not in text and 'File "' not in text


def test_incident_datetime_errors_share_the_shape_on_the_real_service(api):
    if "incidents" not in {c["id"] for c in api.get("/collections").json["collections"]}:
        pytest.fail("the incident service is not attached; twin.incidents must serve the incidents collection")
    for q in (
        "datetime=yesterday",
        "datetime=2026-01-01T08:00:00",
        "datetime=2026-02-01/2026-01-01",
        "datetime=2026-13-01",
    ):
        r = api.get(f"/collections/incidents/items?{q}")
        assert r.status_code == 400 and r.json["code"] == "invalid_input" and "datetime" in r.json["message"]


def _shape_ok(r) -> bool:
    body = r.get_json(silent=True)
    return (
        r.mimetype == "application/json"
        and isinstance(body, dict)
        and body.get("status") == r.status_code
        and isinstance(body.get("code"), str)
        and isinstance(body.get("message"), str)
        and body["message"]
    )


def test_every_route_errs_in_the_one_shape(tiny_dir, tmp_path):
    """Every route of the app (app.url_map): a method it does not take, bogus path values, a bad JSON body, and
    callers without or with a wrong token. Whatever fails answers with the one JSON body and never a 5xx."""
    app = create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "state")})
    c = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        path = rule.build({a: "nope-0" for a in rule.arguments}, append_unknown=False)[1]
        methods = rule.methods - {"HEAD", "OPTIONS"}
        other = "DELETE" if "DELETE" not in methods else "PATCH"
        calls = [
            (other, {}, None),
            *((m, {}, None) for m in methods),
            *((m, {"Authorization": "Bearer wrong"}, None) for m in methods),
        ]
        calls += [("POST", {"Content-Type": "application/json"}, b"{not json")] if "POST" in methods else []
        for method, headers, data in calls:
            r = c.open(path, method=method, headers=headers, data=data)
            assert r.status_code < 500, (method, path, r.status_code)
            if r.status_code >= 400:
                assert _shape_ok(r), (method, path, r.status_code, r.get_data(as_text=True)[:200])
                checked += 1
    assert checked > 2 * len(list(app.url_map.iter_rules()))
