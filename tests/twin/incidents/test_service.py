"""The incident service: placement, lifecycle, durability across a reopen, live index, concurrency, care checks."""

import threading
import time

import pandas as pd
import pytest
import shapely

from tests.tiny import GA1, GA2, GB1
from twin.errors import Conflict, InvalidInput, NotFound
from twin.incidents.store import COLUMNS

IN_B1 = {"lon": 114.8808, "lat": 40.8011}  # inside building B1 (compound C1, grid A1)
IN_B4 = {"lon": 114.8851, "lat": 40.8011}  # inside building B4 (compound C3, grid B1)
OPEN_GROUND = {"lon": 114.8830, "lat": 40.8029}  # grid A2, outside every compound, >50 m from buildings


def test_create_places_the_incident(svc):
    r = svc.create({"category": "garbage", "description": "楼道堆物", **IN_B1}, "resident")
    assert (r["grid_code"], r["community_id"], r["compound_id"], r["building_id"]) == (GA1, GA1[:12], "C1", "B1")
    assert r["stage"] == "reported" and r["level"] == "grid" and r["priority"] == 3
    assert svc.worker(r["grid_code"])["worker"] == "李网格"
    r2 = svc.create({"category": "sos", **OPEN_GROUND}, "wristband")
    assert r2["grid_code"] == GA2 and r2["compound_id"] is None and r2["building_id"] is None
    assert r2["priority"] == 9


def test_household_incident_sits_at_its_building(svc):
    r = svc.create({"category": "water_leak", "source": "sensor", "household_id": "H10"}, "meter")
    assert r["building_id"] == "B4" and r["grid_code"] == GB1 and r["household_id"] == "H10"
    with pytest.raises(NotFound):
        svc.create({"category": "water_leak", "household_id": "H99"}, "meter")


def test_what_create_returns_is_what_get_reads_back(svc):
    made = [svc.create({"category": "garbage", "description": "楼道堆物", "contact_phone": "138 0000", **IN_B1}, "a")]
    made += svc.create_many(
        [{"category": "sos", **OPEN_GROUND}, {"category": "water_leak", "household_id": "H10"}], "b"
    )
    made += svc.create_many([{"category": "parking", **IN_B4, "priority": 0}], "c", urgent_first=False)
    assert [m["category"] for m in made] == ["garbage", "sos", "water_leak", "parking"]
    for m in made:
        got = svc.get(m["incident_id"])
        assert m == got and [type(v) for v in m.values()] == [type(v) for v in got.values()], m["incident_id"]


def test_a_batch_names_every_bad_item_and_stores_nothing(svc):
    items = [{"category": "garbage", **IN_B1}, {"category": "nope", **IN_B1}, "x", {"category": "sos", "lon": 116.4}]
    items += [{"category": "water_leak", "household_id": "H99"}, {"category": "garbage", "lon": 116.4, "lat": 39.9}]
    with pytest.raises(InvalidInput) as caught:
        svc.create_many(items, "gateway")
    errors = caught.value.details["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(1, "category"), (2, None), (3, "lat"), (4, None), (5, "lat")]
    assert "household" in errors[3]["message"] and "outside the street" in errors[4]["message"]
    assert svc.store.count() == 0 and len(svc) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"category": "garbage"},  # no position
        {"category": "garbage", "lon": "east", "lat": 40.801},  # not a number
        {"category": "garbage", "lon": 116.4, "lat": 39.9},  # outside the street
        {"category": "nope", **IN_B1},  # unknown category
        {"category": "garbage", "description": "x" * 4001, **IN_B1},  # too long
        {"category": "garbage", "media_url": "javascript:alert(1)", **IN_B1},
        {"category": "garbage", "colour": "red", **IN_B1},  # unknown field
    ],
)
def test_bad_input_stores_nothing(svc, fields):
    v = svc.version
    with pytest.raises(InvalidInput):
        svc.create(fields, "resident")
    assert len(svc.frame()) == 0 and svc.version == v and svc.store.count() == 0


def test_plain_text_with_angle_brackets_is_kept(svc):
    r = svc.create({"category": "heating_pipe", "description": "室温 < 16 度 & 漏水", **IN_B1}, "resident")
    assert r["description"] == "室温 < 16 度 & 漏水"


