"""Open311 GeoReport v2 intake under /open311/v2/, and staff actions on incidents under /api/incidents/."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request

from twin.access import may_see_contact, may_see_incidents
from twin.errors import InvalidInput
from twin.incidents import listing
from twin.incidents.intake import FILEABLE, FORWARDED_SOURCES, SHORT_MAX, choice, coordinate, text
from twin.incidents.timeliness import DONE_STAGES
from twin.times import iso, iso_column, to_utc
from twin.vocab import CATEGORY_GROUPS, ESCALATION_LEVELS, INCIDENT_CATEGORIES, INCIDENT_STAGES, SIX_NOS, label

from .auth import current_principal, require
from .http import body, lang, read_json
from .incident_http import incident_for_caller, possible_duplicates, service, shown_to_caller

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__)

PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
DEFAULT_WINDOW = pd.Timedelta(days=90)  # GeoReport v2: without dates, the most recent 90 days
BATCH_ITEM_BYTES = 32 * 1024  # a 4,000-character description written as \\uXXXX escapes is 24 KB
TIMES = ("reported_at", "accepted_at", "on_site_at", "resolved_at", "closed_at")


# --- services ------------------------------------------------------------------------------------------------
@bp.get("/open311/v2/services.json")
def services():
    """The category taxonomy as GeoReport services (Chinese names unless ?lang=en)."""
    lg = lang()
    i = 0 if lg == "zh" else 1
    out = []
    for code, (zh, en, group, six) in INCIDENT_CATEGORIES.items():
        if code not in FILEABLE:
            continue
        desc = (zh, en)[i]
        if six:
            desc += f"（六无：{SIX_NOS[six][0]}）" if lg == "zh" else f" (six-nos: {SIX_NOS[six][1]})"
        out.append(
            {
                "service_code": code,
                "service_name": (zh, en)[i],
                "description": desc,
                "metadata": False,
                "type": "realtime",
                "keywords": code.replace("_", ","),
                "group": CATEGORY_GROUPS[group][i],
            }
        )
    return jsonify(out)


@bp.get("/open311/v2/services/<code>.json")
def service_definition(code):
    """GeoReport service definition: no extra attributes for any service."""
    if code not in FILEABLE:
        raise InvalidInput(f"unknown service_code {code!r}", field="service_code")
    return jsonify({"service_code": code, "attributes": []})


# --- requests ------------------------------------------------------------------------------------------------
@bp.post("/open311/v2/requests.json")
def post_request():
    """File a service request: lat, long, service_code, description (≤ 4,000), media_url, optional contact."""
    s = service()
    row = s.create(request_fields(body()), actor=current_principal().name)
    resp = jsonify([acknowledgement(s, row, lang(), possible_duplicates(s, [row])[0])])
    resp.status_code = 201
    return resp


@bp.post("/open311/v2/requests/batch.json")
@require("staff", "admin")
def post_batch():
    """File up to INTAKE_BATCH_MAX requests at once (a JSON array of requests.json's fields, plus an optional
    `source`): every one is checked first; any bad one is a 400 naming each bad item's index and field, and nothing
    is stored; else all are stored in one transaction and answered after the commit, ids in the array's order."""
    limit = max(1, int(current_app.config.get("INTAKE_BATCH_MAX") or 500))
    items = read_json(limit * BATCH_ITEM_BYTES, "the batch")
    if not isinstance(items, list):
        raise InvalidInput("send a JSON array of requests, each an object with the fields of requests.json")
    if not items:
        raise InvalidInput("the batch is empty: send at least one request")
    if len(items) > limit:
        raise InvalidInput(f"at most {limit} requests per batch, not {len(items)}; split it", limit=limit)
    fields = []
    for item in items:
        try:
            fields.append(request_fields(item, FORWARDED_SOURCES))
        except InvalidInput as exc:  # handed on, so every item's problems are reported together
            fields.append(exc)
    s, lg = service(), lang()
    rows = s.create_many(fields, actor=current_principal().name, urgent_first=False)
    found = possible_duplicates(s, rows)
    resp = jsonify([acknowledgement(s, row, lg, near) for row, near in zip(rows, found)])
    resp.status_code = 201
    return resp


