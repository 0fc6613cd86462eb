"""The Flask app factory: the twin is built once at start-up and kept in app.extensions["twin"]."""

from __future__ import annotations

import importlib
import logging
import threading

from flask import Flask

from twin import settings

log = logging.getLogger(__name__)

# Blueprint modules under web/, each exposing `bp`; registered in this order.
BLUEPRINTS = (
    "assets",
    "features",
    "open311",
    "sensors",
    "reports",
    "report_page",
    "care",
    "dashboard",
    "area",
    "redraw",
    "buildings",
    "search",
    "patrol",
    "session",
    "work",
    "alerts",
    "plans",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from defaults/file/env overridden by `config`; the twin loaded once (or `TWIN`)."""
    app = Flask(__name__)
    app.config.update(settings.load(config))  # the one load; the twin gets the same values as twin.settings
    app.json.ensure_ascii = False  # Chinese stays readable in JSON bodies
    app.json.sort_keys = False
    twin = app.config.get("TWIN")
    if twin is None:
        from layers import open_twin

        loaded = {s.name: app.config[s.name] for s in settings.SETTINGS}
        twin = open_twin(app.config["DATA_DIR"], state_dir=app.config.get("STATE_DIR"), settings=loaded)
    app.extensions["twin"] = twin
    from . import errors

    errors.register(app)
    from . import security

    security.install(app)
    from . import auth

    auth.init_app(app)
    for name in BLUEPRINTS:
        module = importlib.import_module(f"{__name__}.{name}")
        app.register_blueprint(module.bp)
    threading.Thread(target=_warm_kernels, name=WARM_THREAD).start()  # joined at exit: never cut off inside LLVM
    return app


WARM_THREAD = "kernels-warm"


def _warm_kernels() -> None:
    """Load the reports' compiled loops in the background, so the first report does not wait for them."""
    try:
        from twin import heap
        from twin.incidents import hotspot_kernel

        hotspot_kernel.warm()
        if heap.frozen():  # numba's modules (~90,000 objects) join a frozen start-up heap
            heap.release(freeze=True)
    except Exception:  # noqa: BLE001 - the first report loads them itself and says why if it cannot
        log.debug("compiled loops not loaded in the background", exc_info=True)


def get_twin():
    """The twin of the current app."""
    from flask import current_app

    return current_app.extensions["twin"]
