"""OpenAPI of the sensors blueprint: water-meter leaks, wristband SOS and camera events (X-API-Key)."""

from __future__ import annotations

from . import NSTRING, NUMBER, STRING, errors, json_body, obj, ok, op, ref

EVENT = obj(
    {
        "type": {"type": "string", "enum": ["water_leak", "sos", "camera"]},
        "device_id": {"type": "string", "minLength": 1, "maxLength": 100},
        "household_id": STRING,
        "lon": NUMBER,
        "lat": NUMBER,
        "category": STRING,
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "note": {"type": "string", "maxLength": 1000},
    },
    ("type", "device_id"),
)
SCHEMAS = {
    "sensorEvent": EVENT,
    "sensorBatch": obj(
        {"events": {"type": "array", "items": ref("schemas", "sensorEvent"), "minItems": 1, "maxItems": 500}},
        ("events",),
    ),
}


def paths() -> dict:
    """/api/sensors/events."""
    made = obj({"incident_id": STRING, "category": STRING, "grid_code": NSTRING, "worker": NSTRING})
    return {
        "/api/sensors/events": {
            "post": op(
                "sensor-events",
                "sensors",
                "store one event or a batch: all validated first, then the most urgent first; 201 with the incidents",
                {
                    **ok(obj({"incidents": {"type": "array", "items": made}}, ("incidents",)), status=201),
                    **errors(400, 401, 413),
                },
                body=json_body(
                    {"oneOf": [ref("schemas", "sensorEvent"), ref("schemas", "sensorBatch")]},
                    "one event object or {events: [...]}",
                ),
                security=[{"sensorKey": []}],
            )
        }
    }
