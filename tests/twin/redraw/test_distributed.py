"""A redraw through a Dask distributed cluster (a local one here; a scheduler address in deployment) gives the same
plan as the in-process solve, and reports progress per community as they finish."""

from __future__ import annotations

import pytest

from twin.redraw import RedrawParams, redraw

from .fixture import street


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        yield c


def test_cluster_plan_equals_local_plan(cluster):
    twin = street()
    params = RedrawParams(grids=5, start="fresh", seed=3, workers=1)
    local = redraw(twin, params)
    seen = []
    remote = redraw(twin, params, progress=lambda f, m="": seen.append((f, m)), scheduler=cluster.scheduler_address)
    assert remote.assignment.equals(local.assignment)
    assert [g.wkb for g in remote.grids.geometry] == [g.wkb for g in local.grids.geometry]
    communities = {m for _, m in seen if m.startswith("community ")}
    assert communities == {"community A", "community B"} and seen[-1] == (1.0, "done")  # names, not codes
    fractions = [f for f, _ in seen]
    assert all(b >= a - 1e-9 for a, b in zip(fractions, fractions[1:]))  # progress never goes back
