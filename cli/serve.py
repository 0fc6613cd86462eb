"""`twin serve`: the web service on a production WSGI server (waitress)."""

from __future__ import annotations

import logging
import signal

log = logging.getLogger(__name__)


def register(sub) -> None:
    """Add the `serve` subcommand."""
    p = sub.add_parser("serve", help="serve the twin over HTTP (the demo street when no --data is given)")
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1, or TWIN_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000, or TWIN_PORT)")
    p.add_argument("--data", default=None, help="data directory (default: the built-in demo street)")
    p.add_argument("--config", default=None, help="JSON settings file (see README, Settings)")
    p.set_defaults(func=run)


def run(args) -> int:
    """Load the twin once, then serve until Ctrl-C."""
    import waitress  # the web stack is imported only when serving, so `twin` stays free of Flask

    from twin import settings
    from web import create_app

    overrides = {k: v for k, v in (("DATA_DIR", args.data), ("HOST", args.host), ("PORT", args.port)) if v}
    cfg = settings.load(overrides, config_file=args.config)
    app = create_app(cfg)
    host, port = cfg["HOST"], cfg["PORT"]
    server = waitress.create_server(app, host=host, port=port, threads=cfg["THREADS"], ident="twin")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Serving the community twin on http://{shown}:{server.effective_port}/  (Ctrl-C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop is a Ctrl-C: same clean shutdown
    try:
        server.run()  # returns when interrupted: waitress catches KeyboardInterrupt itself and closes
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        twin = app.extensions.get("twin")
        if twin is not None and getattr(twin, "incidents", None) is not None and hasattr(twin.incidents, "close"):
            twin.incidents.close()
    print("Stopped.", flush=True)
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt
