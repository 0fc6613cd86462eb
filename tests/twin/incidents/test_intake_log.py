"""Intake logging: each report at DEBUG, and one INFO line with the count at most every interval."""

from __future__ import annotations

import logging

from twin.incidents.intake import IntakeLog


def test_the_count_is_logged_once_per_interval(caplog):
    logger = logging.getLogger("test.intake")
    caplog.set_level(logging.INFO, logger="test.intake")
    quiet = IntakeLog(logger, seconds=3600)
    for _ in range(5):
        quiet.add(10)
    assert caplog.messages == []  # the interval has not passed: counted, not logged
    every = IntakeLog(logger, seconds=0)
    every.add(3)
    every.add(100)
    assert [m.split(" in the last")[0] for m in caplog.messages] == [
        "3 incident(s) reported",
        "100 incident(s) reported",
    ]


def test_each_report_goes_to_debug_only(svc, caplog):
    caplog.set_level(logging.DEBUG, logger="twin.incidents.service")
    r = svc.create({"category": "garbage", "lon": 114.8808, "lat": 40.8011}, "resident")
    mine = [rec for rec in caplog.records if r["incident_id"] in rec.getMessage()]
    assert [rec.levelno for rec in mine] == [logging.DEBUG]