def request_fields(f, sources=None) -> dict:
    """The incident fields of one GeoReport request (form or JSON object); InvalidInput naming the bad field.
    With `sources`, the request may name its `source` among them (a forwarding system's batch)."""
    if not isinstance(f, dict):
        raise InvalidInput("a request must be an object of fields")
    lat = coordinate(f.get("lat"), "lat", -90, 90)
    lon = coordinate(f.get("long"), "long", -180, 180)
    code = choice(f.get("service_code"), FILEABLE, "service_code", "; see services.json")
    name = " ".join(filter(None, (text(f.get(k), k, SHORT_MAX) for k in ("first_name", "last_name"))))
    return {
        "category": code,
        "lon": lon,
        "lat": lat,
        "source": choice(f.get("source") or "app", sources, "source") if sources else "app",
        "description": f.get("description"),
        "media_url": f.get("media_url"),
        "contact_name": name or None,
        "contact_phone": f.get("phone"),
        "contact_email": f.get("email"),
    }


def acknowledgement(s, row: dict, lg: str, duplicates: list[str]) -> dict:
    """The GeoReport answer to one filed request: its id, where it went, its possible duplicates."""
    worker = s.worker(row["grid_code"])
    # a new request's next limit is acceptance; timeliness() would say the same at ~100x the cost of this lookup
    within = _minutes(s.deadlines.seconds(row["category"], "accept"))
    where = worker["grid_name"] if worker else ("街道" if lg == "zh" else "the street office")
    notice = (
        f"已派至{where}，{within}分钟内受理"
        if lg == "zh"
        else f"Sent to {where}; it will be accepted within {within} min"
    )
    item = {"service_request_id": row["incident_id"], "service_notice": notice, "account_id": None}
    item["possible_duplicates"] = duplicates  # extension: open reports of the same kind nearby
    return item


def _minutes(seconds: float) -> str:
    m = seconds / 60
    return f"{m:g}" if m < 10 else f"{round(m)}"


