"""`twin query`: what is in an area (a GeoJSON file, a grid, community or compound, or a point and radius),
printed as a readable table or, with --json, as the same dict POST/GET /api/area returns."""

from __future__ import annotations

import json
import logging
import unicodedata
from pathlib import Path

from twin.errors import InvalidInput

log = logging.getLogger(__name__)

ROLES = ("admin", "planner", "public")


def register(sub) -> None:
    """Add `twin query --area F.geojson | --grid CODE | --community ID | --compound ID | --point LON,LAT --radius M`."""
    p = sub.add_parser(
        "query",
        help="what is in an area: buildings, people, property states, incidents, risk",
        description="Figures of one area, as on the planner page: from a GeoJSON polygon file, a "
        "grid, community or compound, or a point and a radius in metres.",
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--area", metavar="FILE", help="GeoJSON file holding one Polygon/MultiPolygon (or a Feature)")
    where.add_argument("--grid", metavar="CODE", help="a grid code")
    where.add_argument("--community", metavar="ID", help="a community id")
    where.add_argument("--compound", metavar="ID", help="a compound id")
    where.add_argument("--point", metavar="LON,LAT", help="centre of a disc (with --radius)")
    p.add_argument("--radius", type=float, help="radius of the disc in metres (with --point)")
    p.add_argument(
        "--rule",
        choices=("centroid", "area"),
        default="centroid",
        help="buildings cut by the edge: centroid (counted wholly when their representative point is "
        "inside) or area (counted by the share of their footprint inside); default centroid",
    )
    p.add_argument("--from", dest="start", metavar="DATE", help="incidents reported from this date (UTC)")
    p.add_argument("--to", dest="end", metavar="DATE", help="incidents reported up to this date, inclusive")
    p.add_argument("--data", default=None, help="data directory (default: TWIN_DATA_DIR or the demo street)")
    p.add_argument(
        "--role",
        choices=ROLES,
        default="admin",
        help="whose view: admin (every figure, the default: you hold the data files), or planner/"
        "public (counts of 1 or 2 suppressed, as the API gives them)",
    )
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="labels of the table (default zh)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (the API's dict)")
    p.add_argument(
        "--server",
        metavar="URL",
        help="ask a running `twin serve` at URL instead of loading the data here (answers in well under a second); "
        "the server's roles apply: --token for more than the public view",
    )
    p.add_argument("--token", default=None, help="bearer token for --server (its role replaces --role)")
    p.set_defaults(func=run)


def area_of(twin, args):
    """The Area the arguments name (InvalidInput when --point and --radius do not come together)."""
    from twin import area_input

    if args.radius is not None and not args.point:
        raise InvalidInput("--radius goes with --point LON,LAT")
    if args.point:
        if args.radius is None:
            raise InvalidInput("--point needs --radius (metres)")
        parts = args.point.split(",")
        if len(parts) != 2:
            raise InvalidInput(f"--point must be LON,LAT (two numbers and a comma), not {args.point!r}")
        return area_input.from_point(twin, parts[0], parts[1], args.radius)
    if args.area:
        path = Path(args.area)
        if not path.is_file():
            raise InvalidInput(f"--area: no such file {args.area}")
        return area_input.from_geojson(twin, area_input.parse_geojson_text(path.read_bytes()))
    kind = next(k for k in ("grid", "community", "compound") if getattr(args, k))
    return area_input.from_id(twin, kind, getattr(args, kind))


def run(args) -> int:
    """Load the twin, answer the query, print it."""
    from layers import open_twin
    from twin import area, settings
    from twin.access import Principal

    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.WARNING)  # loading chatter would bury the table
    if args.server:
        return show(ask_server(args), args)
    cfg = settings.load({"DATA_DIR": args.data} if args.data else None)
    twin = open_twin(cfg["DATA_DIR"], state_dir=cfg.get("STATE_DIR"), settings=cfg)
    where = area_of(twin, args)
    start, end = area.parse_period(args.start, args.end)
    caller = Principal(args.role, name="cli")
    answer = area.query(twin, where, rule=args.rule, start=start, end=end, personal=caller.sees_all_personal)
    fig = area.figures(twin, answer, caller, households=False)
    import shapely

    fig["geometry"] = shapely.geometry.mapping(where.geom)
    return show(fig, args)


