"""OpenAPI of the open311 blueprint: GeoReport v2 (JSON and XML) and the staff incident actions and history."""

from __future__ import annotations

from twin.incidents.intake import FILEABLE, FORWARDED_SOURCES
from twin.incidents.lifecycle import ACTIONS
from twin.settings import defaults

from . import (
    BOOLEAN,
    LANG,
    NSTRING,
    NUMBER,
    NUMBER_OR_STRING,
    STAFF,
    STRING,
    errors,
    json_body,
    obj,
    ok,
    op,
    path,
    query,
    ref,
)

TAG = "open311"
XML = {"type": "string", "description": "GeoReport v2 XML"}

SCHEMAS = {
    "georeportService": obj(
        {
            "service_code": STRING,
            "service_name": STRING,
            "description": STRING,
            "metadata": BOOLEAN,
            "type": STRING,
            "keywords": STRING,
            "group": STRING,
        },
        ("service_code", "service_name", "metadata", "type"),
    ),
    "georeportRequest": obj(
        {
            "service_request_id": STRING,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": NSTRING,
            "service_name": NSTRING,
            "service_code": STRING,
            "description": NSTRING,
            "agency_responsible": NSTRING,
            "service_notice": NSTRING,
            "requested_datetime": NSTRING,
            "updated_datetime": NSTRING,
            "expected_datetime": NSTRING,
            "address": NSTRING,
            "address_id": NSTRING,
            "zipcode": NSTRING,
            "lat": NUMBER,
            "long": NUMBER,
            "media_url": NSTRING,
            "extended_attributes": {"type": "object"},
        },
        ("service_request_id", "status", "service_code", "lat", "long"),
    ),
    "georeportNewRequest": obj(
        {
            "lat": NUMBER_OR_STRING,
            "long": NUMBER_OR_STRING,
            "service_code": {"type": "string", "enum": sorted(FILEABLE)},
            "description": {"type": "string", "maxLength": 4000},
            "media_url": STRING,
            "first_name": STRING,
            "last_name": STRING,
            "phone": STRING,
            "email": STRING,
        },
        ("lat", "long", "service_code"),
    ),
    "georeportBatch": {
        "type": "array",
        "minItems": 1,
        "maxItems": defaults()["INTAKE_BATCH_MAX"],
        "items": {
            "allOf": [
                ref("schemas", "georeportNewRequest"),
                obj({"source": {"type": "string", "enum": sorted(FORWARDED_SOURCES), "default": "app"}}),
            ]
        },
    },
    "incidentAction": obj(
        {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "note": STRING,
            "rating": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 5}, {"type": "string"}]},
        },
        ("action",),
    ),
    "historyEntry": obj({"at": STRING, "action": STRING, "actor": NSTRING, "note": NSTRING}, ("at", "action")),
}

REQUESTS = {"type": "array", "items": ref("schemas", "georeportRequest")}
RID = path("incident_id", "service_request_id of the request")
LIST_PARAMS = (
    query("service_request_id", STRING, "comma-separated ids (the other filters are then ignored)"),
    query("service_code", STRING, "comma-separated service codes"),
    query("status", STRING, "open, closed or open,closed"),
    query("start_date", STRING, "W3C date-time; with end_date at most a 90-day window"),
    query("end_date", STRING, "W3C date-time"),
    query("page", {"type": "integer", "minimum": 1}, "page number from 1"),
    query("page_size", {"type": "integer", "minimum": 1, "maximum": 1000}, "requests per page (default 100)"),
    LANG,
)
NEW = json_body(ref("schemas", "georeportNewRequest"), "the request (form-encoded as GeoReport says, or JSON)", True)
CREATED = {
    "type": "array",
    "items": obj({"service_request_id": STRING, "service_notice": NSTRING, "account_id": NSTRING}),
}


def paths() -> dict:
    """GeoReport v2 and the staff endpoints."""
    base = "/open311/v2"
    out = {}
    for ext, media, wrap in (("json", "application/json", None), ("xml", "text/xml", XML)):
        out[f"{base}/services.{ext}"] = {
            "get": op(
                f"services-{ext}",
                TAG,
                "the services (incident categories)",
                {
                    **ok(wrap or {"type": "array", "items": ref("schemas", "georeportService")}, media),
                    **errors(400),
                },
                params=[LANG],
            )
        }
        out[f"{base}/services/{{code}}.{ext}"] = {
            "get": op(
                f"service-definition-{ext}",
                TAG,
                "one service's definition (no extra attributes)",
                {**ok(wrap or obj({"service_code": STRING, "attributes": {"type": "array"}}), media), **errors(400)},
                params=[path("code", "service code")],
            )
        }
        out[f"{base}/requests.{ext}"] = {
            "get": op(
                f"requests-{ext}",
                TAG,
                "requests of a period (the last 90 days by default), newest first; X-Total-Count says how many",
                {**ok(wrap or REQUESTS, media), **errors(400)},
                params=LIST_PARAMS,
            ),
            "post": op(
                f"new-request-{ext}",
                TAG,
                "file a request; 201 with its id and a notice of who handles it and when",
                {**ok(wrap or CREATED, media, "filed", 201), **errors(400, 413)},
                params=[LANG],
                body=NEW,
            ),
        }
        out[f"{base}/requests/{{incident_id}}.{ext}"] = {
            "get": op(
                f"request-{ext}",
                TAG,
                "one request as an array of one",
                {**ok(wrap or REQUESTS, media), **errors(400, 403, 404)},
                params=[RID, LANG],
            )
        }
    out[f"{base}/requests/batch.json"] = {
        "post": op(
            "new-requests-batch",
            TAG,
            "file up to INTAKE_BATCH_MAX (500) requests at once, e.g. tickets forwarded by the 12345 hotline or the "
            "grid app: staff and admin (an integration gets a staff token). Every item is checked first; if any is "
            "bad: 400 with details.errors = [{index, field, message}] for each, nothing stored. Else all are stored "
            "in one transaction and answered after the commit: 201 with one entry per item, in order",
            {**ok(CREATED, "application/json", "filed", 201), **errors(400, 401, 403, 413)},
            params=[LANG],
            body=json_body(ref("schemas", "georeportBatch"), "a JSON array of requests (requests.json's fields)"),
            security=STAFF,
        )
    }
    out["/api/incidents/{incident_id}/actions"] = {
        "post": op(
            "incident-action",
            "incidents",
            "move an incident on (accept, arrive, resolve, close, escalate, reopen): staff of its grid and admin",
            {**ok(ref("schemas", "georeportRequest")), **errors(400, 401, 403, 404, 409, 413)},
            params=[RID, LANG],
            body=json_body(ref("schemas", "incidentAction"), "the action, a note, and a rating 1-5 on close", True),
            security=STAFF,
        )
    }
    out["/api/incidents/{incident_id}/history"] = {
        "get": op(
            "incident-history",
            "incidents",
            "every stage change of one incident: staff and admin",
            {**ok({"type": "array", "items": ref("schemas", "historyEntry")}), **errors(401, 403, 404)},
            params=[RID],
            security=STAFF,
        )
    }
    return out
