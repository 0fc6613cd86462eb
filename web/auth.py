"""Bearer-token roles (being built): for now every caller is public."""
from flask import g

from twin.access import PUBLIC


def init_app(app) -> None:
    """Resolve the caller of each request into g.principal."""

    @app.before_request
    def _principal():
        g.principal = PUBLIC


def current_principal():
    """The Principal making the current request."""
    return g.get("principal", PUBLIC)
