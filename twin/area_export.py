"""Area answers as files: a flat table of figures (CSV, the first XLSX sheet, GeoJSON properties), plus the
compounds, overdue incidents and — for callers allowed to see them — households behind the figures."""

from __future__ import annotations

import csv
import io
import json
import logging

import shapely

from .cells import safe_cell
from .vocab import (
    BUILD_DECADES,
    ESCALATION_LEVELS,
    INCIDENT_CATEGORIES,
    INCIDENT_LIMITS,
    INCIDENT_STAGES,
    PROPERTY_STATES,
    RISK_LEVELS,
)

log = logging.getLogger(__name__)

TABLES = ("figures", "compounds", "overdue", "households")
LABELS = {
    "area_m2": ("面积(平方米)", "Area (m²)"),
    "in_street_m2": ("街道内面积(平方米)", "Area inside the street (m²)"),
    "count": ("楼栋数", "Buildings"),
    "footprint_m2": ("占地面积(平方米)", "Footprint (m²)"),
    "floor_area_m2": ("建筑面积(平方米)", "Floor area (m²)"),
    "households": ("户数", "Households"),
    "population": ("人口", "Population"),
    "elderly_alone": ("独居老人", "Elderly living alone"),
    "floating": ("流动人口户", "Floating households"),
    "key_group": ("重点人群户", "Key-group households"),
    "touched": ("涉及小区", "Compounds touched"),
    "whole": ("完全在内的小区", "Compounds wholly inside"),
    "partly": ("部分在内的小区", "Compounds partly inside"),
    "total": ("事件总数", "Incidents"),
    "open": ("未办结", "Open"),
    "overdue": ("超时", "Overdue"),
    "closure_rate": ("办结率", "Closure rate"),
    "mean_rating": ("平均评价", "Mean rating"),
    "accept": ("按时受理率", "Accepted on time"),
    "on_site": ("按时到场率", "On site on time"),
    "resolve": ("按时办结率", "Resolved on time"),
    "buildings": ("楼栋数", "Buildings"),
}
SECTIONS = {
    "area": ("区域", "Area"),
    "buildings": ("楼栋", "Buildings"),
    "people": ("人口", "People"),
    "property_states": ("物业状态", "Property management"),
    "build_decades": ("建成年代", "Build decade"),
    "compounds": ("小区", "Compounds"),
    "incidents": ("事件", "Incidents"),
    "by_stage": ("事件阶段", "Incident stage"),
    "by_category": ("事件类别", "Incident category"),
    "on_time": ("按时率", "On time"),
    "risk": ("风险等级(楼栋)", "Risk level (buildings)"),
}
# The overdue table: its coded columns get a label column each; XLSX sheets name every column in the export's language.
OVERDUE_VOCABS = {
    "category": INCIDENT_CATEGORIES,
    "stage": INCIDENT_STAGES,
    "level": ESCALATION_LEVELS,
    "overdue_limit": INCIDENT_LIMITS,
}
HEADERS = {
    "incident_id": ("事件编号", "Incident"),
    "category": ("类别代码", "Category code"),
    "category_label": ("类别", "Category"),
    "stage": ("阶段代码", "Stage code"),
    "stage_label": ("阶段", "Stage"),
    "level": ("层级代码", "Level code"),
    "level_label": ("处置层级", "Level"),
    "reported_at": ("上报时间", "Reported"),
    "overdue_limit": ("超时环节代码", "Overdue limit code"),
    "overdue_limit_label": ("超时环节", "Overdue limit"),
    "next_due": ("下一时限", "Next deadline"),
    "grid_code": ("网格编码", "Grid code"),
    "compound_id": ("小区编号", "Compound id"),
    "building_id": ("楼栋编号", "Building id"),
}
VOCABS = {
    "property_states": PROPERTY_STATES,
    "build_decades": BUILD_DECADES,
    "by_stage": INCIDENT_STAGES,
    "by_category": INCIDENT_CATEGORIES,
    "risk": RISK_LEVELS,
}


def _label(key: str, lang: str, vocab: dict | None = None) -> str:
    i = 1 if lang == "en" else 0
    if vocab and key in vocab:
        return vocab[key][i]
    if key in LABELS:
        return LABELS[key][i]
    if key == "none":
        return "无所属小区" if i == 0 else "No compound"
    return key


