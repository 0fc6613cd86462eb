"""twin.heap: start-up garbage collected, survivors frozen only when asked (large twins), freed pages returned."""

import gc

from twin import heap


def test_release_freezes_survivors_only_when_asked():
    gc.unfreeze()
    kept = [[i] for i in range(1000)]  # long-lived containers, as a twin's start-up leaves
    try:
        heap.release(freeze=False)
        assert gc.get_freeze_count() == 0 and not heap.frozen()
        heap.release()
        assert gc.get_freeze_count() >= len(kept) and heap.frozen()
    finally:
        gc.unfreeze()
