"""Every setting of the service, declared once with its default and help text (env var TWIN_<NAME>)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    """One setting: its name (as in Flask config), default, type and what it is for."""

    name: str
    default: object
    type: type
    help: str
    choices: tuple = ()  # allowed values of a text setting, compared ignoring case, '-' and '_'

    @property
    def env(self) -> str:
        return f"TWIN_{self.name}"


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", None, str, "Directory of the layer files; the built-in demo street (data/demo) when unset."),
    Setting(
        "STATE_DIR",
        None,
        str,
        "Directory of the SQLite database of live data; when unset, DATA_DIR, or for the built-in demo "
        "the user's state directory (~/.local/state/community-twin/demo on Linux).",
    ),
    Setting(
        "DATABASE_URL",
        "",
        str,
        "PostgreSQL + PostGIS database holding layers and live tables (postgresql://user@host/db); files and "
        "SQLite when empty. Fill it with `twin db init` and `twin db load DIR`.",
    ),
    Setting("OFFICE", "default", str, "Street office id of this twin's rows in a shared database (DATABASE_URL)."),
    Setting(
        "SYNC_SECONDS",
        2.0,
        float,
        "How often a web process takes in incidents and grid plans other processes wrote to the shared store "
        "(-1: never).",
    ),
    Setting("HOST", "127.0.0.1", str, "Address `twin serve` listens on."),
    Setting("PORT", 8000, int, "Port `twin serve` listens on."),
    Setting("THREADS", 8, int, "Worker threads of the WSGI server."),
    Setting(
        "CONNECTION_LIMIT",
        2000,
        int,
        "Most client connections `twin serve` holds open at once (idle, slow or busy); waitress's own default, 100, "
        "let 100 idle clients lock everyone else out.",
    ),
    Setting(
        "CHANNEL_TIMEOUT",
        30,
        int,
        "Seconds a client connection may stay silent (idle or half-sent) before it is closed.",
    ),
    Setting(
        "TOKENS",
        "",
        str,
        'Bearer tokens as JSON: a list of {"role": public|staff|planner|admin, "sha256": hex digest of the '
        'token (or "token": plain, hashed at start-up), "grids": [grid codes] for staff limited to grids, '
        '"name": who}.',
    ),
    Setting(
        "SENSOR_KEYS", "", str, "Comma-separated API keys (or sha256:HEX digests) accepted by the sensor endpoint."
    ),
    Setting(
        "DEADLINES",
        "",
        str,
        'JSON overriding incident time limits in seconds per category: {"*": {"accept": 60, "on_site": '
        '3600, "resolve": 86400}, "sos": {"on_site": 120}}.',
    ),
    Setting(
        "RISK_WEIGHTS", "", str, "JSON overriding the risk model's factor weights (see twin/risk.py for defaults)."
    ),
    Setting("REFRESH_SECONDS", 30, int, "How often the wall dashboard refreshes its data, in seconds."),
    Setting("TILE_URL", "", str, "Optional base-map tile URL template ({z}/{x}/{y}); no base map when empty."),
    Setting(
        "TILE_CRS",
        "wgs84",
        str,
        "Datum of the base-map tiles: wgs84 or gcj02 (GCJ-02 offset applied).",
        ("wgs84", "gcj02"),
    ),
    Setting("DEFAULT_LANG", "zh", str, "Language of pages when no ?lang= is given: zh or en.", ("zh", "en")),
    Setting(
        "REDRAW_BAND", 0.10, float, "Default tolerance band of grid loads for redraw, as a fraction (0.10 = ±10%)."
    ),
    Setting("REDRAW_WORKERS", 2, int, "Processes one grid redraw may use across communities (1 keeps it in-process)."),
    Setting(
        "DASK_SCHEDULER",
        "",
        str,
        "Address of a Dask distributed scheduler (tcp://host:8786): a redraw solves its communities there; "
        "in this machine's processes when empty.",
    ),
    Setting("REDRAW_QUEUE", 4, int, "Most redraw jobs waiting or running at once; more are refused with 409."),
    Setting("MAX_VERTICES", 100_000, int, "Largest number of vertices accepted in a query polygon."),
    Setting("PHOTO_MAX_BYTES", 12_000_000, int, "Largest photo upload accepted from the patrol page, in bytes."),
    Setting("PHOTO_MAX_PIXELS", 40_000_000, int, "Largest photo accepted, in pixels (larger ones are refused unread)."),
    Setting(
        "PUBLIC_MAX_VERTICES",
        5000,
        int,
        "Largest number of vertices in a query polygon from public and planner callers (staff and admin: "
        "MAX_VERTICES).",
    ),
    Setting("PUBLIC_MAX_AREA_KM2", 100.0, float, "Largest area, in km², that public and planner callers may query."),
    Setting(
        "AREA_RATE_PER_MINUTE",
        60,
        int,
        "Area queries per minute that one public or planner caller (by client address) may send; more get 429. "
        "0 turns the limit off.",
    ),
    Setting(
        "TIMEZONE",
        "Asia/Shanghai",
        str,
        "Time zone of the street office: day boundaries of care checks and report periods (weeks, months).",
    ),
    Setting(
        "HOTSPOT_RADIUS_M",
        50.0,
        float,
        "Repeat hotspots in reports: incidents of one category within this many metres (or in one building) "
        "are at the same place.",
    ),
    Setting(
        "HOTSPOT_MIN_COUNT",
        3,
        int,
        "Repeat hotspots in reports and the six-nos rating: at least this many same-place incidents.",
    ),
    Setting(
        "DEMO_REBASE",
        1,
        int,
        "1: when the incidents of the built-in demo (or of any `twin demo` output) are first imported, shift "
        "their times so the year ends at start-up (the wall dashboard shows a live today); "
        "0: keep the generated times.",
    ),
    Setting(
        "SECRET_KEY",
        "",
        str,
        "Key signing the session cookies of people who sign in; when empty one is generated and kept in "
        "STATE_DIR/secret_key, so sessions survive a restart.",
    ),
    Setting("SESSION_HOURS", 12, int, "How long a sign-in lasts, in hours (the session cookie's expiry)."),
    Setting(
        "LOGIN_MAX_FAILURES",
        10,
        int,
        "Wrong passwords in a row, per account and per address, at which sign-in is locked for LOGIN_LOCK_MINUTES.",
    ),
    Setting("LOGIN_LOCK_MINUTES", 15, int, "How long a locked account or address waits before it may try again."),
    Setting(
        "DUPLICATE_RADIUS_M",
        50.0,
        float,
        "A new report within this many metres of an open one of the same category is flagged as a possible duplicate.",
    ),
    Setting(
        "INTAKE_BATCH_MAX",
        500,
        int,
        "Most requests in one POST /open311/v2/requests/batch.json (the hotline's and grid app's forwarded tickets).",
    ),
    Setting("ALERT_POLL_SECONDS", 2, int, "How often open work-queue and dashboard pages ask for new alerts."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def defaults() -> dict:
    """Every setting at its default value."""
    return {s.name: s.default for s in SETTINGS}


def json_setting(name: str, raw, kind: type, shape: str):
    """The value of a JSON-valued setting (JSON text or already parsed), checked to be a `kind`; clear errors."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise InvalidInput(f"setting {name} is not valid JSON: {exc}") from None
    if not isinstance(value, kind):
        raise InvalidInput(f"setting {name} must be a JSON {shape}")
    return value


