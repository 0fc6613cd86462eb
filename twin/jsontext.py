"""JSON sent by clients, read in one place: bounded nesting, valid UTF-8 text, InvalidInput for anything else."""

from __future__ import annotations

import json
import re

import numpy as np

from twin.errors import InvalidInput

MAX_DEPTH = 32  # GeoJSON needs at most 7 (FeatureCollection > Feature > MultiPolygon > ring > point)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (string contents ignored), without recursion."""
    skeleton = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "replace"), np.uint8)
    steps = np.isin(skeleton, _OPEN).astype(np.int32) - np.isin(skeleton, _CLOSE).astype(np.int32)
    return int(np.cumsum(steps).max()) if len(steps) else 0


def loads(raw: bytes | str, what: str = "the body", max_depth: int = MAX_DEPTH):
    """The JSON value in `raw`; InvalidInput when it is not UTF-8 JSON, nests deeper than `max_depth`, or holds
    text that is not valid Unicode (an unpaired surrogate such as "\\ud800")."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    depth = nesting_depth(raw)
    if depth > max_depth:
        raise InvalidInput(f"{what} nests arrays and objects {depth} deep; at most {max_depth} are accepted")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc}") from None
    check_unicode(value, what)
    return value


def check_unicode(value, what: str = "the body") -> None:
    """InvalidInput if any string (key or value) in the decoded JSON `value` cannot be written as UTF-8."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(x for x in v if not isinstance(x, (int, float)))
        elif isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(
                    f"{what} holds text with an unpaired surrogate ({v[:40]!r}); send valid Unicode"
                ) from None
