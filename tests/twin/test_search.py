"""twin.search: keys as people type them, and the index on the tiny street."""

from __future__ import annotations

import numpy as np

from twin.access import PUBLIC, Principal
from twin.search import PackedKeys, SearchIndex, building_number, initials, normalize


def test_normalize_and_building_numbers():
    assert normalize(" ＧＤ２０２６ ") == "gd2026"
    assert normalize("3－2－501") == "3-2-501"
    assert (
        building_number("3号楼") == "3" and building_number("B1号楼") == "B1" and building_number("综合楼") == "综合楼"
    )
    assert initials(["玉兰华庭", "纺织厂宿舍2"]) == {"玉兰华庭": "ylht", "纺织厂宿舍2": "fzcss2"}


def test_prefix_rank_and_rooms(tiny_twin):
    ix = SearchIndex(tiny_twin)
    hits = ix.search("jxc", PUBLIC)  # 机械厂家属院 (jxcjsy) and its buildings, the compound first
    assert hits[0]["kind"] == "compound" and hits[0]["id"] == "C3"
    assert {h["id"] for h in hits[1:]} == {"B4", "B5"}
    assert ix.search("b3-1-2", PUBLIC) == []
    staff = Principal("staff", frozenset(["130702001001002"]))
    assert [h["id"] for h in ix.search("b3-1-2", staff)] == ["H7"]
    assert len(ix.search("b3-1", Principal("admin"))) == 4


def test_packed_keys_find_prefixes_in_key_order_with_later_additions():
    keys = PackedKeys(np.array(["ab", "abc", "b", "ab楼", "a"], dtype=object), np.arange(5))
    assert keys.prefix("ab") == [("ab", 0), ("abc", 1), ("ab楼", 3)]  # code point order, as sorted() gives
    assert keys.prefix("a", 2) == [("a", 4), ("ab", 0)] and keys.prefix("abcdefgh") == [] and len(keys) == 5
    keys.add("abd", 9)
    assert keys.prefix("ab") == sorted([("ab", 0), ("abc", 1), ("ab楼", 3), ("abd", 9)]) and len(keys) == 6
