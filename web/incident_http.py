"""What every incident blueprint shares: the live incident service, and which incidents the caller may see."""

from __future__ import annotations

import pandas as pd
from flask import current_app

from twin.access import may_see_incidents
from twin.errors import Forbidden, InvalidInput

from . import get_twin
from .auth import current_principal


def service():
    """The live incident service of the current app."""
    s = get_twin().incidents
    if s is None:
        raise InvalidInput("this twin has no incident store")
    return s


def duplicate_radius_m() -> float:
    """DUPLICATE_RADIUS_M: how near an open report of the same category makes a possible duplicate."""
    return float(current_app.config.get("DUPLICATE_RADIUS_M") or 50.0)


def possible_duplicates(s, rows: list[dict]) -> list[list[str]]:
    """For each new report of `rows` (in filing order), the ids of open incidents of its category within
    DUPLICATE_RADIUS_M that the caller may see, reported before it."""
    p = current_principal()
    found = s.possible_duplicates_many(rows, duplicate_radius_m(), lambda c, g: may_see_incidents(p, c, g))
    return [[d for d, _m in near] for near in found]


def incident_for_caller(incident_id, detail: bool = False) -> dict:
    """The incident if the caller may see it, else Forbidden: the one grid rule of every route returning an incident.

    The record: care incidents (SOS, care visits) only to staff of its grid and admins. Its `detail` (history,
    notes, actions, photos; notes hold names and phones): only staff of its grid and admins, whatever the category.
    """
    row = service().get(incident_id)
    p = current_principal()
    if detail and not p.may_see_grid(row.get("grid_code")):
        raise Forbidden(f"incident {incident_id} is outside your grids", id=incident_id)
    if not shown_to_caller(pd.DataFrame([row]))[0]:
        raise Forbidden(
            f"request {incident_id} is about a person's care (SOS, care visit) and is shown only to staff of its grid",
            id=incident_id,
        )
    return row


def shown_to_caller(rows: pd.DataFrame):
    """Which rows the caller may see as requests (care incidents only to staff of their grid)."""
    return may_see_incidents(
        current_principal(), rows["category"].to_numpy(dtype=object), rows["grid_code"].to_numpy(dtype=object)
    )