def test_lifecycle_and_illegal_moves(svc, clock):
    r = svc.create({"category": "garbage", **IN_B1}, "resident")
    i = r["incident_id"]
    with pytest.raises(Conflict):
        svc.act(i, "resolve", "w")
    clock.advance(seconds=30)
    svc.act(i, "accept", "李网格")
    svc.act(i, "escalate", "李网格", note="需社区协调")
    assert svc.get(i)["level"] == "community"
    svc.act(i, "escalate", "社区")
    with pytest.raises(Conflict):
        svc.act(i, "escalate", "部门")
    clock.advance(minutes=20)
    svc.act(i, "arrive", "李网格")
    clock.advance(hours=2)
    svc.act(i, "resolve", "李网格")
    with pytest.raises(InvalidInput):
        svc.act(i, "close", "热线", rating=6)
    svc.act(i, "close", "热线", rating=4)
    got = svc.get(i)
    assert got["stage"] == "closed" and got["rating"] == 4
    assert got["on_site_at"] - got["reported_at"] == pd.Timedelta(minutes=20, seconds=30)
    svc.act(i, "reopen", "居民", note="又堆上了")
    got = svc.get(i)
    assert got["stage"] == "accepted" and got["rating"] is None and got["resolved_at"] is None
    assert got["on_site_at"] is not None  # the first arrival still counts for the on-site limit
    h = svc.history(i)
    assert [e["action"] for e in h] == [
        "report",
        "accept",
        "escalate",
        "escalate",
        "arrive",
        "resolve",
        "close",
        "reopen",
    ]
    assert h[2]["note"] == "需社区协调" and h[2]["detail"] == {"from_level": "grid", "to_level": "community"}
    assert (h[1]["from_stage"], h[1]["to_stage"], h[1]["actor"]) == ("reported", "accepted", "李网格")
    with pytest.raises(InvalidInput):
        svc.act(i, "teleport", "w")
    with pytest.raises(NotFound):
        svc.act("GD0", "accept", "w")


def test_overdue_comes_from_the_clock(svc, clock):
    r = svc.create({"category": "sos", **IN_B4}, "wristband")
    assert not svc.timeliness()["overdue"].any()
    clock.advance(minutes=3)
    t = svc.timeliness()
    assert t["overdue"].tolist() == [True] and t["overdue_limit"].tolist() == ["accept"]
    svc.act(r["incident_id"], "accept", "w")
    assert svc.timeliness()["overdue_limit"].tolist() == ["on_site"]


def test_everything_survives_a_restart(open_tiny, clock):
    twin = open_tiny()
    s = twin.incidents
    a = s.create({"category": "garbage", **IN_B1}, "resident")
    s.act(a["incident_id"], "accept", "w")
    b = s.create({"category": "parking", **IN_B4}, "resident")
    frame_before = s.frame()
    s.close()
    s2 = open_tiny().incidents
    pd.testing.assert_frame_equal(s2.frame(), frame_before)
    assert [e["action"] for e in s2.history(a["incident_id"])] == ["report", "accept"]
    c = s2.create({"category": "garbage", **IN_B4}, "resident")
    assert len({a["incident_id"], b["incident_id"], c["incident_id"]}) == 3
    assert list(s2.select(bbox=(114.8845, 40.8005, 114.8875, 40.8025))["incident_id"]) == [
        b["incident_id"],
        c["incident_id"],
    ]
    s2.close()


def test_select_uses_the_live_index_and_filters(svc, clock):
    a = svc.create({"category": "garbage", **IN_B1}, "r")
    clock.advance(days=1)
    b = svc.create({"category": "garbage", **IN_B4}, "r")
    c = svc.create({"category": "parking", **IN_B4}, "r")
    v = svc.version
    assert svc.frame() is svc.frame()  # cached per version
    ids = lambda f: sorted(f["incident_id"])  # noqa: E731
    assert ids(svc.select(bbox=(114.8845, 40.8, 114.888, 40.803))) == sorted([b["incident_id"], c["incident_id"]])
    assert ids(svc.select(geom=shapely.box(114.880, 40.8, 114.882, 40.803))) == [a["incident_id"]]
    assert ids(svc.select(category="garbage")) == sorted([a["incident_id"], b["incident_id"]])
    assert ids(svc.select(start=clock.t - pd.Timedelta(hours=1), category=["parking", "sos"])) == [c["incident_id"]]
    assert ids(svc.select(end=clock.t - pd.Timedelta(hours=1))) == [a["incident_id"]]
    with pytest.raises(InvalidInput):
        svc.select(colour="red")
    svc.act(a["incident_id"], "accept", "w")
    assert svc.version != v


