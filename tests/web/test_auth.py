"""Bearer tokens: stored hashed, roles and grid limits, require(), every refusal a 401/403 that is logged."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
from flask import Blueprint

from tests.tiny import GA1
from twin.access import PUBLIC
from twin.errors import InvalidInput
from web import create_app
from web.auth import current_principal, parse_tokens, require, token_digest


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_app(tiny_dir, tmp_path, tokens, **config):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(tiny_dir),
            "STATE_DIR": str(tmp_path / "state"),
            "TOKENS": json.dumps(tokens) if tokens is not None else "",
            **config,
        }
    )
    probe = Blueprint("probe", __name__)

    @probe.get("/probe/whoami")
    def whoami():
        p = current_principal()
        return {"role": p.role, "name": p.name, "grids": sorted(p.grids) if p.grids is not None else None}

    @probe.get("/probe/staff")
    @require("staff", "admin")
    def staff_only():
        return {"ok": True}

    app.register_blueprint(probe)
    return app


def test_digest_is_sha256_hex():
    assert token_digest("abc") == sha("abc")


def test_plain_tokens_are_hashed_and_not_kept(tiny_dir, tmp_path):
    app = make_app(
        tiny_dir,
        tmp_path,
        [
            {"role": "admin", "token": "very-secret-plain", "name": "office"},
            {"role": "staff", "sha256": sha("grid-a1"), "grids": [GA1]},
        ],
    )
    assert set(app.extensions["tokens"]) == {sha("very-secret-plain"), sha("grid-a1")}
    assert "very-secret-plain" not in repr(app.config) + repr(app.extensions["tokens"])
    c = app.test_client()
    assert c.get("/probe/whoami", headers={"Authorization": "Bearer very-secret-plain"}).json == {
        "role": "admin",
        "name": "office",
        "grids": None,
    }
    assert c.get("/probe/whoami", headers={"Authorization": "bearer grid-a1"}).json["grids"] == [GA1]
    assert c.get("/probe/whoami").json["role"] == "public"


def test_tokens_from_the_environment(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_TOKENS", json.dumps([{"role": "planner", "sha256": sha("plan")}]))
    app = create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s")})
    assert app.extensions["tokens"][sha("plan")].role == "planner"


@pytest.mark.parametrize(
    "raw, word",
    [
        ("not json", "not valid JSON"),
        ('{"role": "admin"}', "JSON list"),
        ('[{"role": "king", "token": "x"}]', "role"),
        ('[{"role": "admin"}]', "sha256"),
        ('[{"role": "admin", "sha256": "abc"}]', "64 hex"),
        ('[{"role": "planner", "token": "x", "grids": ["1"]}]', "only for staff"),
        ('[{"role": "admin", "token": "x"}, {"role": "staff", "token": "x"}]', "twice"),
    ],
)
def test_bad_token_settings_are_refused_at_start_up(raw, word):
    with pytest.raises(InvalidInput, match=word):
        parse_tokens(raw)


def test_no_tokens_means_everyone_public():
    assert parse_tokens("") == {}


def test_unknown_or_malformed_credentials_are_401(tiny_dir, tmp_path, caplog):
    c = make_app(tiny_dir, tmp_path, [{"role": "admin", "token": "good"}]).test_client()
    caplog.set_level(logging.WARNING)
    for header in ("Bearer wrong", "Basic Zm9vOmJhcg==", "Bearer ", "good"):
        r = c.get("/collections", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.json["code"] == "unauthorized" and r.json["status"] == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert sum("refused 401 GET /collections" in m for m in caplog.messages) == 4


def test_require_decorator(tiny_dir, tmp_path, caplog):
    c = make_app(
        tiny_dir,
        tmp_path,
        [{"role": "planner", "token": "p"}, {"role": "staff", "token": "s"}, {"role": "admin", "token": "a"}],
    ).test_client()
    caplog.set_level(logging.WARNING)
    r = c.get("/probe/staff")
    assert r.status_code == 401 and "token" in r.json["message"]
    r = c.get("/probe/staff", headers={"Authorization": "Bearer p"})
    assert r.status_code == 403 and r.json["code"] == "forbidden" and "planner" in r.json["message"]
    assert c.get("/probe/staff", headers={"Authorization": "Bearer s"}).json == {"ok": True}
    assert c.get("/probe/staff", headers={"Authorization": "Bearer a"}).status_code == 200
    assert any("refused 403 GET /probe/staff (planner-1)" in m for m in caplog.messages)


def test_require_rejects_unknown_roles():
    with pytest.raises(ValueError):
        require("superuser")


def test_current_principal_outside_a_token_is_public(tiny_dir, tmp_path):
    app = make_app(tiny_dir, tmp_path, None)
    with app.test_request_context("/"):
        assert current_principal() is PUBLIC