@bp.get("/open311/v2/requests.json")
def get_requests():
    """Requests filtered by service_request_id, service_code, status, start_date/end_date; paged (page, page_size)."""
    s = service()
    s.refresh()  # a list read through this process shows what the others wrote too
    a = request.args
    ids = _csv(a.get("service_request_id"))
    page = _int(a.get("page"), "page", 1, 1, 10**9)
    size = _int(a.get("page_size"), "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if ids:
        rows = s.rows(s.positions_of(ids))
        rows = rows[shown_to_caller(rows)].sort_values(["reported_at", "incident_id"], ascending=False)
        chunk, total = rows.iloc[(page - 1) * size : page * size], len(rows)
    else:
        end = _date(a.get("end_date"), "end_date")
        start = _date(a.get("start_date"), "start_date")
        if start is None and end is None:
            end = s.now() + pd.Timedelta(seconds=1)
        if start is None:
            start = end - DEFAULT_WINDOW
        if end is None:
            end = start + DEFAULT_WINDOW
        codes = _csv(a.get("service_code"))
        unknown = [c for c in codes if c not in INCIDENT_CATEGORIES]
        if unknown:
            raise InvalidInput(f"unknown service_code {unknown[0]!r}", field="service_code")
        status = _csv(a.get("status"))
        if set(status) - {"open", "closed"}:
            raise InvalidInput("status must be open, closed or both (comma separated)", field="status")
        chunk, total = listing.page(
            s,
            start=start,
            end=end + pd.Timedelta(milliseconds=1),
            status=status[0] if len(set(status)) == 1 else None,
            categories=codes or None,
            may_see=lambda categories, grids: may_see_incidents(current_principal(), categories, grids),
            page=page,
            size=size,
        )
    resp = jsonify(to_requests(chunk, s))
    resp.headers["X-Total-Count"] = str(total)
    return resp


@bp.get("/open311/v2/requests/<incident_id>.json")
def get_request(incident_id):
    """One request, as an array of one (GeoReport v2)."""
    row = incident_for_caller(incident_id)
    return jsonify(to_requests(pd.DataFrame([row]), service()))


def to_requests(frame: pd.DataFrame, s) -> list[dict]:
    """GeoReport v2 request objects for the rows of `frame`, richer stages in status_notes and `extended_attributes`."""
    if not len(frame):
        return []
    lg, tz = lang(), s.timezone
    t = s.timeliness(frame)
    when = {c: iso_column(frame[c], tz) for c in TIMES}
    updated = iso_column(frame[list(TIMES)].max(axis=1), tz)
    expected = iso_column(t["next_due"], tz)
    overdue, overdue_limit = t["overdue"].tolist(), t["overdue_limit"].tolist()
    workers: dict = {}
    caller = current_principal()
    out = []
    for i, r in enumerate(frame.to_dict("records")):
        stage, level = r["stage"], r.get("level") or "grid"
        gc = r.get("grid_code")
        worker = workers[gc] if gc in workers else workers.setdefault(gc, s.worker(gc))
        if level == "grid":
            agency = worker["grid_name"] if worker else label(ESCALATION_LEVELS, level, lg)
        else:
            agency = label(ESCALATION_LEVELS, level, lg)
        notes = label(INCIDENT_STAGES, stage, lg)
        if level != "grid":
            notes += (
                f"；已升级至{label(ESCALATION_LEVELS, level, lg)}"
                if lg == "zh"
                else f"; escalated to {label(ESCALATION_LEVELS, level, lg).lower()}"
            )
        if overdue[i]:
            notes += "；已超时" if lg == "zh" else "; overdue"
        item = {
            "service_request_id": r["incident_id"],
            "status": "closed" if stage in DONE_STAGES else "open",
            "status_notes": notes,
            "service_name": label(INCIDENT_CATEGORIES, r["category"], lg),
            "service_code": r["category"],
            "description": r["description"],
            "agency_responsible": agency,
            "service_notice": None,
            "requested_datetime": when["reported_at"][i],
            "updated_datetime": updated[i],
            "expected_datetime": expected[i],
            "address": None,
            "address_id": r.get("building_id"),
            "zipcode": None,
            "lat": float(r["lat"]),
            "long": float(r["lon"]),
            "media_url": r.get("media_url"),
            "extended_attributes": {
                "stage": stage,
                "stage_name": label(INCIDENT_STAGES, stage, lg),
                "level": level,
                "priority": _num(r.get("priority")),
                "source": r.get("source"),
                "rating": _num(r.get("rating")),
                "overdue": bool(overdue[i]),
                "overdue_limit": overdue_limit[i],
                "grid_code": gc,
                "community_id": r.get("community_id"),
                "compound_id": r.get("compound_id"),
                "building_id": r.get("building_id"),
                "worker": worker["worker"] if worker else None,
                "accepted_datetime": when["accepted_at"][i],
                "on_site_datetime": when["on_site_at"][i],
                "resolved_datetime": when["resolved_at"][i],
                "closed_datetime": when["closed_at"][i],
            },
        }
        if may_see_contact(caller, r.get("grid_code")):
            item["extended_attributes"].update(
                contact_name=r.get("contact_name"),
                contact_phone=r.get("contact_phone"),
                contact_email=r.get("contact_email"),
                household_id=r.get("household_id"),
            )
        out.append(item)
    return follow_duplicates(out, s)


def follow_duplicates(items: list[dict], s) -> list[dict]:
    """A request closed as a duplicate shows its original's status and progress (extension: duplicate_of)."""
    links = s.duplicates.original
    for item in items:
        original = links.get(item["service_request_id"])
        if original is None:
            continue
        [o] = to_requests(pd.DataFrame([s.get(original)]), s)
        lg = lang()
        item["status"], item["expected_datetime"] = o["status"], o["expected_datetime"]
        item["status_notes"] = o["status_notes"] + (
            f"；与工单{original}合并处理" if lg == "zh" else f"; handled with request {original}"
        )
        item["extended_attributes"]["duplicate_of"] = original
        item["extended_attributes"]["original_stage"] = o["extended_attributes"]["stage"]
    return items


def _num(v):
    return None if v is None or pd.isna(v) else int(v)


def _csv(value) -> list[str]:
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def _date(value, name: str):
    if not value:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a W3C date-time such as 2026-01-01T00:00:00Z", field=name) from None
    if ts is pd.NaT:
        raise InvalidInput(f"{name} must be a W3C date-time", field=name)
    return to_utc(ts)


def _int(value, name: str, default: int, lo: int, hi: int) -> int:
    if value in (None, ""):
        return default
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number", field=name) from None
    if not lo <= v <= hi:
        raise InvalidInput(f"{name} must be in [{lo}, {hi}]", field=name)
    return v


# --- XML, GeoReport v2's other format: each .xml route re-encodes its .json twin; errors stay the JSON body ---
def as_xml(resp: Response, root: str, item: str | None) -> Response:
    """The JSON response `resp` as GeoReport XML: <root><item>…</item>…</root> (or <root>…</root>), same status."""
    data = resp.get_json()
    top = ET.Element(root)
    for d in data if item else [data]:
        _fill(ET.SubElement(top, item) if item else top, d)
    out = Response(
        ET.tostring(top, encoding="utf-8", xml_declaration=True), status=resp.status_code, mimetype="text/xml"
    )
    if "X-Total-Count" in resp.headers:
        out.headers["X-Total-Count"] = resp.headers["X-Total-Count"]
    return out


def _fill(el, d: dict) -> None:
    for k, v in d.items():
        sub = ET.SubElement(el, k)
        if isinstance(v, dict):
            _fill(sub, v)
        elif isinstance(v, list):  # a service definition's attributes
            for a in v:
                _fill(ET.SubElement(sub, "attribute"), a)
        elif isinstance(v, bool):
            sub.text = "true" if v else "false"
        elif v is not None:
            sub.text = str(v)


@bp.get("/open311/v2/services.xml")
def services_xml():
    """services.json as XML."""
    return as_xml(services(), "services", "service")


@bp.get("/open311/v2/services/<code>.xml")
def service_definition_xml(code):
    """A service definition as XML."""
    return as_xml(service_definition(code), "service_definition", None)


@bp.post("/open311/v2/requests.xml")
def post_request_xml():
    """File a request; the answer as XML."""
    return as_xml(post_request(), "service_requests", "request")


@bp.get("/open311/v2/requests.xml")
def get_requests_xml():
    """requests.json as XML."""
    return as_xml(get_requests(), "service_requests", "request")


@bp.get("/open311/v2/requests/<incident_id>.xml")
def get_request_xml(incident_id):
    """One request as XML."""
    return as_xml(get_request(incident_id), "service_requests", "request")


# --- staff actions -------------------------------------------------------------------------------------------
@bp.post("/api/incidents/<incident_id>/actions")
@require("staff", "admin")
def act(incident_id):
    """Move an incident through its lifecycle: action = accept|arrive|resolve|close|escalate|reopen, note, rating."""
    f = body()
    s = service()
    p = current_principal()
    incident_for_caller(incident_id, detail=True)
    rating = f.get("rating")
    row = s.act(
        incident_id,
        str(f.get("action") or ""),
        actor=p.name,
        note=f.get("note") or None,
        rating=None if rating in (None, "") else rating,
    )
    return jsonify(to_requests(pd.DataFrame([row]), s)[0])


@bp.get("/api/incidents/<incident_id>/history")
@require("staff", "admin")
def history(incident_id):
    """Every stage change of one incident: who, when, action, from, to, note."""
    incident_for_caller(incident_id, detail=True)
    s = service()
    tz = s.timezone
    return jsonify([{**e, "at": iso(e["at"], tz, "seconds")} for e in s.history(incident_id)])
