"""Redraw over HTTP on the hand-made street (tests/twin/redraw/fixture.py): a job runs in the background to
completion, progress only rises, the result is GeoJSON or GeoPackage with metrics, bad input is a 400 naming the
field, unknown jobs 404, roles are enforced and the queue limit answers 409."""

from __future__ import annotations

import json
import threading

import pytest
import shapely
import shapely.geometry

from tests.twin.redraw.fixture import A, B, street
from twin.jobs import JobRunner
from web import create_app

TOKENS = [
    {"role": "staff", "token": "s3cret-staff"},
    {"role": "staff", "token": "s3cret-grid-staff", "grids": ["130702001001001"]},
    {"role": "admin", "token": "s3cret-admin"},
    {"role": "planner", "token": "s3cret-planner"},
]
STAFF = {"Authorization": "Bearer s3cret-staff"}
ADMIN = {"Authorization": "Bearer s3cret-admin"}


@pytest.fixture(scope="module")
def street_twin():
    return street()


def make_app(twin, tmp_path, **config):
    return create_app(
        {
            "TESTING": True,
            "TWIN": twin,
            "STATE_DIR": str(tmp_path / "state"),
            "TOKENS": json.dumps(TOKENS),
            "REDRAW_WORKERS": 1,
            **config,
        }
    )


@pytest.fixture
def client(street_twin, tmp_path):
    return make_app(street_twin, tmp_path).test_client()


def run_job(client, body, headers=ADMIN):
    r = client.post("/api/redraw", json=body, headers=headers)
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    client.application.extensions["jobs"].wait(job["id"], timeout=60)
    return job


def test_job_runs_to_completion_with_result_and_metrics(client):
    job = run_job(client, {"grids": 5, "band": 0.05, "seed": 1})
    assert job["status"] in ("queued", "running", "done") and job["url"] == f"/api/jobs/{job['id']}"
    status = client.get(job["url"], headers=ADMIN).get_json()
    assert status["status"] == "done" and status["progress"] == 1.0 and status["error"] is None
    assert status["result_url"] == f"/api/jobs/{job['id']}/result"
    assert status["summary"]["after"]["max_deviation_pct"] <= 5.0
    assert status["summary"]["before"]["max_deviation_pct"] == 50.0  # today: 30/60/30 households, ideal 40
    r = client.get(status["result_url"], headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    assert len(fc["features"]) == 5
    a = [f["properties"] for f in fc["features"] if f["properties"]["community_id"] == A]
    assert sorted(p["households"] for p in a) == [30, 30, 30, 30]
    assert fc["metadata"]["after"] == status["summary"]["after"]
    assert all(
        shapely.geometry.shape(f["geometry"]).contains(shapely.Point(f["properties"]["label_point"]))
        for f in fc["features"]
    )
    before = client.get(status["result_url"] + "?which=before", headers=ADMIN).get_json()
    assert sorted(
        f["properties"]["households"] for f in before["features"] if f["properties"]["community_id"] == A
    ) == [30, 30, 60]


def test_result_as_geopackage(client, tmp_path):
    import geopandas as gpd

    job = run_job(client, {"grids": 5, "seed": 1})
    r = client.get(f"/api/jobs/{job['id']}/result?f=gpkg", headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    assert "attachment" in r.headers["Content-Disposition"]
    path = tmp_path / "plan.gpkg"
    path.write_bytes(r.data)
    grids = gpd.read_file(path, layer="grids")
    assert len(grids) == 5 and set(grids["community_id"]) == {A, B}
    assert len(gpd.read_file(path, layer="assignment")) == 15
    assert client.get(f"/api/jobs/{job['id']}/result?f=shp", headers=ADMIN).status_code == 400


def test_job_progress_rises_through_the_redraw(street_twin, tmp_path, monkeypatch):
    import web.redraw as module

    real, seen = module.redraw, []

    def recording(twin, params, progress=None):
        def report(fraction, message=""):
            seen.append((fraction, message))
            progress(fraction, message)

        return real(twin, params, progress=report)

    monkeypatch.setattr(module, "redraw", recording)
    client = make_app(street_twin, tmp_path).test_client()
    job = run_job(client, {"grids": 5, "seed": 2, "effort": 40})
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len({f for f in fractions if 0 < f < 1}) >= 5  # intermediate steps, not just start and end
    assert any(m.startswith("community") for _, m in seen)
    status = client.get(job["url"], headers=ADMIN).get_json()
    assert status["progress"] == 1.0 and status["message"] == "done"


def test_the_bar_moves_while_the_maps_and_hand_over_are_prepared(street_twin):
    # after the solve (90%) each plan of the run is serialised in three pieces (hand-over, moved buildings, map),
    # each reported, so the bar does not sit at one value while they are drawn; then 100% once all are ready
    from twin.redraw import RedrawParams
    from web.redraw import run

    seen = []
    plan = run(
        street_twin,
        RedrawParams(grids=5, seed=2, effort=20, workers=1, keep=0.3, frontier=(0.0, 0.9)),
        lambda f, m="": seen.append((f, m)),
    )
    late = [f for f, m in seen if f >= 0.9]
    assert [m for f, m in seen if f >= 0.9][-1] == "done" and late[-1] == 1.0 and late == sorted(late)
    assert len({f for f, m in seen if m == "serialising" and f > 0.9}) == 3 * 3  # 3 plans × 3 pieces
    assert all({"handover", "moved", "after", "before"} <= set(p.cache) for p in plan.variants.values())


def test_runner_reports_progress_while_running_and_does_not_block():
    runner = JobRunner(max_queued=2)
    step, go = threading.Event(), threading.Event()

    def work(progress):
        progress(0.25, "first")
        step.set()
        go.wait(10)
        progress(0.1, "a late, lower report")  # never moves the bar back
        return 42

    job = runner.submit("test", work)
    assert step.wait(10)
    assert runner.get(job.id).to_dict()["progress"] == 0.25 and runner.get(job.id).status == "running"
    go.set()
    done = runner.wait(job.id, timeout=10)
    assert done.status == "done" and done.result == 42 and done.progress == 1.0
    runner.shutdown()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"band": 2}, "band"),
        ({"grids": 0}, "grids"),
        ({"grids": 3, "target": 300}, "grids"),
        ({"keep": "lots"}, "keep"),
        ({"seed": 1.5}, "seed"),
        ({"start": "nowhere"}, "start"),
        ({"weights": {"cats": 1}}, "weights"),
        ({"locked": [5]}, "locked"),
        ({"locked": ["999999999999999"]}, "locked"),
        ({"grids": 40}, "grids"),
        ({"grid": 3}, "grid"),
        ({"frontier": [0, 1.5]}, "frontier"),
        # every grid of A locked and A alone asked for one more grid: refused at once, not a crash in the job
        ({"grids": 4, "communities": [A], "locked": [A + "001", A + "002", A + "003"]}, "grids"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client, body, field):
    r = client.post("/api/redraw", json=body, headers=ADMIN)
    assert r.status_code == 400
    err = r.get_json()
    assert err["code"] == "invalid_input" and err["details"]["field"] == field, err
    assert "jobs" not in client.application.extensions or not client.application.extensions["jobs"]._jobs


