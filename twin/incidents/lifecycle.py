"""The work-order lifecycle: reported → accepted → on site → resolved → closed, escalate and reopen."""

from __future__ import annotations

import logging

from twin.errors import Conflict, InvalidInput
from twin.vocab import ESCALATION_LEVELS, INCIDENT_STAGES

from .intake import text

log = logging.getLogger(__name__)

# action -> (stages it may start from, stage it leads to, timestamp it sets); escalate keeps the stage.
MOVES = {
    "accept": (("reported",), "accepted", "accepted_at"),
    "arrive": (("accepted",), "on_site", "on_site_at"),
    "resolve": (("on_site",), "resolved", "resolved_at"),
    "close": (("resolved",), "closed", "closed_at"),
    "reopen": (("resolved", "closed"), "accepted", None),
    "escalate": (("reported", "accepted", "on_site"), None, None),
}
ACTIONS = tuple(MOVES)
DUPLICATE_FROM = ("reported", "accepted", "on_site")  # an open report may be closed as a duplicate of another
LEVELS = tuple(ESCALATION_LEVELS)
NOTE_MAX = 2000


def apply(row: dict, action: str, actor: str, now, note: str | None = None, rating=None) -> tuple[dict, dict]:
    """The field changes and the history event of `action` on the incident `row`; Conflict if not allowed now.

    Times keep the first moment a limit was met (accepted_at, on_site_at survive a reopen; the history keeps
    every visit); reopen clears resolved_at, closed_at and the rating, so the resolve limit is judged again.
    """
    if action not in MOVES:
        raise InvalidInput(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}", action=action)
    note = text(note, "note", NOTE_MAX)  # the one text policy: verbatim, length and control characters checked
    if rating is not None and action != "close":
        raise InvalidInput("a rating is given only when closing an incident", action=action)
    if action == "close" and rating is not None:
        rating = _rating(rating)
    stage, level = row["stage"], row.get("level") or "grid"
    allowed, to_stage, stamp = MOVES[action]
    if stage not in allowed:
        raise Conflict(
            f"cannot {action} an incident that is {INCIDENT_STAGES[stage][1].lower()}; "
            f"{action} needs stage {' or '.join(allowed)}",
            id=row["incident_id"],
            stage=stage,
            action=action,
        )
    changes: dict = {}
    detail = None
    if action == "escalate":
        i = LEVELS.index(level)
        if i + 1 >= len(LEVELS):
            raise Conflict(
                "the incident is already with the departments; it cannot be escalated further",
                id=row["incident_id"],
                level=level,
            )
        changes["level"] = LEVELS[i + 1]
        detail = {"from_level": level, "to_level": LEVELS[i + 1]}
        to_stage = stage
    else:
        changes["stage"] = to_stage
        if stamp and row.get(stamp) is None:
            changes[stamp] = now
        if stamp == "closed_at":
            changes[stamp] = now
        if action == "resolve":
            changes["resolved_at"] = now
        if action == "close" and rating is not None:
            changes["rating"] = rating
            detail = {"rating": rating}
        if action == "reopen":
            changes.update(resolved_at=None, closed_at=None, rating=None)
    event = {
        "at": now,
        "actor": actor,
        "action": action,
        "from_stage": stage,
        "to_stage": to_stage,
        "note": note,
        "detail": detail,
    }
    return changes, event


def _rating(v) -> int:
    try:
        r = int(v)
        ok = float(v) == r
    except (TypeError, ValueError):
        ok = False
    if not ok or isinstance(v, bool) or not 1 <= r <= 5:
        raise InvalidInput("rating must be a whole number from 1 to 5", rating=str(v))
    return r


def allowed(row: dict) -> list[str]:
    """The actions the lifecycle allows on `row` now, in MOVES order, then "duplicate": the buttons pages offer."""
    stage, level = row["stage"], row.get("level") or "grid"
    out = [a for a, (starts, _, _) in MOVES.items() if stage in starts]
    if "escalate" in out and LEVELS.index(level) + 1 >= len(LEVELS):
        out.remove("escalate")
    if stage in DUPLICATE_FROM:
        out.append("duplicate")
    return out


def duplicate(row: dict, original_id: str, actor: str, now, note: str | None = None) -> tuple[dict, dict]:
    """The changes and history event closing `row` as a duplicate of `original_id`; Conflict if it is not open."""
    if note is not None and (not isinstance(note, str) or len(note) > NOTE_MAX):
        raise InvalidInput(f"note must be text of at most {NOTE_MAX} characters")
    if row["stage"] not in DUPLICATE_FROM:
        raise Conflict(
            f"only an open incident can be closed as a duplicate; this one is {row['stage']}",
            id=row["incident_id"],
            stage=row["stage"],
        )
    event = {
        "at": now,
        "actor": actor,
        "action": "duplicate",
        "from_stage": row["stage"],
        "to_stage": "closed",
        "note": note,
        "detail": {"duplicate_of": original_id},
    }
    return {"stage": "closed", "closed_at": now}, event
