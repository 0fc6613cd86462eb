"""The Flask app factory: the twin is built once at start-up and kept in app.extensions["twin"]."""

from __future__ import annotations

import importlib
import logging

from flask import Flask

from twin import settings

log = logging.getLogger(__name__)

# Blueprint modules under web/, each exposing `bp`; registered in this order.
BLUEPRINTS = ("assets", "features", "open311", "sensors", "reports", "care", "dashboard", "area", "redraw")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from defaults/file/env overridden by `config`; the twin loaded once (or `TWIN`)."""
    app = Flask(__name__)
    app.config.update(settings.load(config))
    app.json.ensure_ascii = False  # Chinese stays readable in JSON bodies
    app.json.sort_keys = False
    twin = app.config.get("TWIN")
    if twin is None:
        from layers import open_twin

        cfg = app.config
        twin = open_twin(
            cfg["DATA_DIR"],
            state_dir=cfg["STATE_DIR"],
            database_url=cfg["DATABASE_URL"],
            office=cfg["OFFICE"],
            config=dict(cfg),
        )
    app.extensions["twin"] = twin
    from . import errors

    errors.register(app)
    from . import auth

    auth.init_app(app)
    for name in BLUEPRINTS:
        module = importlib.import_module(f"{__name__}.{name}")
        app.register_blueprint(module.bp)
    return app


def get_twin():
    """The twin of the current app."""
    from flask import current_app

    return current_app.extensions["twin"]
