"""Adopting a redraw (issue 19) on the hand-made street: the hand-over and the frontier in the job's result, an
admin publishes a plan (grids layer, buildings' grids, workers and versions follow), history and old plans stay
readable, incidents keep their grid while reports can be read by either plan, and a rollback restores the grids."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.twin.redraw.fixture import A, B, street
from web import create_app

TOKENS = [
    {"role": "admin", "token": "adm", "name": "office-admin"},
    {"role": "staff", "token": "stf"},
    {"role": "staff", "token": "grid-stf", "grids": [A + "001"]},
]
ADMIN = {"Authorization": "Bearer adm"}


BACKENDS = ("embedded", "postgres")  # the plan store of `plans_client`: STATE_DIR's SQLite, or PostgreSQL


def street_app(state_dir, store=None, **config):
    """An app on a fresh hand-made street (adoption changes the twin: one per app), its plans on `store` when given
    (else STATE_DIR's SQLite file)."""
    twin = street()
    g = twin.layers["grids"].frame
    g["worker"] = ["王一", "李二", "张三", "赵四"]  # one worker per grid, so the hand-over names who gives to whom
    twin.store = store
    base = {"TESTING": True, "TWIN": twin, "STATE_DIR": str(state_dir), "TOKENS": json.dumps(TOKENS)}
    return create_app({**base, "REDRAW_WORKERS": 1, **config})


@pytest.fixture
def client(tmp_path):
    return street_app(tmp_path / "state").test_client()


@pytest.fixture
def stores(backend, request):
    """Makes the storage each app keeps its plans in: None (STATE_DIR's SQLite) or one PostgreSQL database."""
    if backend == "embedded":
        yield lambda: None
        return
    from twin.postgres import PostgresStore

    url, opened = request.getfixturevalue("database_url"), []
    yield lambda: opened.append(PostgresStore(url)) or opened[-1]
    for s in opened:
        s.close()


@pytest.fixture
def plans_client(tmp_path, stores):
    """A client whose app keeps its plans on each backend in turn."""
    return street_app(tmp_path / "state", stores()).test_client()


def run(client, body):
    r = client.post("/api/redraw", json=body, headers=ADMIN)
    assert r.status_code == 202, r.get_json()
    job = client.application.extensions["jobs"].wait(r.get_json()["id"], timeout=120)
    assert job.status == "done", job.error
    return client.get(f"/api/jobs/{job.id}", headers=ADMIN).get_json()


def test_handover_names_buildings_households_and_workers(client):
    # today A is 30/60/30 households in strips A001 (王一) | A002 (李二) | A003 (张三); balanced is 40/40/40, so
    # 李二 hands one building of 10 households to each neighbour (keep 1: the fewest moves)
    status = run(client, {"keep": 1.0, "band": 0.05, "seed": 1})
    h = status["handover"]
    assert h["totals"] == {"buildings": 2, "households": 20, "households_pct": 13.33}
    assert [(m["from_grid"], m["to_grid"], m["households"]) for m in h["moves"]] == [
        (A + "002", A + "001", 10),
        (A + "002", A + "003", 10),
    ]
    assert {m["from_worker"] for m in h["moves"]} == {"李二"} and {m["to_worker"] for m in h["moves"]} == {
        "王一",
        "张三",
    }
    workers = {w["worker"]: w for w in h["workers"]}
    assert workers["李二"]["gives_households"] == 20 and workers["李二"]["receives_households"] == 0
    assert workers["王一"]["receives_buildings"] == 1 and workers["张三"]["receives_households"] == 10
    moved_ids = sorted(i for m in h["moves"] for i in m["building_ids"])
    fc = client.get(status["handover_url"] + "?f=geojson", headers=ADMIN).get_json()
    assert sorted(f["properties"]["building_id"] for f in fc["features"]) == moved_ids
    csv = client.get(status["handover_url"] + "?f=csv", headers=ADMIN)
    assert csv.mimetype == "text/csv" and "李二" in csv.get_data(as_text=True)
    x = client.get(status["handover_url"] + "?f=xlsx&lang=en", headers=ADMIN)
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.data))
    assert wb.sheetnames == ["Moves", "Workers"]
    rows = list(wb["Moves"].values)
    assert rows[0][:2] == ("From grid", "To grid") and len(rows) == 3
    assert client.get(status["handover_url"] + "?f=pdf", headers=ADMIN).status_code == 400