def test_concurrent_writers_neither_lose_nor_duplicate(svc):
    made, errors = [], []

    def worker(k):
        try:
            for j in range(10):
                r = svc.create({"category": "garbage", "description": f"t{k}-{j}", **IN_B1}, f"w{k}")
                made.append(r["incident_id"])
                svc.act(r["incident_id"], "accept", f"w{k}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    f = svc.frame()
    assert len(made) == 80 == len(set(made)) == len(f) == svc.store.count()
    assert f["description"].nunique() == 80 and (f["stage"] == "accepted").all()
    assert len(svc.index) == 80


def test_care_checks_open_one_visit_on_the_third_miss(svc, clock):
    r = svc.record_call("H1", answered=False, actor="caller")
    assert r["missed_today"] == 1 and r["visit"] is None
    clock.advance(minutes=10)
    svc.record_call("H1", answered=True, actor="caller")  # an answered call does not count as a miss
    svc.record_call("H1", answered=False, actor="caller")
    clock.advance(minutes=10)
    third = svc.record_call("H1", answered=False, actor="caller")
    assert third["missed_today"] == 3
    v = third["visit"]
    assert v["category"] == "care_visit" and v["household_id"] == "H1" and v["building_id"] == "B1"
    assert third["worker"]["worker"] == "李网格"
    fourth = svc.record_call("H1", answered=False, actor="caller")
    assert fourth["visit"] is None and len(svc.frame()) == 1  # once a day
    clock.advance(days=1)
    for _ in range(3):
        last = svc.record_call("H1", answered=False, actor="caller")
    assert last["visit"] is not None and len(svc.frame()) == 2
    with pytest.raises(InvalidInput):
        svc.record_call("H2", answered=False, actor="caller")  # not an elderly person living alone
    assert len(svc.store.care_checks(household_id="H1")) == 8


def test_place_one_agrees_with_the_vectorised_place(svc):
    near_b3 = (114.8823, 40.8011)  # grid A2, west of compound C2, ~42 m from building B3
    pts = [
        (IN_B1["lon"], IN_B1["lat"]),
        (IN_B4["lon"], IN_B4["lat"]),
        (OPEN_GROUND["lon"], OPEN_GROUND["lat"]),
        near_b3,
        (116.4, 39.9),
    ]
    many = svc.placer.place([p[0] for p in pts], [p[1] for p in pts])
    ones = [svc.placer.place_one(*p) for p in pts]
    assert many.to_dict("records") == ones
    assert ones[0] == {"grid_code": GA1, "community_id": GA1[:12], "compound_id": "C1", "building_id": "B1"}
    assert ones[2]["grid_code"] == GA2 and ones[2]["compound_id"] is None and ones[2]["building_id"] is None
    assert ones[4] == dict.fromkeys(("grid_code", "community_id", "compound_id", "building_id"))
    assert ones[3] == {"grid_code": GA2, "community_id": GA2[:12], "compound_id": "C2", "building_id": "B3"}


def test_a_batch_is_stored_all_or_none(svc, monkeypatch):
    import sqlite3

    from twin.incidents import service as service_module

    batch = [{"category": "sos", **IN_B1}, {"category": "garbage", **IN_B4}]
    monkeypatch.setattr(service_module, "new_id", lambda now, seq: "GD-SAME")  # the second insert must fail
    with pytest.raises(sqlite3.IntegrityError):
        svc.create_many(batch, "gateway")
    assert svc.store.count() == 0 and len(svc) == 0 and svc.store.history("GD-SAME") == []
    monkeypatch.undo()
    made = svc.create_many(batch[::-1], "gateway")
    assert [m["category"] for m in made] == ["sos", "garbage"] and svc.store.count() == 2 and len(svc) == 2


def test_one_failing_group_of_a_shared_commit_fails_alone(svc):
    def make(tag):
        def build(seq):
            if tag == "bad":
                raise ValueError("cannot build this one")
            rec = {c: None for c in COLUMNS}
            rec.update(
                incident_id=f"GD-{tag}-{seq}",
                category="garbage",
                stage="reported",
                lon=114.8808,
                lat=40.8011,
                reported_at=pd.Timestamp("2026-03-02", tz="UTC"),
            )
            return rec, {"at": rec["reported_at"], "actor": "t", "action": "report", "to_stage": "reported"}

        return build

    a, bad, b = svc.store.insert_groups([[make("a"), make("a")], [make("a"), make("bad")], [make("b")]])
    assert [r["incident_id"] for r in a] == ["GD-a-1", "GD-a-2"] and isinstance(bad, ValueError)
    assert [r["incident_id"] for r in b] == ["GD-b-3"]  # the rolled-back group's seq 3 was given back
    assert svc.store.count() == 3 and [h["action"] for h in svc.store.history("GD-b-3")] == ["report"]


def test_concurrent_reports_share_commits(svc, monkeypatch):
    real, groups = svc.store.insert_groups, []

    def slow_insert_groups(batch):  # the first commit lasts until the seven other callers queue up behind it
        groups.append(len(batch))
        deadline = time.monotonic() + 60
        while len(groups) == 1 and len(svc._commits._pending) < 7 and time.monotonic() < deadline:
            time.sleep(0.005)
        return real(batch)

    monkeypatch.setattr(svc.store, "insert_groups", slow_insert_groups)
    start = threading.Barrier(8)
    made = [None] * 8

    def report(k):
        start.wait()
        made[k] = svc.create({"category": "garbage", "description": f"c{k}", **IN_B1}, f"w{k}")

    threads = [threading.Thread(target=report, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert groups == [1, 7]
    assert sorted(m["description"] for m in made) == [f"c{k}" for k in range(8)]
    f = svc.frame()
    assert list(f["incident_id"]) == sorted(f["incident_id"]) and len(svc.index) == 8 == svc.store.count()


def test_closed_incidents_text_lives_in_the_store_only(open_tiny, clock):
    twin = open_tiny()
    s = twin.incidents
    fields = {
        "category": "garbage",
        "description": "楼下堆了三天",
        "contact_name": "王",
        "contact_phone": "13800000000",
    }
    a = s.create({**fields, **IN_B1}, "resident")
    b = s.create({**fields, "description": "还在", **IN_B4}, "resident")
    i, j = s.table.pos[a["incident_id"]], s.table.pos[b["incident_id"]]
    for action in ("accept", "arrive", "resolve"):
        s.act(a["incident_id"], action, "w")
    assert i not in s.table.text and j in s.table.text  # resolved: its text is kept by the store only
    assert s.get(a["incident_id"])["description"] == "楼下堆了三天"
    rows = s.rows([j, i], ["incident_id", "description", "contact_phone", "stage"])
    assert rows["description"].tolist() == ["还在", "楼下堆了三天"] and rows.index.tolist() == [j, i]
    assert rows["contact_phone"].tolist() == ["13800000000"] * 2 and rows["stage"].tolist() == ["reported", "resolved"]
    s.act(a["incident_id"], "reopen", "居民")
    assert s.table.text[i][0] == "楼下堆了三天"  # open again: back in memory
    frame = s.frame()
    s.close()
    s2 = open_tiny().incidents  # after a restart, a closed one is loaded without its text, and still reads it
    s2.act(b["incident_id"], "accept", "w")
    for action in ("arrive", "resolve", "close"):
        s2.act(b["incident_id"], action, "w")
    s2.close()
    s3 = open_tiny().incidents
    assert s3.table.pos[b["incident_id"]] not in s3.table.text
    assert s3.get(b["incident_id"])["description"] == "还在"
    pd.testing.assert_frame_equal(s3.frame()[["description", "contact_name"]], frame[["description", "contact_name"]])
    c = s3.create({**fields, "description": "新的", **IN_B4}, "resident")  # a full frame again: kept text + the new
    s3.act(c["incident_id"], "accept", "w")
    again = s3.frame()
    assert again["description"].tolist() == s3.rows(range(len(s3)), ["description"])["description"].tolist()
    assert again["description"].tolist()[-1] == "新的" and len(again) == len(frame) + 1
    s3.close()
