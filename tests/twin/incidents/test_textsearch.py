"""Text search of incidents (ids and descriptions, any language, case-folded): the index answers exactly what a
plain scan of every row answers, across blocks, the rows written since and a filtered subset."""

from __future__ import annotations

import numpy as np
import pytest

from twin.access import Principal
from twin.incidents import textsearch
from twin.incidents.queue import Filters, select
from twin.incidents.textsearch import TextIndex, scan

WHERE = {"lon": 114.8808, "lat": 40.8011}
TEXTS = ["楼道堆放杂物", "楼道灯不亮", "漏水", None, "Street LIGHT broken", "3<5 楼", "路灯", "堆物"]


def file(svc, texts):
    return [svc.create({"category": "garbage", "description": t, **WHERE}, "t")["incident_id"] for t in texts]


def brute(svc, q: str) -> list[int]:
    """Every row checked by hand: the reference."""
    q = q.casefold()
    ids = svc.table.cols["incident_id"]
    texts = [svc.get(i).get("description") for i in ids[: svc.table.n]]  # one by one, closed ones from the store
    return [i for i in range(svc.table.n) if q in (ids[i] or "").casefold() or q in (texts[i] or "").casefold()]


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 3 rows and no direct scan of small subsets, so a handful of rows spans blocks and a tail."""
    monkeypatch.setattr(textsearch, "BLOCK_MIN", 3)
    monkeypatch.setattr(textsearch, "SCAN_BELOW", 0)


@pytest.mark.parametrize("q", ["楼道", "楼", "堆", "light", "LIGHT", "3<5", "杂物", "不在", "GD", "0000002"])
def test_the_index_finds_what_a_scan_of_every_row_finds(svc, small_blocks, q):
    ids = file(svc, TEXTS)
    index = TextIndex()
    assert index.positions(svc.table, q).tolist() == brute(svc, q)
    assert index.covered() == len(ids)  # one block of everything at the first search
    file(svc, TEXTS[:2])  # two rows since: scanned directly, not yet a block
    assert index.positions(svc.table, q).tolist() == brute(svc, q) and index.covered() == len(ids)
    file(svc, TEXTS[2:4])  # now four: a second block
    assert index.positions(svc.table, q).tolist() == brute(svc, q) and index.covered() == len(ids) + 4


def test_closed_incidents_are_found_by_the_text_the_store_keeps(svc, small_blocks):
    ids = file(svc, TEXTS)
    for a in ("accept", "arrive", "resolve"):  # 楼道灯不亮 resolved: its text now lives in the store only
        svc.act(ids[1], a, "t")
    assert 1 not in svc.table.text and 0 in svc.table.text  # memory keeps open incidents' text only
    assert TextIndex().positions(svc.table, "灯不亮").tolist() == [1] == brute(svc, "灯不亮")
    assert scan(svc.table, "灯不亮", np.arange(len(ids))).tolist() == [i == 1 for i in range(len(ids))]


def test_the_counts_worked_out_by_hand(svc, small_blocks):
    file(svc, TEXTS * 3)
    index = TextIndex()
    assert len(index.positions(svc.table, "楼道")) == 6  # two texts hold it, three times each
    assert len(index.positions(svc.table, "堆")) == 6  # 楼道堆放杂物 and 堆物
    assert len(index.positions(svc.table, "灯")) == 6  # 楼道灯不亮 and 路灯
    assert index.positions(svc.table, "").tolist() == [] and index.positions(svc.table, "\x00").tolist() == []
    within = np.array([0, 1, 2, 8, 9], dtype=np.int64)
    assert index.positions(svc.table, "楼道", within).tolist() == [0, 1, 8, 9]
    assert scan(svc.table, "漏水", within).tolist() == [False, False, True, False, False]


def test_the_work_queue_searches_through_the_index(svc, small_blocks):
    ids = file(svc, TEXTS)
    sel = select(svc, Principal("admin", None, "head"), Filters(stages=None, q="楼道"))
    assert sorted(sel.service.table.cols["incident_id"][sel.positions]) == sorted(ids[:2])
    assert "text_index" in svc.memo  # kept across requests
