"""One loaded settings object reaches every part: the twin owns it and nothing below the entry points re-reads
the environment (risk weights, deadlines and time zone, demo rebase)."""

import json

import pytest

from layers import REGISTRY, open_twin
from twin import risk, settings
from twin.core import Twin

WEIGHTS = {"property_state": {"company": 40}}  # an entry of twin.risk.DEFAULT_WEIGHTS, raised


def test_the_twin_keeps_the_settings_it_was_opened_with(tiny_dir, tmp_path):
    cfg = settings.load({"TIMEZONE": "Europe/Helsinki", "DEADLINES": json.dumps({"*": {"accept": 120}})}, environ={})
    twin = open_twin(tiny_dir, state_dir=tmp_path / "s", settings=cfg)
    assert twin.settings["TIMEZONE"] == "Europe/Helsinki"
    assert twin.incidents.timezone == "Europe/Helsinki"
    assert twin.incidents.deadlines.parse(cfg["DEADLINES"]) == twin.incidents.deadlines
    with pytest.raises(TypeError):
        twin.settings["TIMEZONE"] = "UTC"  # read-only: one truth


def test_the_core_never_reads_the_environment(tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_TIMEZONE", "UTC")
    twin = Twin.open(tiny_dir, REGISTRY, state_dir=tmp_path / "s")
    assert twin.settings["TIMEZONE"] == settings.defaults()["TIMEZONE"] == twin.incidents.timezone


def test_risk_weights_reach_every_scorer(tiny_dir, tmp_path):
    plain = open_twin(tiny_dir, state_dir=tmp_path / "a")
    weighted = open_twin(tiny_dir, state_dir=tmp_path / "b", settings={**settings.defaults(), "RISK_WEIGHTS": WEIGHTS})
    got = risk.score(weighted).buildings["score"]
    assert got.equals(risk.score(plain, weights=WEIGHTS).buildings["score"])
    assert not got.equals(risk.score(plain).buildings["score"])


def test_demo_rebase_from_the_settings_is_obeyed(tmp_path):
    from ingest.demo import END

    kept = open_twin(None, state_dir=tmp_path / "kept", settings={**settings.defaults(), "DEMO_REBASE": 0})
    latest = kept.incidents.frame()["reported_at"].max()
    assert latest <= END  # rebased, the year would end at start-up (today, after END)
    kept.incidents.close()