def test_frontier_points_each_hold_a_plan(client):
    status = run(client, {"keep": 0.3, "frontier": [0, 0.9], "band": 0.05, "seed": 1})
    pts = status["frontier"]
    assert [p["keep"] for p in pts] == [0.0, 0.3, 0.9] and [p["chosen"] for p in pts] == [False, True, False]
    assert all(p["band_holds"] and p["max_deviation_pct"] <= 5.0 for p in pts)
    # moving fewer households costs compactness, never the other way round on this street
    assert pts[0]["moved_households_pct"] >= pts[-1]["moved_households_pct"]
    for p in pts:
        fc = client.get(p["result_url"], headers=ADMIN).get_json()
        assert fc["metadata"]["params"]["keep"] == p["keep"] and fc["metadata"]["after"]["pp_mean"] == p["pp_mean"]
    assert client.get(status["result_url"] + "?keep=0.5", headers=ADMIN).status_code == 404
    assert client.post("/api/redraw", json={"frontier": [2]}, headers=ADMIN).status_code == 400


def test_adopt_history_reports_by_either_plan_and_rollback(plans_client):
    client = plans_client
    twin = client.application.extensions["twin"]
    before_version = twin.layer("grids").version
    status = run(client, {"keep": 0.0, "start": "fresh", "grids": 5, "band": 0.05, "seed": 2})
    new_codes = sorted(
        f["properties"]["grid_code"] for f in client.get(status["result_url"], headers=ADMIN).get_json()["features"]
    )
    for who in ({"Authorization": "Bearer stf"}, {"Authorization": "Bearer grid-stf"}, {}):
        assert client.post(status["adopt_url"], json={}, headers=who).status_code in (401, 403)
    bad = client.post(status["adopt_url"], json={"effective_date": "2001-01-01"}, headers=ADMIN)
    assert bad.status_code == 400 and bad.get_json()["details"]["field"] == "effective_date"
    r = client.post(status["adopt_url"], json={"keep": 0.0}, headers=ADMIN)
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    assert plan["status"] == "published" and plan["created_by"] == "office-admin"
    # the grids layer is the plan now: codes, version (so ETags), the buildings' grids, the workers moved along
    grids = twin.frame("grids")
    assert sorted(grids["grid_code"]) == new_codes and twin.layer("grids").version != before_version
    assert set(twin.frame("buildings")["grid_code"]) == set(new_codes)
    assert set(grids["worker"]) <= {"王一", "李二", "张三", "赵四", "待定"}
    assert grids.set_index("grid_code").loc[B + "001", "worker"] == "赵四"
    hist = client.get("/api/plans").get_json()["plans"]
    assert [(p["status"], p["in_force"]) for p in hist] == [("published", True), ("baseline", False)]
    old = client.get(hist[1]["url"]).get_json()
    assert sorted(f["properties"]["grid_code"] for f in old["features"]) == [A + "001", A + "002", A + "003", B + "001"]
    assert "worker_phone" not in old["features"][0]["properties"]
    # roll back: the layer as loaded again, the plan kept in the history, marked
    assert client.post(plan["rollback_url"], headers={"Authorization": "Bearer grid-stf"}).status_code == 403
    rb = client.post(plan["rollback_url"], headers=ADMIN)
    assert rb.status_code == 200 and rb.get_json()["status"] == "rolled_back"
    assert sorted(twin.frame("grids")["grid_code"]) == [A + "001", A + "002", A + "003", B + "001"]
    assert twin.layer("grids").version == before_version
    assert client.post(plan["rollback_url"], headers=ADMIN).status_code == 409
    assert client.get("/api/plans/999").status_code == 404