def markdown_table() -> str:
    """Every setting as a Markdown table (name, environment variable, default, meaning), as the README shows it."""
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "" if s.default in (None, "") else f"`{s.default}`"
        meaning = s.help.replace("|", r"\|")
        rows.append(f"| `{s.name}` | `{s.env}` | {default} | {meaning} |")
    return "\n".join(rows)


def load(overrides: dict | None = None, environ: dict | None = None, config_file: str | Path | None = None) -> dict:
    """Settings from defaults, then a JSON config file, then TWIN_* environment variables, then `overrides`."""
    values = defaults()
    environ = os.environ if environ is None else environ
    config_file = config_file or environ.get("TWIN_CONFIG")
    if config_file:
        try:
            data = json.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read config file {config_file}: {exc}") from exc
        for k, v in data.items():
            name = _known(k)
            values[name] = _cast(_BY_NAME[name], v)
    for s in SETTINGS:
        if s.env in environ:
            values[s.name] = _cast(s, environ[s.env])
    for k, v in (overrides or {}).items():
        name = k.upper()
        values[name] = _cast(_BY_NAME[name], v) if name in _BY_NAME and v is not None else v
    return values


def _known(key: str) -> str:
    name = key.upper()
    if name not in _BY_NAME:
        raise InvalidInput(f"unknown setting {key!r}; known: {', '.join(_BY_NAME)}")
    return name


def _cast(s: Setting, v):
    if v is None:
        return v
    if s.choices:
        return _choice(s, v)
    if isinstance(v, s.type):
        return v
    if s.type is str and isinstance(v, (dict, list)):
        return json.dumps(v)
    try:
        return s.type(v)
    except (TypeError, ValueError):
        raise InvalidInput(f"setting {s.name} must be a {s.type.__name__}, not {v!r}") from None


def _choice(s: Setting, v) -> str:
    key = str(v).strip().lower().replace("-", "").replace("_", "")
    if key not in s.choices:
        raise InvalidInput(f"setting {s.name} must be one of {', '.join(s.choices)}, not {v!r}")
    return key
