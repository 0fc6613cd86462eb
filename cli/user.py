"""`twin user add|list|disable|enable|passwd`: the accounts people sign in with (the twin's SQLite file, or the
PostgreSQL database named by DATABASE_URL)."""

from __future__ import annotations

import getpass
import json
import logging
import sys

from twin.errors import InvalidInput

log = logging.getLogger(__name__)


def register(sub) -> None:
    """Add `twin user ...`."""
    p = sub.add_parser("user", help="manage the accounts of staff, planners and admins who sign in on the pages")
    p.add_argument("--data", default=None, help="data directory (default: TWIN_DATA_DIR or the demo street)")
    p.add_argument(
        "--config", default=None, help="JSON settings file (DATABASE_URL or STATE_DIR decides where accounts live)"
    )
    acts = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = acts.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("staff", "planner", "admin"))
    add.add_argument("--grids", nargs="+", metavar="CODE", help="staff limited to these grid codes (default: all)")
    _password_args(add)
    acts.add_parser("list", help="list the accounts").add_argument("--json", action="store_true")
    for name, text in (("disable", "disable an account (its sessions end)"), ("enable", "enable it again")):
        acts.add_parser(name, help=text).add_argument("name")
    pw = acts.add_parser("passwd", help="set a new password (the account's sessions end, a lock-out is lifted)")
    pw.add_argument("name")
    _password_args(pw)
    p.set_defaults(func=run)


def _password_args(p) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    g.add_argument("--password", help="the password on the command line (for tests; it shows in `ps`)")


def read_password(args) -> str:
    """The password from --password, --password-stdin, or asked twice on a terminal."""
    if args.password is not None:
        return args.password
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise InvalidInput("the two passwords differ")
    return first


def open_accounts(args):
    """The account store of the configured storage: PostgreSQL with DATABASE_URL, else the state directory."""
    from twin import settings
    from twin.accounts import AccountStore
    from twin.store import open_storage

    cfg = settings.load({"DATA_DIR": args.data} if args.data else None, config_file=args.config)
    store = open_storage(cfg["DATA_DIR"], cfg["STATE_DIR"], cfg["DATABASE_URL"], cfg["OFFICE"])
    return store, AccountStore(store.open_accounts())


def check_grids(store, grids) -> None:
    """InvalidInput when a grid code is not one of the twin's grids."""
    from layers import REGISTRY

    known = set(store.read_layer(REGISTRY["grids"])["grid_code"].astype(str))
    unknown = sorted(set(grids) - known)
    if unknown:
        raise InvalidInput(f"unknown grid code(s) {', '.join(unknown)}", field="grids")


def run(args) -> int:
    """Do the account action and print what was done."""
    store, accounts = open_accounts(args)
    try:
        cmd = args.user_command
        if cmd == "list":
            rows = [a.to_dict() for a in accounts.list()]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False))
            for r in rows if not args.json else []:
                grids = ",".join(r["grids"]) if r["grids"] else "*"
                print(f"{r['name']}\t{r['role']}\t{grids}\t{'disabled' if r['disabled'] else 'active'}")
            return 0
        if cmd == "add":
            if args.grids:
                check_grids(store, args.grids)
            a = accounts.add(args.name, args.role, read_password(args), grids=args.grids)
            print(f"added {a.name} ({a.role}{', grids ' + ','.join(sorted(a.grids)) if a.grids else ''})")
        elif cmd in ("disable", "enable"):
            accounts.set_disabled(args.name, cmd == "disable")
            print(f"{cmd}d {args.name}")
        elif cmd == "passwd":
            accounts.set_password(args.name, read_password(args))
            print(f"password of {args.name} changed")
        return 0
    finally:
        accounts.close()
        if hasattr(store, "close"):  # the PostgreSQL pool
            store.close()