def test_a_redraw_run_before_another_adoption_cannot_be_adopted(plans_client):
    client = plans_client
    # its previous codes are those of the grids it was drawn over, which are no longer in force
    first = run(client, {"keep": 0.0, "start": "fresh", "grids": 5, "seed": 2})
    second = run(client, {"keep": 1.0, "seed": 1})
    assert client.post(first["adopt_url"], json={}, headers=ADMIN).status_code == 201
    stale = client.post(second["adopt_url"], json={}, headers=ADMIN)
    assert stale.status_code == 409 and "run the redraw again" in stale.get_json()["message"]
    assert len(client.get("/api/plans").get_json()["plans"]) == 2  # the baseline and the first plan only


def test_adopting_a_redraw_of_one_community_keeps_the_others_grids(plans_client):
    client = plans_client
    twin = client.application.extensions["twin"]
    status = run(client, {"communities": [A], "keep": 0.0, "start": "fresh", "grids": 4, "seed": 2})
    assert client.post(status["adopt_url"], json={}, headers=ADMIN).status_code == 201
    grids = twin.frame("grids").set_index("grid_code")
    assert (grids["community_id"] == A).sum() == 4 and grids.loc[B + "001", "worker"] == "赵四"
    b = twin.frame("buildings")
    assert set(b.loc[b["community_id"] == B, "grid_code"]) == {B + "001"}  # B's buildings are still in its grid


def test_a_plan_effective_later_is_not_in_force_yet(plans_client):
    client = plans_client
    twin = client.application.extensions["twin"]
    status = run(client, {"keep": 0.0, "start": "fresh", "grids": 5, "seed": 2})
    r = client.post(status["adopt_url"], json={"effective_date": "2999-01-01"}, headers=ADMIN)
    assert r.status_code == 201
    assert sorted(twin.frame("grids")["grid_code"]) == [A + "001", A + "002", A + "003", B + "001"]
    assert [p["in_force"] for p in client.get("/api/plans").get_json()["plans"]] == [False, True]


def test_a_grid_workers_scope_follows_their_grid_into_the_plan(plans_client):
    client = plans_client
    # a plan in which today's A001 is the new grid A009: the worker limited to A001 reaches A009 too
    from flask import g

    from twin import plans
    from twin.access import Principal
    from web.auth import token_digest

    app = client.application
    twin = app.extensions["twin"]
    grids = twin.frame("grids").copy()
    grids["previous_code"] = grids["grid_code"]
    grids.loc[grids["grid_code"] == A + "001", "grid_code"] = A + "009"
    with app.app_context():
        meta = app.extensions["plans"].publish(
            grids, dt.date(2000, 1, 1), "t", "test", {}, dt.date(2000, 1, 1), plans.layer_rows(twin)
        )
    app.extensions.pop("plans_synced", None)
    app.extensions["tokens"] = {
        **app.extensions["tokens"],
        token_digest("a1-stf"): Principal(role="staff", grids=frozenset([A + "001"]), name="a1"),
    }
    with client:
        client.get("/api/plans", headers={"Authorization": "Bearer a1-stf"})
        assert twin.plan_tag == f"plan{meta['id']}"
        assert g.principal.grids == {A + "001", A + "009"} and g.principal.may_see_grid(A + "009")
        assert not g.principal.may_see_grid(A + "002")
    assert plans.scope_in_force(None, twin) is None


def test_a_plan_adopted_through_one_process_is_in_force_in_the_other(tmp_path, stores):
    one = street_app(tmp_path / "state", stores(), SYNC_SECONDS=0).test_client()
    two = street_app(tmp_path / "state", stores(), SYNC_SECONDS=0).test_client()
    twin_two = two.application.extensions["twin"]
    status = run(one, {"keep": 0.0, "start": "fresh", "grids": 5, "band": 0.05, "seed": 2})
    plan = one.post(status["adopt_url"], json={}, headers=ADMIN).get_json()
    hist = two.get("/api/plans").get_json()["plans"]
    assert [(p["id"], p["in_force"]) for p in hist][0] == (plan["id"], True)
    assert twin_two.plan_tag == f"plan{plan['id']}" and len(twin_two.frame("grids")) == 5
    assert one.post(plan["rollback_url"], headers=ADMIN).status_code == 200
    assert two.get(f"/api/plans/{plan['id']}").get_json()["metadata"]["status"] == "rolled_back"
    assert twin_two.plan_tag is None and len(twin_two.frame("grids")) == 4
