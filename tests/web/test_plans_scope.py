"""A grid worker's requests after adoptions and rollbacks (issue 19): the staff token limited to the tiny street's
west grid as loaded (...001: B1, B2, households H1-H5) reads those households under every plan of tests/tiny.py,
however the codes move, and never the east box's (B3: H6-H9)."""

from __future__ import annotations

import pytest

from tests.tiny import PLAN_1, PLAN_2, recoded_grids

WEST = ["H1", "H2", "H3", "H4", "H5"]
STAFF, ADMIN = {"Authorization": "Bearer staff-a1"}, {"Authorization": "Bearer boss"}


@pytest.fixture
def app(roles_app):
    return roles_app()


def adopt(app, plan) -> dict:
    """Publish a hand-made plan effective today, as an adoption does."""
    from twin import plans
    from web import plans as web_plans

    with app.app_context():
        day, twin = web_plans.today(), app.extensions["twin"]
        meta = web_plans.store().publish(recoded_grids(plan), day, "t", "test", {}, day, plans.layer_rows(twin))
    app.extensions.pop("plans_synced", None)
    return meta


def reads(client) -> list:
    """The households the grid worker reads (in full), and whether an east household is refused to them."""
    r = client.get("/collections/households/items?limit=100", headers=STAFF)
    assert r.status_code == 200, r.get_json()
    assert client.get("/collections/households/items/H6", headers=STAFF).status_code == 403
    return sorted((f["properties"]["household_id"] for f in r.get_json()["features"]), key=lambda h: int(h[1:]))


def rollback(client, meta) -> None:
    assert client.post(f"/api/plans/{meta['id']}/rollback", headers=ADMIN).status_code == 200


def test_after_two_adoptions_and_rolling_back_the_last(app):
    client = app.test_client()
    assert reads(client) == WEST
    adopt(app, PLAN_1)
    assert reads(client) == WEST
    p2 = adopt(app, PLAN_2)
    assert reads(client) == WEST
    assert client.get("/collections/households/items/H1", headers=STAFF).status_code == 200
    rollback(client, p2)
    assert reads(client) == WEST


def test_after_rolling_back_the_plan_the_next_was_adopted_over(app):
    client = app.test_client()
    p1 = adopt(app, PLAN_1)
    adopt(app, PLAN_2)
    rollback(client, p1)
    assert [p["in_force"] for p in client.get("/api/plans").get_json()["plans"]] == [True, False, False]
    assert reads(client) == WEST
