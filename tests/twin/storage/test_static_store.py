"""StaticStore contract: every backend gives a layer's rows exactly as the files hold them, and a stable version."""

from __future__ import annotations

import pandas as pd
import pytest

from layers import REGISTRY
from twin.errors import NotFound
from twin.store import FileStore

STATIC = [k for k in REGISTRY.values() if not k.live]


@pytest.mark.parametrize("kind", STATIC, ids=lambda k: k.name)
def test_layer_rows_equal_the_files(backend, tiny_dir, kind):
    store = backend()
    got = store.read_layer(kind)
    want = FileStore(tiny_dir).read_layer(kind)
    assert isinstance(got.index, pd.RangeIndex) and got.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry"))
    )
    assert list(got.geometry.to_wkb()) == list(want.geometry.to_wkb())


def test_version_is_stable_across_openings_and_kinds_differ(backend):
    a, b = backend(), backend()
    versions = {k.name: a.layer_version(k) for k in STATIC}
    assert versions == {k.name: b.layer_version(k) for k in STATIC}
    assert len(set(versions.values())) == len(STATIC)  # each layer has its own content, so its own version


def test_missing_layer_is_not_found(backend):
    from dataclasses import replace

    ghost = replace(REGISTRY["buildings"], name="cameras", file_stem="cameras")
    with pytest.raises(NotFound):
        backend().read_layer(ghost)
