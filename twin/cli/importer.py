"""`twin importer` (being built)."""


def register(sub) -> None:
    """Add the subcommand (not yet available)."""
    p = sub.add_parser("import", help="(being built)")
    p.set_defaults(func=lambda args: print("not built yet") or 1)
