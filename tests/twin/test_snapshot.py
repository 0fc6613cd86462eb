"""The prepared snapshot: a second start reads the same twin from Arrow files, lazily, and a changed file remakes it."""

from __future__ import annotations

import json

import pandas as pd

import twin.incidents.snapshot as incident_snapshot
from layers import open_twin
from tests.tiny import GA1, A
from twin import area, area_input, core
from twin.access import Principal

ADMIN = Principal("admin", name="t")
NOW = pd.Timestamp("2026-03-02", tz="UTC")


def frames_equal(a, b):
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")).astype(object).where(lambda f: f.notna(), None),
        pd.DataFrame(b.drop(columns="geometry")).astype(object).where(lambda f: f.notna(), None),
        check_dtype=False,
    )
    assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb())


def test_second_start_reads_the_snapshot_lazily_and_answers_the_same(tiny_dir, tmp_path):
    first = open_twin(tiny_dir, state_dir=tmp_path / "s")
    assert (tmp_path / "s" / "snapshot" / "manifest.json").exists()
    second = open_twin(tiny_dir, state_dir=tmp_path / "s")
    assert second.layers["households"]._frame is None and second.layers["buildings"]._index is None  # not read yet
    for name in first.layers:
        frames_equal(first.frame(name), second.frame(name))
        assert first.layers[name].version == second.layers[name].version
    assert second.crs == first.crs
    for where in (("grid", GA1), ("community", A)):
        a = area.figures(first, area.query(first, area_input.from_id(first, *where), now=NOW), ADMIN)
        b = area.figures(second, area.query(second, area_input.from_id(second, *where), now=NOW), ADMIN)
        assert a == b and a["buildings"]["count"] > 0


def test_a_large_first_start_continues_on_the_snapshot_it_wrote(tiny_dir, tmp_path, monkeypatch):
    parsed = open_twin(tiny_dir, state_dir=tmp_path / "a")  # a small twin keeps the frames it parsed
    assert parsed.layers["households"]._load is None
    monkeypatch.setattr(core, "MAPPED_FROM_ROWS", 1)  # every layer counts as large
    mapped = open_twin(tiny_dir, state_dir=tmp_path / "b")
    assert (tmp_path / "b" / "snapshot" / "manifest.json").exists()
    assert all(layer._load is not None for layer in mapped.layers.values())  # rows read from the snapshot
    assert mapped.frame("households")["household_id"].dtype != object  # Arrow text, not a Python str per value
    for name in parsed.layers:
        frames_equal(parsed.frame(name), mapped.frame(name))
        assert parsed.layers[name].version == mapped.layers[name].version
    a = area.figures(parsed, area.query(parsed, area_input.from_id(parsed, "grid", GA1), now=NOW), ADMIN)
    b = area.figures(mapped, area.query(mapped, area_input.from_id(mapped, "grid", GA1), now=NOW), ADMIN)
    assert a == b and a["buildings"]["count"] > 0


def test_a_changed_file_remakes_the_snapshot(tiny_dir, tmp_path):
    open_twin(tiny_dir, state_dir=tmp_path / "s")
    manifest = tmp_path / "s" / "snapshot" / "manifest.json"
    before = json.loads(manifest.read_text())["versions"]
    path = tiny_dir / "households.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")  # one household fewer
    again = open_twin(tiny_dir, state_dir=tmp_path / "s")
    after = json.loads(manifest.read_text())["versions"]
    assert after["households"] != before["households"] and after["buildings"] == before["buildings"]
    assert len(again.frame("households")) == len(rows) - 2  # header and the dropped row
    assert again.layers["households"]._load is None  # read from the files, not from the stale snapshot


def test_incidents_come_from_the_snapshot_plus_the_writes_since(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(incident_snapshot, "MIN_ROWS", 1)
    one = open_twin(tiny_dir, state_dir=tmp_path / "s")
    report = {"category": "garbage", "lon": 114.8808, "lat": 40.8011, "description": "x"}
    made = [one.incidents.create(report, "w")["incident_id"] for _ in range(3)]
    two = open_twin(tiny_dir, state_dir=tmp_path / "s")  # writes the incident snapshot
    assert (tmp_path / "s" / "snapshot" / "incidents.arrow").exists()
    one.incidents.act(made[1], "accept", "w")
    made.append(one.incidents.create(report, "w")["incident_id"])
    three = open_twin(tiny_dir, state_dir=tmp_path / "s")  # snapshot (3 rows) + 2 writes since
    got = three.incidents.frame()
    assert list(got["incident_id"]) == made and len(two.incidents.frame()) == 3
    assert list(got["stage"]) == ["reported", "accepted", "reported", "reported"]
    want = one.incidents.store.load()
    assert (got["accepted_at"].notna() == want["accepted_at"].notna()).all()


def test_a_snapshot_of_another_store_is_ignored(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(incident_snapshot, "MIN_ROWS", 1)
    one = open_twin(tiny_dir, state_dir=tmp_path / "s")
    one.incidents.create({"category": "garbage", "lon": 114.8808, "lat": 40.8011, "description": "x"}, "w")
    open_twin(tiny_dir, state_dir=tmp_path / "s")
    one.incidents.close()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / "s" / f"twin.sqlite{suffix}").unlink(missing_ok=True)  # a new, empty store beside the snapshot
    fresh = open_twin(tiny_dir, state_dir=tmp_path / "s")
    assert len(fresh.incidents.frame()) == 0
