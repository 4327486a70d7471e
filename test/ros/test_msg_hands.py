"""attune/Hands and attune/Hand <-> HandFrame and HandObservation (attune.ros.msg_hands)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.hands.types import HandFrame, HandObservation
from attune.ros import msg_hands
from test.ros.round_trip import assert_same, header, points, stamps, unit32

pytestmark = pytest.mark.ros


@st.composite
def hand_frames(draw: st.DrawFn) -> HandFrame:
    hands = tuple(HandObservation(draw(st.sampled_from(['left', 'right'])), draw(unit32), draw(points(21)),
                                  draw(st.none() | points(21)))
                  for _ in range(draw(st.integers(0, 2))))
    return HandFrame(draw(stamps), draw(st.integers(1, 4096)), draw(st.integers(1, 4096)), hands)


@settings(max_examples=40, deadline=None)
@given(hand_frames())
def test_hands_round_trip(frame: HandFrame) -> None:
    assert_same(msg_hands.from_msg(msg_hands.to_msg(frame, header(frame.stamp_ns))), frame)
