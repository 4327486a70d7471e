"""The exact-stamp synchronizer: matches in either order, bounded buffers, counted drops."""
from __future__ import annotations

import pytest

from attune.errors import ConfigError
from attune.expression.sync import ExactStampSynchronizer


def test_matches_in_either_order() -> None:
    sync = ExactStampSynchronizer(queue_size=5)
    assert sync.add_first(10, 'img10') is None
    assert sync.add_second(10, 'faces10') == ('img10', 'faces10')
    assert sync.add_second(20, 'faces20') is None
    assert sync.add_first(20, 'img20') == ('img20', 'faces20')
    assert sync.counts.matched == 2 and sync.pending() == (0, 0)


def test_buffers_are_bounded_and_drops_counted() -> None:
    sync = ExactStampSynchronizer(queue_size=3)
    for stamp in range(1, 6):
        sync.add_first(stamp, stamp)
    assert sync.pending() == (3, 0) and sync.counts.dropped_first == 2
    assert sync.add_second(1, 'gone') is None          # its image was dropped: it waits
    assert sync.add_second(4, 'f4') == (4, 'f4')       # a match drops older unmatched items
    assert sync.pending() == (1, 0)                    # image 5 waits
    assert sync.counts.dropped_first == 3 and sync.counts.dropped_second == 1
    assert sync.add_second(2, 'late') is None and sync.counts.late_second == 1


def test_time_going_backwards_starts_afresh() -> None:
    sync = ExactStampSynchronizer(queue_size=3, jump_back_ns=1000)
    sync.add_first(5000, 'a')
    assert sync.add_second(5000, 'b') == ('a', 'b')
    assert sync.add_first(4500, 'late') is None and sync.counts.late_first == 1   # a little older: late
    sync.add_first(10, 'loop')                                                     # much older: a new run
    assert sync.add_second(10, 'f') == ('loop', 'f') and sync.counts.time_jumps == 1


def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        ExactStampSynchronizer(queue_size=0)