def figure_rows(fig: dict, lang: str = "zh") -> list[dict]:
    """The figures of an answer as flat rows: section, item, label, value (suppressed counts are empty)."""
    rows = []

    def add(section, item, value, vocab=None):
        rows.append(
            {
                "section": section,
                "item": item,
                "label": f"{_label(section, lang, SECTIONS) if section in SECTIONS else section} · "
                f"{_label(item, lang, vocab)}",
                "value": value,
            }
        )

    add("area", "area_m2", fig["area"]["area_m2"])
    add("area", "in_street_m2", fig["area"]["in_street_m2"])
    for k in ("count", "footprint_m2", "floor_area_m2"):
        add("buildings", k, fig["buildings"][k])
    for k, v in fig["people"].items():
        add("people", k, v)
    for mix in ("property_states", "build_decades"):
        for code, v in fig[mix].items():
            add(mix, code, v["buildings"], VOCABS.get(mix))
    for k in ("count", "whole", "partly"):
        add("compounds", k if k != "count" else "touched", fig["compounds"][k])
    inc = fig.get("incidents")
    if inc:
        for k in ("total", "open", "overdue", "closure_rate", "mean_rating"):
            add("incidents", k, inc[k])
        for k, v in inc["on_time"].items():
            add("on_time", k, v)
        for part in ("by_stage", "by_category"):
            for code, v in inc[part].items():
                if v:
                    add(part, code, v, VOCABS[part])
    risk = fig.get("risk")
    if risk:
        for lv, v in risk["by_level"].items():
            add("risk", lv, v, VOCABS["risk"])
    return rows


def table_rows(fig: dict, table: str, lang: str = "zh") -> list[dict]:
    """Rows of one export table: figures, compounds, overdue or households (empty when not in `fig`)."""
    if table == "figures":
        return figure_rows(fig, lang)
    if table == "compounds":
        return [
            {**c, "state_label": _label(c.get("state") or "", lang, PROPERTY_STATES)}
            for c in fig.get("compounds_list", [])
        ]
    if table == "overdue":
        return [
            {
                **r,
                **{
                    f"{k}_label": _label(r[k], lang, vocab) if r.get(k) else None
                    for k, vocab in OVERDUE_VOCABS.items()
                    if k in r
                },
            }
            for r in fig.get("overdue_incidents", [])
        ]
    if table == "households":
        return fig.get("households", [])
    raise ValueError(table)


def _header(rows: list[dict], table: str) -> list[str]:
    """Column names of a table: its rows' keys, or the figures' columns when it has no rows."""
    return list(rows[0]) if rows else (["section", "item", "label", "value"] if table == "figures" else [])


def to_csv(fig: dict, table: str = "figures", lang: str = "zh") -> str:
    """One table of the answer as CSV text (UTF-8 with BOM so spreadsheet programs read the Chinese right)."""
    rows = table_rows(fig, table, lang)
    buf = io.StringIO()
    buf.write("\ufeff")
    fields = _header(rows, table)
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else safe_cell(v)) for k, v in r.items()})
    return buf.getvalue()


def to_geojson(twin, answer, fig: dict, lang: str = "zh") -> dict:
    """A FeatureCollection: the area (figures as properties), then each counted building with its weight."""
    props = {
        "kind": "area",
        "rule": fig["rule"],
        "label": fig["area"].get("label"),
        "suppressed": fig["suppressed"],
        "repaired": fig["area"]["repaired"],
    }
    props.update({f"{r['section']}.{r['item']}": r["value"] for r in figure_rows(fig, lang)})
    feats = [{"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(answer.area.geom)}]
    b = twin.frame("buildings").iloc[answer.building_pos]
    geoms = shapely.to_geojson(b.geometry.values)
    cols = [
        c
        for c in ("building_id", "name", "compound_id", "community_id", "grid_code", "floors", "use", "build_year")
        if c in b.columns
    ]
    records = b[cols].astype(object).where(b[cols].notna(), None).to_dict("records")
    for rec, g, w in zip(records, geoms, answer.weights):
        rec["kind"] = "building"
        rec["weight"] = round(float(w), 4)
        feats.append({"type": "Feature", "properties": rec, "geometry": json.loads(g)})
    return {"type": "FeatureCollection", "features": feats}


def to_xlsx(fig: dict, lang: str = "zh") -> bytes:
    """The answer as an Excel workbook: one sheet per table present (households only for allowed callers)."""
    from openpyxl import Workbook

    names = {
        "figures": ("统计", "Figures"),
        "compounds": ("小区", "Compounds"),
        "overdue": ("超时事件", "Overdue"),
        "households": ("住户", "Households"),
    }
    wb = Workbook()
    wb.remove(wb.active)
    for table in TABLES:
        if table == "households" and "households" not in fig:
            continue
        ws = wb.create_sheet(names[table][1 if lang == "en" else 0])
        rows = table_rows(fig, table, lang)
        header = _header(rows, table)
        ws.append([HEADERS[k][1 if lang == "en" else 0] if table == "overdue" and k in HEADERS else k for k in header])
        for r in rows:
            ws.append([_cell(r.get(k)) for k in header])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(v):
    if isinstance(v, (list, dict)):
        return safe_cell(json.dumps(v, ensure_ascii=False))
    return safe_cell(v)
