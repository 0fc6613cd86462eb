"""The OpenAPI 3.0 document of the features API, generated from the catalogue; every $ref is local."""

from __future__ import annotations

import importlib
import importlib.util
import logging

from . import crs
from .crs import CRS84

log = logging.getLogger(__name__)

_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "string"}


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema_name: str, media: str = "application/json") -> dict:
    return {"description": schema_name, "content": {media: {"schema": _ref("schemas", schema_name)}}}


def _errors(*statuses: int) -> dict:
    return {str(s): _ref("responses", f"E{s}") for s in statuses}


def _property(f) -> dict:
    out = {"type": _JSON_TYPES[f.dtype], "title": f.zh or f.name, "description": f.en or f.name}
    if f.dtype == "datetime":
        out["format"] = "date-time"
    if f.choices:
        out["enum"] = list(f.choices)
    if not f.required:
        out["nullable"] = True
    if f.personal:
        out["description"] += " (personal: staff and admin only)"
    return out


def _filter_param(f) -> dict:
    schema = {"type": _JSON_TYPES[f.dtype]}
    if f.choices:
        schema["enum"] = list(f.choices)
    return {
        "name": f.name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": f"only features whose {f.en or f.name} equals this value",
        "schema": schema,
    }


def _collection_paths(s) -> dict:
    base = f"/collections/{s.id}"
    tag = [s.id]
    params = [
        _ref("parameters", "bbox"),
        _ref("parameters", "limit"),
        _ref("parameters", "offset"),
        _ref("parameters", "f"),
        _ref("parameters", "crs"),
        _ref("parameters", "bbox-crs"),
        _ref("parameters", "filter"),
        _ref("parameters", "filter-lang"),
    ]
    if s.time_field:
        params.append(_ref("parameters", "datetime"))
    params += [_filter_param(f) for f in s.filterable.values()]
    note = " Staff and admin only; grid-limited staff see their grids only." if s.restricted else ""
    return {
        base: {
            "get": {
                "tags": tag,
                "summary": f"{s.title_zh} {s.title_en}: the collection",
                "operationId": f"describe-{s.id}",
                "parameters": [_ref("parameters", "f")],
                "responses": {"200": _json("collection"), **_errors(400, 401, 403, 404)},
            }
        },
        f"{base}/items": {
            "get": {
                "tags": tag,
                "summary": f"{s.title_zh} {s.title_en}: features",
                "operationId": f"items-{s.id}",
                "description": f"Features of {s.title_en}, paged with limit/offset and next/prev links.{note}",
                "parameters": params,
                "responses": {
                    "200": {
                        "description": "a page of features",
                        "content": {
                            "application/geo+json": {
                                "schema": {
                                    "allOf": [
                                        _ref("schemas", "featureCollection"),
                                        {
                                            "type": "object",
                                            "properties": {
                                                "features": {
                                                    "type": "array",
                                                    "items": {
                                                        "allOf": [
                                                            _ref("schemas", "feature"),
                                                            {
                                                                "type": "object",
                                                                "properties": {
                                                                    "properties": {
                                                                        "type": "object",
                                                                        "properties": {
                                                                            f.name: _property(f) for f in s.fields
                                                                        },
                                                                    }
                                                                },
                                                            },
                                                        ]
                                                    },
                                                }
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "304": {"description": "not modified since the ETag sent in If-None-Match"},
                    **_errors(400, 401, 403, 404, 406),
                },
            }
        },
        f"{base}/items/{{featureId}}": {
            "get": {
                "tags": tag,
                "summary": f"{s.title_zh} {s.title_en}: one feature",
                "operationId": f"item-{s.id}",
                "parameters": [_ref("parameters", "featureId"), _ref("parameters", "f"), _ref("parameters", "crs")],
                "responses": {
                    "200": _json("feature", "application/geo+json"),
                    "304": {"description": "not modified"},
                    **_errors(400, 401, 403, 404),
                },
            }
        },
    }


def _components(default_limit: int, max_limit: int) -> dict:
    link = {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
    }
    links = {"type": "array", "items": _ref("schemas", "link")}
    return {
        "schemas": {
            "link": link,
            "error": {
                "type": "object",
                "required": ["code", "message", "status"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "status": {"type": "integer"},
                    "details": {"type": "object"},
                },
            },
            "landingPage": {
                "type": "object",
                "required": ["links"],
                "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": links},
            },
            "confClasses": {
                "type": "object",
                "required": ["conformsTo"],
                "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
            },
            "collection": {
                "type": "object",
                "required": ["id", "links"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "itemType": {"type": "string"},
                    "extent": {"type": "object"},
                    "crs": {"type": "array", "items": {"type": "string"}},
                    "storageCrs": {"type": "string"},
                    "links": links,
                },
            },
            "collections": {
                "type": "object",
                "required": ["links", "collections"],
                "properties": {
                    "links": links,
                    "collections": {"type": "array", "items": _ref("schemas", "collection")},
                },
            },
            "geometry": {
                "type": "object",
                "nullable": True,
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "enum": ["Point", "Polygon", "MultiPolygon"]},
                    "coordinates": {"type": "array", "items": {}},
                },
            },
            "feature": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "string"},
                    "geometry": _ref("schemas", "geometry"),
                    "properties": {"type": "object", "nullable": True},
                    "links": links,
                },
            },
            "featureCollection": {
                "type": "object",
                "required": ["type", "features"],
                "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": _ref("schemas", "feature")},
                    "links": links,
                    "timeStamp": {"type": "string", "format": "date-time"},
                    "numberMatched": {"type": "integer", "minimum": 0},
                    "numberReturned": {"type": "integer", "minimum": 0},
                },
            },
        },
        "parameters": {
            "bbox": {
                "name": "bbox",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "minLon,minLat,maxLon,maxLat in WGS84 (CRS84) degrees, or six numbers with the "
                "minimum and maximum height third and sixth (heights are ignored: the data are 2D). Longitudes lie in "
                "[-180, 180] and latitudes in [-90, 90]; minLat <= maxLat; minLon > maxLon is a box across the "
                "antimeridian. With bbox-crs the numbers are in that CRS and its axis order: EPSG:4490 and "
                "EPSG:4326 latitude first within the same ranges, EPSG:3857 metres within "
                "[-20037508.34, 20037508.34] easting and [-20048966.1, 20048966.1] northing. Anything else is a 400.",
                "schema": {
                    "type": "array",
                    "minItems": 4,
                    "maxItems": 6,
                    # the widest range of any served CRS (EPSG:3857 northing); degrees are held to the ranges above
                    "items": {"type": "number", "minimum": -20048966.1, "maximum": 20048966.1},
                },
            },
            "limit": {
                "name": "limit",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "features per page",
                "schema": {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            },
            "offset": {
                "name": "offset",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "features to skip (the next link carries it)",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
            "datetime": {
                "name": "datetime",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "RFC 3339 instant or date, or interval start/end with .. for an open end",
                "schema": {"type": "string"},
            },
            "f": {
                "name": "f",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "format; JSON when absent",
                "schema": {"type": "string", "enum": ["json"]},
            },
            **{
                name: {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": f"{what} (OGC API – Features Part 2); CRS84 when absent. EPSG:4490 (CGCS2000) "
                    "and EPSG:4326 are latitude first, EPSG:3857 is easting, northing in metres",
                    "schema": {"type": "string", "enum": crs.URIS, "default": CRS84},
                }
                for name, what in (("crs", "CRS of the response"), ("bbox-crs", "CRS of bbox"))
            },
            "filter": {
                "name": "filter",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "CQL2 text over the queryables: comparisons (= <> < <= > >=), BETWEEN, IN, IS NULL, "
                "AND, OR, NOT, e.g. category = 'fire_hazard' AND stage = 'reported'",
                "schema": {"type": "string", "maxLength": 2000},
            },
            "filter-lang": {
                "name": "filter-lang",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": False,
                "description": "language of filter",
                "schema": {"type": "string", "enum": ["cql2-text"], "default": "cql2-text"},
            },
            "featureId": {
                "name": "featureId",
                "in": "path",
                "required": True,
                "description": "id of the feature",
                "schema": {"type": "string"},
            },
        },
        "responses": {
            f"E{s}": {**_json("error"), "description": d}
            for s, d in (
                (400, "invalid query (the message says which parameter and how to fix it)"),
                (401, "bearer token missing or unknown"),
                (403, "the token's role may not see this"),
                (404, "no such collection or feature"),
                (406, "cannot answer in the requested media type"),
                (405, "method not allowed (the Allow header lists the allowed ones)"),
                (409, "not allowed in the current state (e.g. an illegal stage change)"),
                (413, "the body is larger than the service accepts"),
                (429, "too many requests from this address (Retry-After says when to try again)"),
                (507, "storage is full: nothing was written (reads keep working)"),
            )
        },
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "token from the street office; none means public",
            },
            "sensorKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "a sensor key"},
        },
    }


