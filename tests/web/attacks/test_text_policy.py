"""Issue 14 item 12: residents' and staff text is accepted verbatim and escaped on every way out (JSON, XML,
CSV, XLSX: formula prefixes neutralised by one helper)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from tests.web.attacks.conftest import PLANNER, STAFF, file_request, make_app
from twin.cells import FORMULA_PREFIXES, safe_cell

PLAIN = ["3<5", "once=twice", "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "a & b > c"]
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]


@pytest.mark.parametrize("description", PLAIN)
def test_resident_text_is_stored_verbatim_and_comes_back_as_text(client, description):
    rid = file_request(client, description=description, first_name=description[:40])
    got = client.get(f"/open311/v2/requests/{rid}.json").get_json()[0]
    assert got["description"] == description
    xml = client.get(f"/open311/v2/requests/{rid}.xml")
    root = ET.fromstring(xml.data)  # well-formed: the text was escaped, not spliced in as markup
    assert root.find("request/description").text == description
    assert root.find("request/description/*") is None


def test_staff_notes_follow_the_same_policy(client):
    rid = file_request(client)
    r = client.post(f"/api/incidents/{rid}/actions", json={"action": "accept", "note": "3<5 & <b>"}, headers=STAFF)
    assert r.status_code == 200, r.get_json()
    history = client.get(f"/api/incidents/{rid}/history", headers=STAFF).get_json()
    assert history[-1]["note"] == "3<5 & <b>"
    r = client.post(f"/api/incidents/{rid}/actions", json={"action": "arrive", "note": "a\x0bb"}, headers=STAFF)
    assert r.status_code == 400 and r.get_json()["details"]["field"] == "note"  # control characters stay refused


@pytest.mark.parametrize("text", FORMULAS)
def test_safe_cell_neutralises_every_formula_prefix(text):
    assert safe_cell(text) == "'" + text
    assert safe_cell(5) == 5 and safe_cell(-5) == -5 and safe_cell("东风") == "东风"


@pytest.fixture
def formula_app(tiny_dir, tmp_path):
    """The tiny street whose compounds and households carry names that look like spreadsheet formulas."""
    for name, key in (("compounds.geojson", "name"),):
        path = tiny_dir / name
        data = json.loads(path.read_text(encoding="utf-8"))
        for f, evil in zip(data["features"], FORMULAS):
            f["properties"][key] = evil
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    rows = list(csv.DictReader(open(tiny_dir / "households.csv", encoding="utf-8")))
    for r, evil in zip(rows, FORMULAS * 2):
        r["name"] = evil
    with open(tiny_dir / "households.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return make_app(tiny_dir, tmp_path / "s")


def _no_formula(cells):
    cells = [c for c in cells if isinstance(c, str) and c]
    assert cells
    bad = [c for c in cells if c.startswith(FORMULA_PREFIXES)]
    assert bad == []
    return cells


def test_every_export_neutralises_formulas(formula_app):
    client = formula_app.test_client()
    area = "/api/area?community=130702001001"
    seen = []
    for table, headers in (("compounds", PLANNER), ("households", STAFF)):
        r = client.get(f"{area}&format=csv&table={table}", headers=headers)
        assert r.status_code == 200, r.get_data(as_text=True)[:200]
        seen += _no_formula([c for row in csv.reader(io.StringIO(r.get_data(as_text=True))) for c in row])
    r = client.get(f"{area}&format=xlsx", headers=STAFF)
    wb = load_workbook(io.BytesIO(r.data))
    seen += _no_formula([c.value for ws in wb for row in ws.iter_rows() for c in row])
    file_request(client)  # so the report has a row for compound C1
    r = client.get("/api/reports/quarterly?f=csv&lang=en", headers=PLANNER)
    assert r.status_code == 200, r.get_data(as_text=True)[:200]
    seen += _no_formula([c for row in csv.reader(io.StringIO(r.get_data(as_text=True))) for c in row])
    assert any(c.startswith("'=") for c in seen) and any(c.startswith("'@") for c in seen)
