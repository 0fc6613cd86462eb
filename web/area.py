"""Blueprint 'area': what is in an area (POST a GeoJSON polygon, or GET a grid/community/compound or a disc),
as JSON, CSV, GeoJSON or XLSX, respecting the caller's role; and the planner page that draws the areas."""

from __future__ import annotations

import logging
import math

import shapely
from flask import Blueprint, Response, render_template, request

from twin import area as twin_area
from twin import area_export, area_input
from twin.errors import Forbidden, InvalidInput

from . import get_twin, limits
from .auth import current_principal
from .geojson import dumps

log = logging.getLogger(__name__)

bp = Blueprint("area", __name__)

FORMATS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BYTES_PER_VERTEX = 512  # body cap = MAX_VERTICES x this: a polygon at the vertex limit fits with room to spare
HOUSEHOLD_LIST_MAX = 2000  # households listed in a JSON answer; exports list all the caller may see


def _max_vertices() -> int:
    return limits.max_vertices()


@bp.post("/api/area")
@limits.rate_limited("area")
def area_of_polygon():
    """What is in the GeoJSON Polygon/MultiPolygon (or Feature of one) in the body."""
    max_v = _max_vertices()
    # Bodies over the cap get 413 before they are read; a polygon with too many vertices gets 400 (twin.area_input).
    request.max_content_length = max_v * BYTES_PER_VERTEX
    raw = request.get_data(cache=False)
    if not raw:
        raise InvalidInput("send a GeoJSON Polygon or MultiPolygon (or a Feature holding one) as the body")
    obj = area_input.parse_geojson_text(raw, max_v)
    return _answer(area_input.from_geojson(get_twin(), obj, max_v))


@bp.get("/api/area")
@limits.rate_limited("area")
def area_by_id():
    """What is in a grid, community or compound (grid=, community=, compound=) or a disc (lon=, lat=, radius=)."""
    twin = get_twin()
    named = [k for k in area_input.ID_KINDS if request.args.get(k)]
    point = [k for k in ("lon", "lat", "radius") if request.args.get(k) is not None]
    if len(named) + (1 if point else 0) != 1:
        raise InvalidInput(
            "name one area: grid=CODE, community=ID, compound=ID, or lon=&lat=&radius= (metres); "
            "or POST a GeoJSON polygon"
        )
    if point:
        if len(point) != 3:
            raise InvalidInput("a disc needs lon, lat and radius (metres)", parameter="lon,lat,radius")
        area = area_input.from_point(twin, request.args["lon"], request.args["lat"], request.args["radius"])
    else:
        area = area_input.from_id(twin, named[0], request.args[named[0]])
    return _answer(area)


@bp.get("/api/area/places")
def places():
    """Grids, communities and compounds (id and name) the planner page offers in its list."""
    twin = get_twin()
    out = {}
    for kind, (layer, id_field) in area_input.ID_KINDS.items():
        if layer in twin.layers:
            f = twin.frame(layer)
            out[kind] = [{"id": i, "name": n} for i, n in zip(f[id_field].astype(str), f["name"].astype(str))]
    return Response(dumps(out), mimetype="application/json")


@bp.get("/planner")
def planner_page():
    """The planner's page: draw an area, pick a grid or community, or a point and radius; compare two areas."""
    twin = get_twin()
    bounds = twin.boundary.bounds if twin.boundary is not None else twin.frame("buildings").total_bounds
    return render_template(
        "planner.html",
        page_extra={
            "maxVertices": _max_vertices(),
            "maxRadius": area_input.MAX_RADIUS_M,
            "bbox": [round(float(v), 6) for v in bounds],
        },
    )


def _answer(area):
    """Run the query with the request's options and render it in the asked format for the current caller."""
    args = request.args
    fmt = args.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}", parameter="format")
    lang = "en" if args.get("lang") == "en" else "zh"
    rule = args.get("rule", "centroid")
    start, end = twin_area.parse_period(args.get("from"), args.get("to"))
    principal = current_principal()
    size = float(shapely.area(area.metric))
    limits.check_area_size(size if math.isfinite(size) else math.inf)
    want_households = args.get("households", "").lower() in ("1", "true", "yes") or args.get("table") == "households"
    if want_households and not principal.sees_personal:
        raise Forbidden(
            "household detail is for street-office staff (in their grids) and admins; planners and the "
            "public get aggregates",
            role=principal.role,
        )
    twin = get_twin()
    answer = twin_area.query(twin, area, rule=rule, start=start, end=end, personal=principal.sees_all_personal)
    fig = twin_area.figures(twin, answer, principal, households=want_households or fmt == "xlsx")
    name = f"area-{area.kind}"
    if fmt == "json":
        hh = fig.get("households")
        if hh is not None and len(hh) > HOUSEHOLD_LIST_MAX:
            fig["households_total"], fig["households"] = len(hh), hh[:HOUSEHOLD_LIST_MAX]
        fig["geometry"] = shapely.geometry.mapping(area.geom)
        return Response(dumps(fig), mimetype=FORMATS[fmt])
    if fmt == "csv":
        table = args.get("table", "figures")
        if table not in area_export.TABLES:
            raise InvalidInput(
                f"table must be one of {', '.join(area_export.TABLES)}, not {table!r}", parameter="table"
            )
        body, name = area_export.to_csv(fig, table, lang), f"{name}-{table}"
    elif fmt == "geojson":
        body = dumps(area_export.to_geojson(twin, answer, fig, lang))
    else:
        body = area_export.to_xlsx(fig, lang)
    resp = Response(body, mimetype=FORMATS[fmt].split(";")[0])
    if fmt == "csv":
        resp.charset = "utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp
