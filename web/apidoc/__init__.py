"""OpenAPI descriptions of the non-features blueprints: one module per blueprint (named as in web.BLUEPRINTS), each
with `paths()` → OpenAPI path items and optionally `SCHEMAS` (components). web/openapi.py merges them.

A new blueprint documents itself by adding web/apidoc/<blueprint name>.py; the helpers below keep each one short.
"""

from __future__ import annotations


def ref(kind: str, name: str) -> dict:
    """A local $ref into components."""
    return {"$ref": f"#/components/{kind}/{name}"}


def errors(*statuses: int) -> dict:
    """Response entries pointing at the shared JSON error body for each status."""
    return {str(s): ref("responses", f"E{s}") for s in statuses}


def ok(schema: dict, media: str = "application/json", description: str = "the answer", status: int = 200) -> dict:
    """A success response with one media type."""
    return {str(status): {"description": description, "content": {media: {"schema": schema}}}}


def binary(media: str, description: str) -> dict:
    """A 200 whose body is a file or a binary transport."""
    return {"200": {"description": description, "content": {media: {"schema": {"type": "string", "format": "binary"}}}}}


def html(description: str) -> dict:
    """A 200 HTML page."""
    return {"200": {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}}


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    """A query parameter."""
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def path(name: str, description: str, schema: dict | None = None) -> dict:
    """A path parameter."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def json_body(schema: dict, description: str, form: bool = False, required: bool = True) -> dict:
    """A request body as JSON (and form-encoded too when `form`)."""
    content = {"application/json": {"schema": schema}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"required": required, "description": description, "content": content}


def obj(properties: dict, required: tuple = (), extra: bool = True) -> dict:
    """An object schema."""
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if not extra:
        out["additionalProperties"] = False
    return out


def op(op_id: str, tag: str, summary: str, responses: dict, *, params=(), body=None, security=None) -> dict:
    """One operation."""
    out = {"tags": [tag], "operationId": op_id, "summary": summary, "responses": responses}
    if params:
        out["parameters"] = list(params)
    if body is not None:
        out["requestBody"] = body
    if security is not None:
        out["security"] = security
    return out


STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
NSTRING = {"type": "string", "nullable": True}
NINTEGER = {"type": "integer", "nullable": True}
NUMBER_OR_STRING = {"oneOf": [{"type": "number"}, {"type": "string"}]}
LANG = query("lang", {"type": "string", "enum": ["zh", "en"]}, "language of labels (Chinese by default)")
STAFF = [{"bearer": []}]  # documented as needing a token; callers without one get 401
