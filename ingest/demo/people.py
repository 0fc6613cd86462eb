"""Households of every building: size, elderly living alone, floating population, key groups, fake names."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .names import person_names, phones

log = logging.getLogger(__name__)

SIZE_P = np.array([0.16, 0.33, 0.27, 0.15, 0.09])  # household sizes 1..5
ELDERLY_ALONE = {True: 0.09, False: 0.03}  # share of households, old compounds vs newer ones
FLOATING = {True: 0.22, False: 0.17}  # renters and migrant workers, more in old compounds
KEY_GROUP = 0.012


def households(rng: np.random.Generator, buildings: pd.DataFrame, old_building: np.ndarray) -> pd.DataFrame:
    """One row per household: unit, floor and room follow the building's units × floors layout."""
    hh = buildings["households"].to_numpy()
    units = buildings["units"].to_numpy()
    floors = buildings["floors"].to_numpy()
    mixed = (buildings["use"] == "mixed").to_numpy()
    n = int(hh.sum())
    b = np.repeat(np.arange(len(hh)), hh)
    k = np.arange(n) - np.repeat(np.cumsum(hh) - hh, hh)  # household number inside its building
    res_floors = np.where(mixed, floors - 1, floors)[b]
    per_floor = np.maximum(hh[b] // (units[b] * res_floors), 1)
    per_unit = res_floors * per_floor
    unit = k // per_unit + 1
    within = k % per_unit
    floor = within // per_floor + 1 + mixed[b]
    room = [f"{f}{r:02d}" for f, r in zip(floor.tolist(), (within % per_floor + 1).tolist())]
    old = old_building[b]
    size = rng.choice(np.arange(1, 6), n, p=SIZE_P)
    r = rng.random(n)
    elderly = r < np.where(old, ELDERLY_ALONE[True], ELDERLY_ALONE[False])
    size[elderly] = 1
    floating = rng.random(n) < np.where(old, FLOATING[True], FLOATING[False])
    floating &= ~elderly
    key = rng.random(n) < KEY_GROUP
    return pd.DataFrame(
        {
            "household_id": [f"H{k:07d}" for k in range(1, n + 1)],
            "building_id": buildings["building_id"].to_numpy()[b],
            "unit": unit.astype(int),
            "floor": floor.astype(int),
            "room": room,
            "size": size.astype(int),
            "elderly_alone": elderly,
            "floating": floating,
            "key_group": key,
            "name": person_names(rng, n),
            "phone": phones(rng, n),
        }
    )
