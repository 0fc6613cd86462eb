"""OpenAPI of the search blueprint: places, incidents and (for staff of the grid) household rooms by what is typed."""

from __future__ import annotations

from . import LANG, STRING, errors, obj, ok, op, query

TAG = "search"
RESULT = obj(
    {
        "kind": {"type": "string", "enum": ["community", "compound", "grid", "building", "household", "incident"]},
        "kind_label": STRING,
        "id": STRING,
        "label": STRING,
        "sub": STRING,
        "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "building_id": STRING,
    },
    ("kind", "id", "label", "bbox"),
)


def paths() -> dict:
    """/api/search."""
    return {
        "/api/search": {
            "get": op(
                "search",
                TAG,
                "names, codes, pinyin initials, incident numbers and (staff of the grid) rooms such as 3-2-501",
                {
                    **ok(obj({"q": STRING, "results": {"type": "array", "items": RESULT}}, ("q", "results"))),
                    **errors(400, 401),
                },
                params=[
                    query("q", {"type": "string", "minLength": 1, "maxLength": 200}, "what was typed", True),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": 50}, "most results (10)"),
                    LANG,
                ],
            )
        }
    }
