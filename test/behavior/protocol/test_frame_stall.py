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
    assert stall.due(1001.9) is None  # the old code decided NO_FACE here (node clock - 2 s > the stamp)
    for i in range(10):  # the frames arrive, late on the wall clock
        stall.frame(call_ns - S // 2 + i * S // 10, wall_s=1002.0 + i * 0.1)
    assert stall.due(1003.0) is None


def test_frames_stopping_decide_calls_on_the_extrapolated_frame_clock() -> None:
    stall, protocol = FrameStall(2.0), NameCallProtocol()
    stall.frame(50 * S, wall_s=10.0)
    stall.call(50 * S, wall_s=10.5)
    protocol.start(50 * S, 'f1', 'Sam')
    assert stall.due(12.4) is None
    due = stall.due(12.6)
    assert due == 50 * S + int(2.6 * S)
    (result,) = protocol.advance(due)
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'no_frames'


def test_the_time_out_must_be_positive() -> None:
    with pytest.raises(ConfigError, match='time-out'):
        FrameStall(0.0)
