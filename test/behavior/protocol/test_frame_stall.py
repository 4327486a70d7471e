"""FrameStall: running calls are decided on the frames' clock when frames stop, never before a call's
frames had time to arrive."""
from __future__ import annotations

import pytest

from attune.behavior.protocol import FrameStall, NameCallProtocol, ProtocolStatus
from attune.errors import ConfigError

S = 1_000_000_000


def test_nothing_is_due_before_a_frame_or_a_call() -> None:
    assert FrameStall(2.0).due(1e6) is None


def test_a_call_stamped_long_before_the_wall_clock_waits_for_its_frames() -> None:
    # A bag written 13 s before it is played: stamps are old, but the call has just started.
    stall, protocol = FrameStall(2.0), NameCallProtocol()
    call_ns = 100 * S
    stall.call(call_ns, wall_s=1000.0)
    protocol.start(call_ns, 'f1', 'Sam')
    assert checks(stall, 1000.0, 1001.9) is None  # the old code decided NO_FACE here (node clock - 2 s > the stamp)
    for i in range(10):  # the frames arrive, late on the wall clock
        stall.frame(call_ns - S // 2 + i * S // 10, wall_s=1002.0 + i * 0.1)
    assert stall.due(1003.0) is None


def test_frames_stopping_decide_calls_on_the_extrapolated_frame_clock() -> None:
    stall, protocol = FrameStall(2.0), NameCallProtocol()
    stall.frame(50 * S, wall_s=10.0)
    stall.call(50 * S, wall_s=10.5)
    protocol.start(50 * S, 'f1', 'Sam')
    assert checks(stall, 10.5, 12.4) is None
    due = stall.due(12.6)
    assert due == 50 * S + int(2.6 * S)
    (result,) = protocol.advance(due)
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'no_frames'


def test_a_pause_of_the_process_is_not_a_stall_and_the_queued_frames_go_first() -> None:
    # The node's process stopped for 10 s (a busy machine) while the camera went on; the overdue timer
    # runs first, then the frames that queued meanwhile.
    stall = FrameStall(2.0)
    stall.call(50 * S, wall_s=10.0)
    assert checks(stall, 10.0, 10.4) is None
    assert stall.due(20.4) is None  # 10 s late: counted as 0.5 s
    for i in range(300):
        stall.frame(50 * S + i * S // 30, wall_s=20.41 + i * 0.001)
    assert checks(stall, 20.8, 21.8) is None
    # Frames that really stop are still a stall, at the time-out of running time.
    assert stall.due(22.0) is None and checks(stall, 22.0, 22.6) is None  # 1.89 s
    assert stall.due(22.9) is not None


def test_checks_far_apart_count_at_most_the_longest_gap_each() -> None:
    stall = FrameStall(2.0, max_check_gap_s=0.5)
    stall.frame(0, wall_s=0.0)
    assert [stall.due(t) for t in (5.0, 10.0, 15.0, 20.0)] == [None] * 4  # 2.0 s counted, not more
    assert stall.due(25.0) == 25 * S


def test_the_time_out_and_the_gap_must_be_positive() -> None:
    with pytest.raises(ConfigError, match='time-out'):
        FrameStall(0.0)
    with pytest.raises(ConfigError, match='gap'):
        FrameStall(2.0, max_check_gap_s=0.0)


def checks(stall: FrameStall, start_s: float, end_s: float, period_s: float = 0.2) -> int | None:
    """Check every period_s from start_s (exclusive) to end_s (inclusive), as the node's timer does;
    the first due time, else None."""
    for i in range(1, int(round((end_s - start_s) / period_s)) + 1):
        due = stall.due(start_s + i * period_s)
        if due is not None:
            return due
    return None
