"""One vocabulary: every label of twin/vocab.py reaches pages through Twin.config, and no script keeps a copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

from twin import vocab

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
# The same words naming something else: a colour ramp's ends, a tooltip's field names, the KPI panel's titles.
OTHER_MEANING = {
    "common.js": {"低", "高"},  # the two ends of a colour ramp in a legend
    "dashboard.js": {"在办事件", "物业状态", "网格"},  # KPI and legend titles, the tooltip's "grid" row
    "planner.js": {"独居老人", "社区", "网格"},  # the people row and the pick-list kinds
    "redraw.js": {"社区"},  # "community {id}" in the progress
    "drilldown.js": {"在办事件"},  # the heading over a household's open incidents
    "work.js": {"网格"},  # the grid filter's and the detail's field name
    "reports.js": {"网格"},  # the hotspot table's grid column
}


def test_no_script_repeats_a_vocabulary_label():
    labels = {label for table in vocab.tables().values() for entry in table.values() for label in entry}
    copies = []
    for script in sorted(STATIC.glob("*.js")):
        literals = set(re.findall(r'"((?:[^"\\]|\\.)*)"', script.read_text(encoding="utf-8")))
        found = (labels & literals) - OTHER_MEANING.get(script.name, set())
        copies += [f"{script.name}: {label}" for label in sorted(found) if re.search(r"[^\x00-\x7f]", label)]
    assert not copies, "labels to take from Twin.label instead: " + ", ".join(copies)


def test_pages_receive_every_table(tiny_dir, tmp_path):
    from web import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tiny_dir), "STATE_DIR": str(tmp_path / "s")})
    html = app.test_client().get("/dashboard").get_data(as_text=True)
    config = json.loads(re.search(r'<script id="twin-config" type="application/json">(.*?)</script>', html, re.S)[1])
    assert config["vocab"] == json.loads(json.dumps(vocab.tables()))
    assert config["vocab"]["build_decades"]["pre1970"] == ["1970年前", "Before 1970"]


def test_decade_bins_are_one_rule():
    assert list(vocab.decade_codes([1969, 1970, 1999, 2019, 2020, 2040, None])) == [
        "pre1970",
        "1970s",
        "1990s",
        "2010s",
        "2020s",
        "2020s",
        "unknown",
    ]
