"""attune/EventPacket <-> RegionEvents (attune.ros.msg_event_packet): round trip and the input check."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.events.types import EventArray, RegionEvents
from attune.ros import msg_event_packet
from test.ros.round_trip import assert_same, boxes, header, stamps, words

pytestmark = pytest.mark.ros


@st.composite
def packets(draw: st.DrawFn) -> RegionEvents:
    width, height, n = draw(st.integers(1, 640)), draw(st.integers(1, 480)), draw(st.integers(0, 50))
    x = np.asarray(draw(st.lists(st.integers(0, width - 1), min_size=n, max_size=n)), np.uint16)
    y = np.asarray(draw(st.lists(st.integers(0, height - 1), min_size=n, max_size=n)), np.uint16)
    t = np.sort(np.asarray(draw(st.lists(st.integers(0, 2**62), min_size=n, max_size=n)), np.int64))
    p = np.asarray(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), np.uint8)
    return RegionEvents(EventArray(x, y, t, p, width, height), draw(boxes()), draw(words), draw(st.booleans()))


@settings(max_examples=40, deadline=None)
@given(packets(), stamps)
def test_event_packet_round_trip(packet: RegionEvents, stamp_ns: int) -> None:
    back, check = msg_event_packet.checked_from_msg(msg_event_packet.to_msg(packet, header(stamp_ns)))
    assert check.clean
    assert_same(back, packet)


def test_events_outside_the_grid_are_dropped_and_counted() -> None:
    events = EventArray(np.array([1, 9], np.uint16), np.array([1, 1], np.uint16), np.array([5, 6], np.int64),
                        np.array([1, 0], np.uint8), 4, 4)
    msg = msg_event_packet.to_msg(RegionEvents(events), header(1))
    msg.width = 4  # x = 9 is outside a 4-wide grid
    packet, check = msg_event_packet.checked_from_msg(msg)
    assert check.outside == 1 and len(packet.events) == 1
