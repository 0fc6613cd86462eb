"""Exports speak the export's language: the overdue sheet's codes get vocabulary labels and named columns."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from twin import area_export, area_input

ROW = {
    "incident_id": "GD202606010000001",
    "category": "garbage",
    "stage": "reported",
    "level": "grid",
    "reported_at": "2026-06-01T08:00:00+08:00",
    "overdue_limit": "accept",
    "next_due": "2026-06-01T08:01:00+08:00",
    "grid_code": "130702001001001",
}


@pytest.fixture
def fig(tiny_twin):
    """The figures of grid A1 with one overdue incident row as twin.area lists them."""
    from twin import area

    out = area.figures(tiny_twin, area.query(tiny_twin, area_input.from_id(tiny_twin, "grid", ROW["grid_code"])))
    return {**out, "overdue_incidents": [ROW]}


@pytest.mark.parametrize(
    "lang, sheet, labels, header",
    [
        ("zh", "超时事件", ["垃圾杂物堆放", "已上报", "网格", "受理"], ["事件编号", "类别", "阶段", "超时环节"]),
        ("en", "Overdue", ["Garbage and clutter", "Reported", "Grid", "Accept"], ["Incident", "Category", "Stage"]),
    ],
)
def test_the_overdue_sheet_has_labels_and_named_columns(fig, lang, sheet, labels, header):
    wb = load_workbook(io.BytesIO(area_export.to_xlsx(fig, lang)))
    rows = list(wb[sheet].values)
    assert set(header) <= set(rows[0])
    assert set(labels) <= set(rows[1])
    assert "garbage" in rows[1]  # the code stays beside its label for machines


def test_the_csv_overdue_table_keeps_codes_and_adds_labels(fig):
    text = area_export.to_csv(fig, "overdue", "zh")
    head, row = text.lstrip("\ufeff").splitlines()
    assert head.split(",")[:3] == ["incident_id", "category", "stage"]
    assert "category_label" in head and "垃圾杂物堆放" in row and "受理" in row


@pytest.mark.parametrize(
    "reason, code",
    [
        ("Self-intersection[114.868 40.769]", "self_intersection"),
        ("Ring Self-intersection[1 2]", "ring_self_intersection"),
        ("Too few points in geometry component[1 2]", "too_few_points"),
        ("Something new", "invalid"),
        (None, None),
    ],
)
def test_repair_reasons_become_codes_with_labels(reason, code):
    from twin.vocab import AREA_REPAIRS

    assert area_input.repair_code(reason) == code
    assert code is None or code in AREA_REPAIRS
