"""Sensor intake: water-meter leaks, wristband SOS with a position, camera recognition; an API key; SOS first."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pandas as pd
from flask import Blueprint, current_app, jsonify, request

from twin.errors import InvalidInput, Unauthorized
from twin.incidents.intake import coordinate, text
from twin.times import iso_column

from .http import body
from .incident_http import possible_duplicates, service

log = logging.getLogger(__name__)

bp = Blueprint("sensors", __name__)

# event type -> (category, source); a camera names what it recognised in `category`.
EVENT_TYPES = {"water_leak": ("water_leak", "sensor"), "sos": ("sos", "sensor"), "camera": (None, "camera")}
CAMERA_CATEGORIES = ("garbage", "illegal_structure", "flying_line_charging", "fire_hazard", "parking", "security")
MAX_EVENTS = 500
DESCRIPTIONS = {
    "water_leak": "超声波水表检测到异常持续流量，疑似漏水（设备 {device}）",
    "sos": "智能手环紧急呼救（设备 {device}）",
    "camera": "AI摄像头识别：{category}（设备 {device}，置信度 {confidence}）",
}


def sensor_keys() -> set[str]:
    """sha256 digests of the accepted API keys (SENSOR_KEYS: plain keys or sha256:HEX, comma separated)."""
    cached = current_app.extensions.get("sensor_keys")
    if cached is None:
        cached = set()
        for k in (current_app.config.get("SENSOR_KEYS") or "").split(","):
            k = k.strip()
            if k:
                cached.add(k[7:].lower() if k.startswith("sha256:") else hashlib.sha256(k.encode()).hexdigest())
        current_app.extensions["sensor_keys"] = cached
    return cached


def check_key() -> None:
    """Unauthorized unless the X-API-Key header holds one of the configured sensor keys."""
    key = request.headers.get("X-API-Key", "")
    digest = hashlib.sha256(key.encode()).hexdigest()
    if not key or not any(hmac.compare_digest(digest, k) for k in sensor_keys()):
        raise Unauthorized("send a valid sensor API key in the X-API-Key header")


def to_fields(event, i: int) -> dict:
    """The incident fields of one sensor event; InvalidInput naming the event and field."""
    if not isinstance(event, dict):
        raise InvalidInput(f"event {i} is not a JSON object", event=i)
    kind = event.get("type")
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise InvalidInput(f"event {i}: type must be one of {', '.join(EVENT_TYPES)}", event=i, field="type")
    category, source = EVENT_TYPES[kind]
    device = text(event.get("device_id"), "device_id", 100)
    if not device:
        raise InvalidInput(f"event {i}: device_id is required", event=i, field="device_id")
    confidence = None
    if kind == "camera":
        category = event.get("category")
        if category not in CAMERA_CATEGORIES:
            raise InvalidInput(
                f"event {i}: a camera event's category must be one of {', '.join(CAMERA_CATEGORIES)}",
                event=i,
                field="category",
            )
        confidence = coordinate(event.get("confidence", 1), "confidence", 0, 1)
    fields = {
        "category": category,
        "source": source,
        "household_id": event.get("household_id"),
        "description": DESCRIPTIONS[kind].format(
            device=device, category=category, confidence=f"{confidence:.2f}" if confidence else ""
        ),
    }
    note = text(event.get("note"), "note", 1000)
    if note:
        fields["description"] += f"：{note}"
    if event.get("lon") is not None or event.get("lat") is not None or not event.get("household_id"):
        fields["lon"] = event.get("lon")
        fields["lat"] = event.get("lat")
    return fields


@bp.post("/api/sensors/events")
def events():
    """Store one event (a JSON object) or a batch {"events": [...]}: all validated first, then most urgent first."""
    check_key()
    data = body(limit=MAX_EVENTS * 2048)
    items = data.get("events") if "events" in data else [data]
    if not isinstance(items, list) or not items:
        raise InvalidInput("events must be a non-empty list of event objects", field="events")
    if len(items) > MAX_EVENTS:
        raise InvalidInput(f"at most {MAX_EVENTS} events per request", field="events")
    s = service()
    made = s.create_many([to_fields(e, i) for i, e in enumerate(items)], actor=f"sensor:{request.remote_addr}")
    expected = iso_column(s.timeliness(pd.DataFrame(made))["next_due"], s.timezone)
    out = []
    for r, due, near in zip(made, expected, possible_duplicates(s, made)):
        w = s.worker(r["grid_code"])
        out.append(
            {
                "incident_id": r["incident_id"],
                "category": r["category"],
                "priority": r["priority"],
                "grid_code": r["grid_code"],
                "building_id": r["building_id"],
                "worker": w["worker"] if w else None,
                "expected_datetime": due,
                "possible_duplicates": near,
            }
        )
    resp = jsonify({"incidents": out})
    resp.status_code = 201
    return resp
