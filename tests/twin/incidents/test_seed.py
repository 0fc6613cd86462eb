"""The data directory's incidents file is imported once, placed where it lacks a grid, optionally rebased."""

import csv

import pandas as pd
import pytest

from tests.tiny import GA1, GB1, write_tiny
from twin.errors import SchemaError

ROWS = [
    {
        "incident_id": "E1",
        "category": "garbage",
        "source": "app",
        "stage": "closed",
        "level": "grid",
        "priority": 3,
        "reported_at": "2025-06-01T08:00:00Z",
        "accepted_at": "2025-06-01T08:00:30Z",
        "closed_at": "2025-06-01T12:00:00Z",
        "resolved_at": "2025-06-01T11:00:00Z",
        "on_site_at": "2025-06-01T08:30:00Z",
        "rating": 5,
        "lon": 114.8808,
        "lat": 40.8011,
    },
    {
        "incident_id": "E2",
        "category": "parking",
        "source": "patrol",
        "stage": "reported",
        "level": "grid",
        "priority": 3,
        "reported_at": "2025-12-31T16:00:00Z",
        "lon": 114.8851,
        "lat": 40.8011,
    },
]


def write_seed(d, rows):
    cols = sorted({k for r in rows for k in r})
    with open(d / "incidents.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def open_twin_at(d, clock, **cfg):
    from layers import REGISTRY
    from twin.core import Twin
    from twin.incidents import attach_incidents

    twin = Twin.open(d, REGISTRY, live=False)
    attach_incidents(twin, twin.store, clock=clock, config=cfg)
    return twin


def test_import_once_and_place(tmp_path, clock):
    d = write_tiny(tmp_path / "t")
    write_seed(d, ROWS)
    s = open_twin_at(d, clock).incidents
    f = s.frame()
    assert list(f["incident_id"]) == ["E1", "E2"] and list(f["grid_code"]) == [GA1, GB1]
    assert list(f["compound_id"]) == ["C1", "C3"] and f.loc[0, "rating"] == 5
    assert f.loc[1, "reported_at"] == pd.Timestamp("2025-12-31T16:00:00Z")
    assert [e["action"] for e in s.history("E1")] == ["import"]
    s.create({"category": "garbage", "lon": 114.8808, "lat": 40.8011}, "r")
    s.close()
    s2 = open_twin_at(d, clock).incidents  # the file is not imported a second time
    assert len(s2.frame()) == 3
    s2.close()


def test_rebase_applies_only_to_the_builtin_demo(tmp_path, clock, monkeypatch):
    d = write_tiny(tmp_path / "t")
    write_seed(d, ROWS)
    import twin.store

    monkeypatch.setattr(twin.store, "default_data_dir", lambda: d)
    s = open_twin_at(d, clock, DEMO_REBASE=1).incidents
    f = s.frame()
    assert f.loc[1, "reported_at"] == clock.t  # the latest time now falls at start-up
    assert f.loc[0, "closed_at"] - f.loc[0, "reported_at"] == pd.Timedelta(hours=4)
    s.close()


def test_a_bad_seed_names_file_row_and_column(tmp_path, clock):
    d = write_tiny(tmp_path / "t")
    write_seed(d, [dict(ROWS[0], category="unicorn")])
    with pytest.raises(SchemaError, match="row 1.*category"):
        open_twin_at(d, clock)


def test_rebase_applies_to_a_generated_demo_but_not_to_other_data(tmp_path, clock):
    from twin.incidents.seed import DEMO_MARK

    plain = write_tiny(tmp_path / "plain")
    write_seed(plain, ROWS)
    s = open_twin_at(plain, clock, DEMO_REBASE=1).incidents
    assert s.frame().loc[1, "reported_at"] == pd.Timestamp("2025-12-31T16:00:00Z")  # imported data keeps its times
    s.close()
    demo = write_tiny(tmp_path / "demo")
    write_seed(demo, ROWS)
    (demo / DEMO_MARK).write_text('{"generated_by": "twin demo"}\n', encoding="utf-8")
    s = open_twin_at(demo, clock, DEMO_REBASE=1).incidents
    assert s.frame().loc[1, "reported_at"] == clock.t  # `twin demo` output: its year ends at start-up
    s.close()
