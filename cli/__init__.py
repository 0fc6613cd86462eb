"""The `twin` command: one module per subcommand in this package, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

from twin.errors import TwinError

COMMANDS = ("serve", "demo", "importer", "query", "redraw", "user", "db")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="twin", description="Community digital twin of a street office (街道社区数字孪生)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the console script; domain errors print as one line (or JSON) and exit 2."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except TwinError as exc:
        if getattr(args, "json", False):
            print(json.dumps(exc.to_dict(), ensure_ascii=False), file=sys.stderr)
        else:
            print(f"twin: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