def test_body_must_be_a_json_object(client):
    r = client.post("/api/redraw", data="grids=3", content_type="application/json", headers=ADMIN)
    assert r.status_code == 400
    r = client.post("/api/redraw", json=[1, 2], headers=ADMIN)
    assert r.status_code == 400 and "JSON object" in r.get_json()["message"]


def test_unknown_job_is_404(client):
    for url in ("/api/jobs/nope", "/api/jobs/nope/result"):
        r = client.get(url, headers=ADMIN)
        assert r.status_code == 404 and r.get_json()["code"] == "not_found"


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer s3cret-planner"}, 403),
        ({"Authorization": "Bearer wrong"}, 401),
        (STAFF, 403),
        ({"Authorization": "Bearer s3cret-grid-staff"}, 403),
    ],
)
def test_roles_are_enforced(client, headers, status):
    assert client.post("/api/redraw", json={"grids": 5}, headers=headers).status_code == status
    assert client.get("/api/jobs/x", headers=headers).status_code == status
    assert client.get("/api/jobs/x/result", headers=headers).status_code == status


def test_queue_limit_is_409_and_status_answers_while_a_job_runs(street_twin, tmp_path, monkeypatch):
    import web.redraw as module

    release = threading.Event()

    def slow_redraw(twin, params, progress=None):
        progress(0.5, "waiting")
        release.wait(20)
        from twin.redraw import redraw

        return redraw(twin, params)

    monkeypatch.setattr(module, "redraw", slow_redraw)
    client = make_app(street_twin, tmp_path, REDRAW_QUEUE=1).test_client()
    first = client.post("/api/redraw", json={"grids": 5}, headers=ADMIN).get_json()
    second = client.post("/api/redraw", json={"grids": 5}, headers=ADMIN)
    assert second.status_code == 409 and second.get_json()["code"] == "conflict"
    status = client.get(first["url"], headers=ADMIN).get_json()  # the server answers while the job works
    assert status["status"] in ("queued", "running")
    assert client.get(first["result_url"], headers=ADMIN).status_code == 404
    release.set()
    assert client.application.extensions["jobs"].wait(first["id"], 60).status == "done"
    assert client.post("/api/redraw", json={"grids": 5}, headers=ADMIN).status_code == 202


def test_failed_job_reports_the_error(street_twin, tmp_path, monkeypatch):
    import web.redraw as module
    from twin.errors import InvalidInput

    def failing(twin, params, progress=None):
        raise InvalidInput("community X has 2 buildings, too few for 3 grids")

    monkeypatch.setattr(module, "redraw", failing)
    client = make_app(street_twin, tmp_path).test_client()
    job = run_job(client, {"grids": 5})
    status = client.get(job["url"], headers=ADMIN).get_json()
    assert status["status"] == "failed" and "too few" in status["error"]["message"]
    r = client.get(job["result_url"], headers=ADMIN)
    assert r.status_code == 404 and r.get_json()["details"]["status"] == "failed"


def test_page_is_chinese_by_default_and_english_on_request(client):
    zh = client.get("/redraw").get_data(as_text=True)
    assert "网格重划" in zh and 'lang="zh-CN"' in zh and "redraw.js" in zh
    en = client.get("/redraw?lang=en").get_data(as_text=True)
    assert "Grid redraw" in en and 'lang="en"' in en