def document(sources, server_url: str, default_limit: int, max_limit: int) -> dict:
    """The OpenAPI 3.0 document describing the landing page, conformance and every collection in `sources`."""
    paths = {
        "/": {
            "get": {
                "tags": ["service"],
                "summary": "landing page",
                "operationId": "landing",
                "parameters": [_ref("parameters", "f")],
                "responses": {"200": _json("landingPage"), **_errors(400, 406)},
            }
        },
        "/conformance": {
            "get": {
                "tags": ["service"],
                "summary": "conformance classes",
                "operationId": "conformance",
                "parameters": [_ref("parameters", "f")],
                "responses": {"200": _json("confClasses"), **_errors(400, 406)},
            }
        },
        "/openapi": {
            "get": {
                "tags": ["service"],
                "summary": "this document",
                "operationId": "openapi",
                "parameters": [_ref("parameters", "f")],
                "responses": {
                    "200": {
                        "description": "the OpenAPI document",
                        "content": {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/collections": {
            "get": {
                "tags": ["service"],
                "summary": "the collections the caller may see",
                "operationId": "collections",
                "parameters": [_ref("parameters", "f")],
                "responses": {"200": _json("collections"), **_errors(400, 401, 406)},
            }
        },
    }
    for s in sources:
        paths.update(_collection_paths(s))
        paths[f"/collections/{s.id}/queryables"] = _queryables_path(s)
    components = _components(default_limit, max_limit)
    for module in blueprint_docs():
        paths.update(module.paths())
        components["schemas"].update(getattr(module, "SCHEMAS", {}))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "社区数字孪生 Community digital twin – OGC API Features",
            "version": "1.0.0",
            "description": "Every layer of the street as OGC API – Features (Core, GeoJSON, OpenAPI 3.0). "
            "Personal fields reach staff and admin only; public and planner callers read "
            "households as counts per building or grid, with counts of 1–2 suppressed.",
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "security": [{}, {"bearer": []}],
        "tags": [{"name": "service"}] + [{"name": s.id, "description": s.title_en} for s in sources],
        "paths": paths,
        "components": components,
    }


def blueprint_docs() -> list:
    """The web.apidoc module of each registered blueprint that has one (one module per blueprint)."""
    from . import BLUEPRINTS

    names = [f"{__package__}.apidoc.{name}" for name in BLUEPRINTS if name != "features"]
    return [importlib.import_module(n) for n in names if importlib.util.find_spec(n) is not None]


def _queryables_path(s) -> dict:
    return {
        "get": {
            "tags": [s.id],
            "summary": f"{s.title_zh} {s.title_en}: the properties that may be filtered on (JSON Schema)",
            "operationId": f"queryables-{s.id}",
            "parameters": [_ref("parameters", "f")],
            "responses": {
                "200": {
                    "description": "JSON Schema of the queryable properties",
                    "content": {"application/schema+json": {"schema": {"type": "object", "required": ["properties"]}}},
                },
                "304": {"description": "not modified"},
                **_errors(400, 401, 403, 404, 406),
            },
        }
    }
