"""One error shape for the whole API: domain exceptions mapped to HTTP statuses here and nowhere else."""

from __future__ import annotations

import logging

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from twin.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StorageFull,
    TooLarge,
    TooManyRequests,
    TwinError,
    Unauthorized,
    storage_full,
)

log = logging.getLogger(__name__)

STATUS = {
    TooLarge: 413,
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    StorageFull: 507,  # Insufficient Storage (RFC 4918)
    TooManyRequests: 429,
}


def status_of(exc: TwinError) -> int:
    """The HTTP status for a domain exception (most specific class first)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(status: int, code: str, message: str, details: dict | None = None):
    """The single JSON error body: {"code", "message", "status"[, "details"]}."""
    body = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = details
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="twin"'
    if status == 429 and details and "retry_after_s" in details:
        resp.headers["Retry-After"] = str(details["retry_after_s"])
    return resp


def register(app) -> None:
    """Install the handlers that turn every error into the single JSON body."""

    @app.errorhandler(TwinError)
    def _domain(exc: TwinError):
        status = status_of(exc)
        if status in (401, 403):
            who = getattr(g.get("principal"), "name", "anonymous")
            log.warning("refused %s %s %s (%s): %s", status, request.method, request.path, who, exc.message)
        return error_response(status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        resp = error_response(exc.code or 500, code, exc.description or exc.name)
        allow = dict(exc.get_headers()).get("Allow")  # 405 names the methods the resource takes
        if allow:
            resp.headers["Allow"] = allow
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        full = storage_full(exc)
        if full is not None:
            log.error("storage full on %s %s: %s", request.method, request.path, exc)
            return error_response(507, full.code, full.message)
        log.exception("unhandled error")
        return error_response(500, "internal_error", "the server failed to answer; the error has been logged")
