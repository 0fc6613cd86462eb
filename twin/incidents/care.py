"""Daily care checks of elderly people living alone: record each morning call; three misses in a day → a visit."""

from __future__ import annotations

import logging

from twin.errors import InvalidInput, NotFound
from twin.times import office_day

from .intake import priority_of, text
from .store import COLUMNS

log = logging.getLogger(__name__)

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}

VISIT_NOTE = "独居老人早间电话连续三次未接听，请网格员上门探视 (three unanswered morning calls: visit in person)"


def record_call(service, household_id: str, answered: bool, actor: str, note: str | None = None) -> dict:
    """Store one call; on the day's third unanswered call open one care_visit incident at the household."""
    if not isinstance(answered, bool):
        raise InvalidInput("answered must be true or false", field="answered")
    note = text(note, "note", 2000)
    home = service.placer.household(household_id)
    hh = service.twin.layer("households").get(household_id)
    if not bool(hh.get("elderly_alone")):
        raise InvalidInput(
            f"household {household_id!r} is not registered as elderly living alone", field="household_id"
        )
    from .service import new_id

    with service._lock:
        now = service.now()
        day = office_day(service.timezone, now)

        def make_visit(seq: int):
            record = {c: None for c in COLUMNS}
            record.update(home)
            record.update(
                incident_id=new_id(now, seq),
                category="care_visit",
                source="visit",
                level="grid",
                stage="reported",
                reported_at=now,
                household_id=household_id,
                priority=priority_of("care_visit"),
                description=VISIT_NOTE,
            )
            return record, {
                "at": now,
                "actor": actor,
                "action": "care_check",
                "from_stage": None,
                "to_stage": "reported",
                "note": "third unanswered call of the day",
            }

        missed, visit = service.store.record_call(
            household_id, day, now, answered, actor, note, service.care_threshold, make_visit
        )
        if visit is not None:
            service._added_all([visit])
    if visit is not None:
        log.info(
            "care visit %s opened for household %s (grid %s)", visit["incident_id"], household_id, visit["grid_code"]
        )
    return {
        "household_id": household_id,
        "day": day,
        "at": now,
        "answered": answered,
        "note": note,
        "actor": actor,
        "missed_today": missed,
        "visit": service.get(visit["incident_id"]) if visit is not None else None,
        "worker": service.worker(home["grid_code"]) if visit is not None else None,
    }


def answered_of(value) -> bool:
    """`answered` from JSON (true/false) or a form ("true"/"false", "1"/"0", "yes"/"no"); InvalidInput otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidInput("answered is required: true (the person answered) or false", field="answered")


def calls_of_day(service, day: str, grids=None, household_id: str | None = None) -> list[dict]:
    """The calls recorded on `day` (YYYY-MM-DD, office time), each with its household's grid and building.

    `grids` (a set of grid codes, None = all) keeps only households in those grids.
    """
    homes: dict = {}
    out = []
    for call in service.store.care_checks(day=day, household_id=household_id):
        hid = call["household_id"]
        if hid not in homes:
            try:
                homes[hid] = service.placer.household(hid)
            except NotFound:  # the household left the register after the call was made
                homes[hid] = {}
        grid = homes[hid].get("grid_code")
        if grids is not None and grid not in grids:
            continue
        out.append({**call, "grid_code": grid, "building_id": homes[hid].get("building_id")})
    return out
