"""Validation of a new incident's fields: every problem is an InvalidInput naming the field; nothing is stored."""

from __future__ import annotations

import logging
import math
import re
import threading
import time

from twin.errors import InvalidInput, TwinError
from twin.vocab import ESCALATION_LEVELS, INCIDENT_CATEGORIES, INCIDENT_SOURCES

log = logging.getLogger(__name__)

DESCRIPTION_MAX = 4000
SHORT_MAX = 200
URL_MAX = 2000
# Text is kept verbatim ("3<5", "<script>" alike) and escaped by every output (pages, XML, CSV/XLSX).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab, newline, CR (XML 1.0 refuses them)
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # only unpaired ones survive decoding; UTF-8 cannot store them
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_PHONE = re.compile(r"\+?[0-9][0-9 \-]{4,30}")
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)

# Higher is more urgent (0-9); SOS first. Categories not listed get DEFAULT_PRIORITY.
PRIORITY = {
    "sos": 9,
    "care_visit": 8,
    "fire_hazard": 7,
    "flying_line_charging": 6,
    "security": 6,
    "subsidence": 6,
    "water_leak": 5,
    "elevator": 5,
    "manhole": 5,
    "heating_pipe": 4,
}
DEFAULT_PRIORITY = 3
INTERNAL = ("care_visit",)  # opened by the care checks, not by the public
FILEABLE = frozenset(INCIDENT_CATEGORIES) - set(INTERNAL)  # the categories the public may file
# the sources a forwarding system (12345 hotline, grid app) may name for a batch; devices have their own endpoint
FORWARDED_SOURCES = frozenset(("hotline_12345", "hotline_local", "patrol", "app", "visit"))
TEXT_FIELDS = ("description", "contact_name", "contact_phone", "contact_email", "media_url")
OUTSIDE = "the point is outside the street's communities"
ERRORS_IN_MESSAGE = 5  # a batch's message quotes this many of its bad items; details list all of them
LOG_SECONDS = 60.0


def priority_of(category: str) -> int:
    """Default priority of a category (SOS 9 … routine 3)."""
    return PRIORITY.get(category, DEFAULT_PRIORITY)


def coordinate(value, name: str, lo: float, hi: float) -> float:
    """A finite number within [lo, hi] from `value` (text or number), else InvalidInput naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{name} is required", field=name)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, not {str(value)[:40]!r}", field=name) from None
    if isinstance(value, bool) or not math.isfinite(x) or not lo <= x <= hi:
        raise InvalidInput(f"{name} must be a number in [{lo:g}, {hi:g}]", field=name)
    return x


def choice(value, allowed, name: str, hint: str = "") -> str:
    """`value` if it is one of the codes in `allowed`, else InvalidInput naming the field (never a TypeError)."""
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"unknown {name} {str(value)[:40]!r}{hint}", field=name)
    return value


def text(value, name: str, limit: int) -> str | None:
    """Stripped text of at most `limit` characters, kept verbatim (outputs escape it); None when empty."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidInput(f"{name} is {len(value)} characters; at most {limit} are accepted", field=name, limit=limit)
    if _SURROGATE.search(value):
        raise InvalidInput(f"{name} holds an unpaired surrogate; send valid Unicode text", field=name)
    if _CONTROL.search(value):
        raise InvalidInput(f"{name} contains control characters; send plain text", field=name)
    return value


def clean(fields: dict) -> dict:
    """The validated, normalised fields of a new incident (position not yet checked against the street)."""
    unknown = set(fields) - {
        "category",
        "source",
        "description",
        "lon",
        "lat",
        "household_id",
        "media_url",
        "contact_name",
        "contact_phone",
        "contact_email",
        "priority",
        "level",
    }
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    category = choice(fields.get("category"), INCIDENT_CATEGORIES, "category", "; see the service list")
    source = choice(fields.get("source") or "app", INCIDENT_SOURCES, "source")
    level = choice(fields.get("level") or "grid", ESCALATION_LEVELS, "level")
    out = {
        "category": category,
        "source": source,
        "level": level,
        "description": text(fields.get("description"), "description", DESCRIPTION_MAX),
        "contact_name": text(fields.get("contact_name"), "contact_name", SHORT_MAX),
        "contact_phone": text(fields.get("contact_phone"), "contact_phone", SHORT_MAX),
        "contact_email": text(fields.get("contact_email"), "contact_email", SHORT_MAX),
        "media_url": text(fields.get("media_url"), "media_url", URL_MAX),
        "household_id": text(fields.get("household_id"), "household_id", SHORT_MAX),
    }
    if out["contact_email"] and not _EMAIL.fullmatch(out["contact_email"]):
        raise InvalidInput("contact_email is not an e-mail address", field="contact_email")
    if out["contact_phone"] and not _PHONE.fullmatch(out["contact_phone"]):
        raise InvalidInput("contact_phone must be digits (with an optional leading +)", field="contact_phone")
    if out["media_url"] and not _URL.fullmatch(out["media_url"]):
        raise InvalidInput("media_url must be an http(s) URL", field="media_url")
    p = fields.get("priority")
    if p is None or p == "":
        out["priority"] = priority_of(category)
    else:
        out["priority"] = int(coordinate(p, "priority", 0, 9))
        if out["priority"] != float(p):
            raise InvalidInput("priority must be a whole number from 0 to 9", field="priority")
    has_point = fields.get("lon") is not None or fields.get("lat") is not None
    if has_point or not out["household_id"]:
        out["lon"] = coordinate(fields.get("lon"), "lon", -180, 180)
        out["lat"] = coordinate(fields.get("lat"), "lat", -90, 90)
    return out


def batch_error(problems: list[tuple[int, TwinError]], total: int) -> InvalidInput:
    """One InvalidInput for a batch: details.errors = [{index, field, message}] of every bad item, in order."""
    errors = [{"index": i, "field": exc.details.get("field"), "message": exc.message} for i, exc in problems]
    quoted = "; ".join(f"item {e['index']}: {e['message']}" for e in errors[:ERRORS_IN_MESSAGE])
    more = f"; and {len(errors) - ERRORS_IN_MESSAGE} more" if len(errors) > ERRORS_IN_MESSAGE else ""
    return InvalidInput(
        f"{len(errors)} of {total} items are invalid and nothing was stored: {quoted}{more}",
        index=errors[0]["index"],
        field=errors[0]["field"],
        errors=errors,
    )


class IntakeLog:
    """Counts reported incidents and logs the count at INFO at most every LOG_SECONDS (each one goes to DEBUG):
    a line per report cost a busy intake more than its placement."""

    def __init__(self, logger: logging.Logger, seconds: float = LOG_SECONDS):
        self.logger, self.seconds = logger, seconds
        self._lock = threading.Lock()
        self._count, self._since = 0, time.monotonic()

    def add(self, n: int) -> None:
        """Count `n` new reports; log the count once the interval has passed."""
        with self._lock:
            self._count += n
            now = time.monotonic()
            if now - self._since < self.seconds:
                return
            count, since, self._count, self._since = self._count, self._since, 0, now
        self.logger.info("%d incident(s) reported in the last %.0f s", count, now - since)
