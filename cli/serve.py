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
    server = waitress.create_server(app, host=host, port=port, ident="twin", **server_options(cfg))
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


def server_options(cfg: dict) -> dict:
    """waitress options from the settings: room for many idle or slow clients, which never hold a worker thread."""
    limit = max(1, int(cfg["CONNECTION_LIMIT"]))
    _allow_open_files(limit + 256)  # each connection is a file descriptor; leave room for the data files
    timeout = max(1, int(cfg["CHANNEL_TIMEOUT"]))
    return {
        "threads": cfg["THREADS"],
        "connection_limit": limit,
        "channel_timeout": timeout,
        "cleanup_interval": max(1, min(30, timeout // 2)),  # how often silent connections are looked for
        "asyncore_use_poll": True,  # select() cannot watch descriptors above 1024
    }


def _allow_open_files(wanted: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < wanted:
            log.warning("only %d open files allowed: CONNECTION_LIMIT cannot be reached", new)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
