"""OpenAPI of the buildings blueprint: a building's floors × units, one household, the grid workers.

(For main's web/apidoc/ registry: one module per blueprint, merged by web/openapi.py.)
"""

from __future__ import annotations

from . import BOOLEAN, INTEGER, NINTEGER, NSTRING, STAFF, STRING, errors, obj, ok, op, path

TAG = "households"
COUNTS = obj({k: NINTEGER for k in ("households", "persons", "elderly_alone", "floating", "key_group")})


def paths() -> dict:
    """/api/buildings/{building_id}/units, /api/households/{household_id}, /api/grids/workers."""
    return {
        "/api/buildings/{building_id}/units": {
            "get": op(
                "building-units",
                TAG,
                "floors × units of a building: households for staff of its grid and admins, else counts (1-2 hidden)",
                {
                    **ok(
                        obj(
                            {
                                "building_id": STRING,
                                "name": NSTRING,
                                "grid_code": NSTRING,
                                "floors": INTEGER,
                                "units": INTEGER,
                                "personal": BOOLEAN,
                                "counts": COUNTS,
                                "cells": {"type": "array", "nullable": True, "items": {"type": "object"}},
                            },
                            ("building_id", "floors", "units", "personal", "counts", "cells"),
                        )
                    ),
                    **errors(401, 404),
                },
                params=[path("building_id", "the building")],
            )
        },
        "/api/households/{household_id}": {
            "get": op(
                "household",
                TAG,
                "one household (staff of its grid, admin): record, open incidents, recent care calls",
                {
                    **ok(
                        obj(
                            {
                                "household_id": STRING,
                                "open_incidents": {"type": "array", "items": {"type": "object"}},
                                "care_calls": {"type": "array", "items": {"type": "object"}},
                            },
                            ("household_id", "open_incidents", "care_calls"),
                        )
                    ),
                    **errors(401, 403, 404),
                },
                params=[path("household_id", "the household")],
                security=STAFF,
            )
        },
        "/api/grids/workers": {
            "get": op(
                "grid-workers",
                TAG,
                "grid code → grid worker's name (staff, admin)",
                {**ok({"type": "object", "additionalProperties": STRING}), **errors(401, 403)},
                security=STAFF,
            )
        },
    }
