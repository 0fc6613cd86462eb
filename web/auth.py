"""Who is calling: a bearer token (TOKENS setting, kept only as sha256 digests) or a person's session cookie
(web/session.py), resolved into the same Principal (role, grids, name); neither means public."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re

from flask import current_app, g, request

from twin.access import PUBLIC, ROLES, Principal
from twin.errors import Forbidden, InvalidInput, Unauthorized
from twin.settings import json_setting

log = logging.getLogger(__name__)

_HEX64 = re.compile(r"[0-9a-f]{64}")


def token_digest(token: str) -> str:
    """The sha256 hex digest under which a bearer token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_tokens(raw) -> dict[str, Principal]:
    """Digest → Principal from the TOKENS setting (JSON list); plain tokens are hashed here and not kept."""
    if not raw:
        return {}
    entries = json_setting("TOKENS", raw, list, "list of {role, sha256|token, grids?, name?}")
    table: dict[str, Principal] = {}
    for i, e in enumerate(entries):
        where = f"TOKENS[{i}]"
        if not isinstance(e, dict):
            raise InvalidInput(f"{where} must be an object with role and sha256 (or token)")
        role = e.get("role")
        if role not in ROLES:
            raise InvalidInput(f"{where}: role must be one of {', '.join(ROLES)}, not {role!r}")
        if e.get("sha256"):
            digest = str(e["sha256"]).lower()
            if not _HEX64.fullmatch(digest):
                raise InvalidInput(f"{where}: sha256 must be 64 hex digits (sha256sum of the token)")
        elif e.get("token"):
            digest = token_digest(str(e["token"]))
        else:
            raise InvalidInput(f"{where}: give the token's sha256 digest (or the plain token to hash at start-up)")
        grids = e.get("grids")
        if grids is not None and (role != "staff" or not isinstance(grids, list)):
            raise InvalidInput(f"{where}: grids is a list of grid codes, and only for staff")
        if digest in table:
            raise InvalidInput(f"{where}: the same token is listed twice")
        table[digest] = Principal(
            role=role,
            grids=frozenset(map(str, grids)) if grids is not None else None,
            name=str(e.get("name") or f"{role}-{i + 1}"),
        )
    return table


def init_app(app) -> None:
    """Load the token table once and resolve the caller of each request into g.principal."""
    app.extensions["tokens"] = parse_tokens(app.config.get("TOKENS"))
    # Keep only digests: the plain tokens in the configuration are not kept past start-up.
    app.config["TOKENS"] = json.dumps(
        [
            {"role": p.role, "sha256": d, "name": p.name, **({"grids": sorted(p.grids)} if p.grids is not None else {})}
            for d, p in app.extensions["tokens"].items()
        ]
    )
    log.info("%d bearer token(s) configured", len(app.extensions["tokens"]))

    @app.before_request
    def _principal():
        g.principal = PUBLIC
        header = request.headers.get("Authorization")
        if header is None:
            from .session import check_csrf, session_principal

            person = session_principal()
            if person is not None:
                g.principal = person
                check_csrf()  # a cookie is sent by the browser on its own: state changes must prove the page
            return
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            g.principal = PUBLIC
            raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
        principal = current_app.extensions["tokens"].get(token_digest(token.strip()))
        if principal is None:
            raise Unauthorized("the bearer token is not known; ask the street office for a valid token")
        g.principal = principal


def current_principal() -> Principal:
    """The Principal making the current request."""
    return g.get("principal", PUBLIC)


def require(*roles: str):
    """Decorator: only callers whose role is in `roles` may call the view (401 without a token, else 403)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            check_role(*roles)
            return view(*args, **kwargs)

        return inner

    return wrap


def check_role(*roles: str) -> Principal:
    """The current principal if its role is in `roles`; Unauthorized (no token) or Forbidden otherwise."""
    p = current_principal()
    if p.role in roles:
        return p
    if p is PUBLIC and "public" not in roles:
        raise Unauthorized(f"this needs a sign-in (or a bearer token) of role {' or '.join(roles)}")
    raise Forbidden(f"role {p.role} may not do this; it needs role {' or '.join(roles)}", role=p.role)
