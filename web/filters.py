"""OGC API – Features Part 3 basics: queryables (JSON Schema) and `filter` in CQL2 text, parsed by pygeofilter.

Only fields a collection lets anyone filter on are queryable (declared, non-personal, simple types, not suppressed
counts), so neither the schema nor a filter can reveal a personal field. Supported: comparisons (=, <>, <, <=, >,
>=), BETWEEN, IN, IS NULL, AND, OR, NOT, each between a queryable property and a literal.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
from pygeofilter import ast

from twin.errors import InvalidInput

MAX_FILTER_CHARS = 2000
CQL2_TEXT = "cql2-text"
_JSON_TYPES = {"str": "string", "int": "integer", "bool": "boolean"}
_COMPARE = {
    ast.Equal: operator.eq,
    ast.NotEqual: operator.ne,
    ast.LessThan: operator.lt,
    ast.LessEqual: operator.le,
    ast.GreaterThan: operator.gt,
    ast.GreaterEqual: operator.ge,
}
SUPPORTED = "comparisons (= <> < <= > >=), BETWEEN, IN, IS NULL, AND, OR and NOT between a property and a literal"


def queryables(fields: dict, schema_id: str, title: str) -> dict:
    """The JSON Schema of the properties that may be filtered on (`fields`: name → twin.schema.Field)."""
    props = {}
    for name, f in fields.items():
        prop = {"title": f.zh or name, "description": f.en or name, "type": _JSON_TYPES[f.dtype]}
        if f.choices:
            prop["enum"] = list(f.choices)
        props[name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "type": "object",
        "title": title,
        "properties": props,
        "additionalProperties": False,
    }


def parse_filter(args, fields: dict):
    """The `filter` query parameter as a checked pygeofilter AST, None when absent; 400 for anything unusable."""
    raw = args.get("filter")
    lang = args.get("filter-lang", CQL2_TEXT)
    if lang != CQL2_TEXT:
        raise InvalidInput(f"filter-lang must be {CQL2_TEXT}, not {lang[:40]!r}", parameter="filter-lang")
    if raw is None:
        return None
    if len(raw) > MAX_FILTER_CHARS:
        raise InvalidInput(f"filter is longer than {MAX_FILTER_CHARS} characters", parameter="filter")
    from pygeofilter.parsers.cql2_text import parse

    try:
        node = parse(raw)
    except RecursionError:
        raise InvalidInput("filter is nested too deeply", parameter="filter") from None
    except Exception as exc:  # lark's syntax errors and pygeofilter's value errors alike
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"filter is not valid CQL2 text: {first[:200]}", parameter="filter") from None
    _check(node, fields)
    return node


def _check(node, fields: dict) -> None:
    if isinstance(node, (ast.And, ast.Or)):
        _check(node.lhs, fields)
        _check(node.rhs, fields)
    elif isinstance(node, ast.Not):
        _check(node.sub_node, fields)
    elif isinstance(node, tuple(_COMPARE)):
        f = _property(node.lhs, fields)
        _literal(f, node.rhs, compare=type(node) not in (ast.Equal, ast.NotEqual))
    elif isinstance(node, ast.Between):
        f = _property(node.lhs, fields)
        _literal(f, node.low, compare=True)
        _literal(f, node.high, compare=True)
    elif isinstance(node, ast.In):
        f = _property(node.lhs, fields)
        for v in node.sub_nodes:
            _literal(f, v, compare=False)
    elif isinstance(node, ast.IsNull):
        _property(node.lhs, fields)
    else:
        raise InvalidInput(f"filter: {type(node).__name__} is not supported; this server takes {SUPPORTED}")


def _property(node, fields: dict):
    if not isinstance(node, ast.Attribute):
        raise InvalidInput(
            f"filter: the left side of each comparison must be a property name; this server takes {SUPPORTED}",
            parameter="filter",
        )
    f = fields.get(node.name)
    if f is None:
        raise InvalidInput(
            f"filter: {node.name!r} is not queryable here; see queryables: {', '.join(fields) or 'none'}",
            parameter="filter",
            property=node.name,
        )
    return f


def _literal(f, value, compare: bool) -> None:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool) and not compare,
        "str": isinstance(value, str),
    }[f.dtype]
    if not ok:
        want = {"int": "a whole number", "bool": "TRUE or FALSE (with = or <>)", "str": "a 'quoted' string"}[f.dtype]
        raise InvalidInput(f"filter: {f.name} takes {want}, not {value!r}", parameter="filter", property=f.name)
    if f.choices and not compare and value not in f.choices:
        raise InvalidInput(
            f"filter: {f.name} must be one of {', '.join(map(str, f.choices))}, not {value!r}",
            parameter="filter",
            property=f.name,
        )


def properties(node) -> list[str]:
    """The property names a checked filter reads, each once."""
    if isinstance(node, (ast.And, ast.Or)):
        return list(dict.fromkeys(properties(node.lhs) + properties(node.rhs)))
    if isinstance(node, ast.Not):
        return properties(node.sub_node)
    return [node.lhs.name]


def keep(node, frame: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """The positions of `pos` whose rows of `frame` satisfy the checked filter `node` (None keeps all)."""
    if node is None or not len(pos):
        return pos
    return pos[_mask(node, frame, pos)]


def _mask(node, frame: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    if isinstance(node, ast.And):
        return _mask(node.lhs, frame, pos) & _mask(node.rhs, frame, pos)
    if isinstance(node, ast.Or):
        return _mask(node.lhs, frame, pos) | _mask(node.rhs, frame, pos)
    if isinstance(node, ast.Not):
        return ~_mask(node.sub_node, frame, pos)
    col = frame[node.lhs.name].iloc[pos]
    present = col.notna().to_numpy(dtype=bool)
    if isinstance(node, ast.IsNull):
        return present if node.not_ else ~present
    values = col.to_numpy(dtype=object)
    out = np.zeros(len(pos), dtype=bool)  # a missing value satisfies no comparison (as in SQL)
    got = values[present]
    if isinstance(node, ast.Between):
        hit = np.array([node.low <= v <= node.high for v in got], dtype=bool)
        out[present] = ~hit if node.not_ else hit
    elif isinstance(node, ast.In):
        wanted = set(node.sub_nodes)
        hit = np.array([v in wanted for v in got], dtype=bool)
        out[present] = ~hit if node.not_ else hit
    else:
        out[present] = np.array([_COMPARE[type(node)](v, node.rhs) for v in got], dtype=bool)
    return out
