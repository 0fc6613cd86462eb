"""Incidents: durable store, placement, lifecycle and time limits, reports, six-nos and care checks.

`attach_incidents(twin, store)` (called by Twin.open) gives the twin its live IncidentService as `twin.incidents`.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def attach_incidents(twin, store, clock=None, config: dict | None = None):
    """Open the incident store beside `store`'s layers, import the seed file once, attach the live service.

    Settings (DEADLINES, TIMEZONE, DEMO_REBASE) come from `twin.settings`, overlaid by `config` (tests).
    """
    from twin.store import default_data_dir
    from twin.times import to_utc, utc_now

    from .seed import generated_demo, import_seed, seed_file
    from .service import IncidentService

    if store is None:
        twin.incidents = None
        return None
    cfg = {**twin.settings, **{k.upper(): v for k, v in (config or {}).items()}}
    db = store.open_live()
    path = seed_file(twin, store)
    if path is not None and db.count() == 0:
        data_dir = getattr(store, "data_dir", None)
        builtin = data_dir is not None and (
            data_dir.resolve() == default_data_dir().resolve() or generated_demo(data_dir)
        )
        now = to_utc((clock or utc_now)())
        import_seed(twin, db, path, now=now, rebase=bool(cfg["DEMO_REBASE"]) and builtin)
    twin.incidents = IncidentService(
        twin,
        db,
        clock=clock,
        deadlines=cfg["DEADLINES"],
        timezone=cfg["TIMEZONE"],
        sync_seconds=cfg["SYNC_SECONDS"] if cfg["SYNC_SECONDS"] >= 0 else None,
    )
    return twin.incidents
