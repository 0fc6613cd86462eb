"""Blueprint 'buildings': a building's floors × units (每楼每户), one household's record, grid workers, by role."""

from __future__ import annotations

from flask import Blueprint, jsonify

from twin.times import iso, zone_of
from twin.units import building_units, household_record

from . import get_twin
from .auth import current_principal, require

bp = Blueprint("buildings", __name__)


@bp.get("/api/buildings/<building_id>/units")
def units(building_id):
    """Floors × units of a building: household records for staff of its grid and admin, else suppressed counts."""
    return jsonify(building_units(get_twin(), building_id, current_principal()))


@bp.get("/api/households/<household_id>")
@require("staff", "admin")
def household(household_id):
    """One household (staff of its grid, admin): record, open incidents with next deadline, recent care calls."""
    twin = get_twin()
    rec = household_record(twin, household_id, current_principal())
    tz = zone_of(twin.incidents)
    for inc in rec["open_incidents"]:
        for k in ("reported_at", "next_due"):
            inc[k] = iso(inc[k], tz)
    for call in rec["care_calls"]:
        call["at"] = iso(call["at"], tz)
    return jsonify(rec)


@bp.get("/api/grids/workers")
@require("staff", "admin")
def workers():
    """Grid code → grid worker's name (staff and admin), for a signed-in wall's tooltips; the public wall names none."""
    twin = get_twin()
    g = twin.frame("grids") if "grids" in twin.layers else None
    if g is None or "worker" not in g:
        return jsonify({})
    return jsonify({str(c): w for c, w in zip(g["grid_code"], g["worker"]) if isinstance(w, str)})
