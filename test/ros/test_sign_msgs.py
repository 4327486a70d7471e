"""Message conversion of the hands and sign nodes, without spinning: round trips and fields."""
from __future__ import annotations

import math

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from attune.hands.types import HandFrame, HandObservation
from attune.ros import msg_affect_state, msg_expression, msg_hands, msg_sign
from attune.ros.stamps import from_ns
from attune.sign.emotion import HandMotion, SignerAffect
from attune.sign.events import SignEvent
from test.hands.test_normalize import hand

pytestmark = pytest.mark.ros


def header(ns: int) -> Header:
    return Header(stamp=from_ns(ns, Time), frame_id='cam')


def test_hands_round_trip() -> None:
    right = HandObservation('right', 0.97, hand(0).astype(np.float32), hand(1).astype(np.float32) * 0.1)
    left = HandObservation('left', 0.8, hand(2).astype(np.float32))
    frame = HandFrame(1_700_000_000_123_456_789, 640, 480, (right, left))
    msg = msg_hands.to_msg(frame, header(frame.stamp_ns))
    assert (msg.image_width, msg.image_height, len(msg.hands)) == (640, 480, 2)
    assert msg.hands[0].roi.xmin == pytest.approx(float(right.landmarks[:, 0].min()))
    assert len(msg.hands[1].world_landmarks) == 0
    back = msg_hands.from_msg(msg)
    assert back.stamp_ns == frame.stamp_ns and [h.handedness for h in back.hands] == ['right', 'left']
    np.testing.assert_array_equal(back.hands[0].landmarks, right.landmarks)
    np.testing.assert_array_equal(back.hands[0].world_landmarks, right.world_landmarks)
    assert back.hands[1].world_landmarks is None
    without_world = msg_hands.to_msg(frame, header(1), world_landmarks=False)
    assert msg_hands.from_msg(without_world).hands[0].world_landmarks is None


def test_malformed_landmark_arrays_become_empty_not_an_exception() -> None:
    msg = msg_hands.to_msg(HandFrame(5, 640, 480, (HandObservation('right', 0.9, hand().astype(np.float32)),)),
                           header(5))
    msg.hands[0].landmarks = msg.hands[0].landmarks[:-1]  # 62 values
    assert msg_hands.from_msg(msg).hands[0].landmarks.shape == (0, 3)


def test_sign_round_trip() -> None:
    event = SignEvent(mode='continuous', gloss='C', confidence=0.8, top=(('C', 0.8), ('O', 0.15)),
                      start_ns=10_000_000_000, end_ns=12_500_000_000, stamp_ns=12_600_000_000, handedness='right',
                      sequence=('A', 'B', 'C'), source='asl_fingerspelling_ctc', face_id='f1')
    msg = msg_sign.to_msg(event, header(event.stamp_ns))
    assert msg.mode == msg.CONTINUOUS and list(msg.sequence) == ['A', 'B', 'C']
    back = msg_sign.from_msg(msg)
    assert back.top == (('C', pytest.approx(0.8)), ('O', pytest.approx(0.15)))
    assert (back.start_ns, back.end_ns, back.stamp_ns, back.face_id) == (event.start_ns, event.end_ns,
                                                                          event.stamp_ns, 'f1')


def test_affect_and_expression_conversion() -> None:
    motion = HandMotion(speed=2.0, extent=1.0, jerk=100.0, activity=1.0, energy=0.4)
    affect = SignerAffect(7, ('neutral', 'happy'), (0.3, 0.7), 'happy', 0.5, 0.2, 0.7, motion, face_id='f2')
    msg = msg_affect_state.to_msg(msg_affect_state.from_signer_affect(affect), header(7))
    assert msg.source == 'signer_emotion' and msg.face_id == 'f2' and msg.dominant_emotion == 'happy'
    assert not hasattr(msg, 'protocol_status')  # protocol outcomes are InteractionEvents
    from attune.msg import Expression

    expression = msg_expression.signer_input(Expression(header=header(9), face_id='f2', labels=['happy', 'sad'],
                                                        probabilities=[0.9, 0.1], valence=0.6, arousal=math.nan))
    assert expression.stamp_ns == 9 and expression.labels == ('happy', 'sad')
    assert math.isnan(expression.arousal)