def show(fig: dict, args) -> int:
    """Print the figures as JSON or as the readable table."""
    if args.json:
        print(json.dumps(fig, ensure_ascii=False, indent=1, default=str))
    else:
        print(render(fig, args.lang))
    return 0


def ask_server(args) -> dict:
    """The same figures from a running server: GET /api/area (POST with a GeoJSON file); errors as InvalidInput."""
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    if args.radius is not None and not args.point:
        raise InvalidInput("--radius goes with --point LON,LAT")
    params = {"rule": args.rule, **{k: v for k, v in (("from", args.start), ("to", args.end)) if v}}
    body = Path(args.area).read_bytes() if args.area else None
    if args.point:
        lon, _, lat = args.point.partition(",")
        params.update(lon=lon, lat=lat, radius=args.radius)
    elif not args.area:
        kind = next(k for k in ("grid", "community", "compound") if getattr(args, k))
        params[kind] = getattr(args, kind)
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {args.token}"} if args.token else {})}
    if body is not None:
        headers["Content-Type"] = "application/geo+json"
    req = Request(f"{args.server.rstrip('/')}/api/area?{urlencode(params)}", data=body, headers=headers)
    try:
        with urlopen(req, timeout=300) as r:
            return json.load(r)
    except HTTPError as exc:
        raise InvalidInput(f"the server answered {exc.code}: {json.load(exc).get('message', '')}") from None
    except URLError as exc:
        raise InvalidInput(f"cannot reach {args.server}: {exc.reason}") from None


def render(fig: dict, lang: str = "zh") -> str:
    """The figures as a two-column table, then the compounds touched (with the share inside)."""
    from twin.area_export import figure_rows, table_rows

    en = lang == "en"
    area = fig["area"]
    name = area.get("label") or area.get("grid_code") or area.get("community_id") or area.get("compound_id") or ""
    title = f"{'Area' if en else '区域'}: {name or area['kind']}  ({'rule' if en else '计数规则'}: {fig['rule']})"
    lines = [title]
    if area.get("repaired"):
        lines.append(("Repaired: " if en else "已修复: ") + str(area.get("repair_reason")))
    if fig.get("suppressed"):
        lines.append("Counts of 1 or 2 people are hidden (–)." if en else "1-2 人/户的数字不显示(–)。")
    rows = [(r["label"], _value(r["value"], r["item"])) for r in figure_rows(fig, lang)]
    lines += _table(rows)
    compounds = table_rows(fig, "compounds", lang)
    if compounds:
        lines.append("")
        lines.append("Compounds touched (share inside)" if en else "涉及小区(区域内占比)")
        lines += _table(
            [(f"{c['name']} ({c['compound_id']}) · {c['state_label']}", f"{100 * c['share']:.1f}%") for c in compounds]
        )
    return "\n".join(lines)


def _value(v, item: str) -> str:
    if v is None:
        return "–"
    if item in ("closure_rate", "accept", "on_site", "resolve"):
        return f"{100 * v:.1f}%"
    if isinstance(v, float):
        return f"{v:,.1f}" if v != int(v) or item.endswith("_m2") else f"{int(v):,}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _width(text: str) -> int:
    """Columns `text` takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[tuple[str, str]]) -> list[str]:
    left = max((_width(a) for a, _ in rows), default=0)
    right = max((_width(b) for _, b in rows), default=0)
    return [f"  {a}{' ' * (left - _width(a))}  {' ' * (right - _width(b))}{b}" for a, b in rows]
