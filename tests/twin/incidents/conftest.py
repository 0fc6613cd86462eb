"""A tiny twin with a controllable clock for incident tests."""

import pandas as pd
import pytest

from tests.tiny import write_tiny

T0 = pd.Timestamp("2026-03-02 00:00", tz="UTC")  # 08:00 in Beijing


class Clock:
    """A settable clock: `clock.t` is now; `clock.advance(minutes=...)`."""

    def __init__(self, t=T0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, **kw):
        self.t = self.t + pd.Timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def open_tiny(tmp_path, clock):
    """A function opening the tiny street from one data dir (again and again, as after a restart)."""
    d = write_tiny(tmp_path / "tiny")

    def opener():
        from layers import REGISTRY
        from twin.core import Twin
        from twin.incidents import attach_incidents

        twin = Twin.open(d, REGISTRY, live=False)
        attach_incidents(twin, twin.store, clock=clock)
        return twin

    return opener


@pytest.fixture
def svc(open_tiny):
    twin = open_tiny()
    yield twin.incidents
    twin.incidents.close()
