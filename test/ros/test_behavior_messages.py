"""The behaviour messages round trip: PersonState <-> InteractionState, Command <-> BehaviorCommand,
PersonSign / ProtocolResult <-> InteractionEvent (plain functions, no spinning)."""
from __future__ import annotations

import math

import pytest
from builtin_interfaces.msg import Time
from std_msgs.msg import Header

from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.behavior.outcome import PersonSign, ProtocolResult
from attune.behavior.state import Contribution, PersonState
from attune.ros import msg_behavior_command, msg_faces, msg_interaction_event, msg_interaction_state
from attune.ros.stamps import from_ns

S = 1_000_000_000


def header(ns: int) -> Header:
    return Header(stamp=from_ns(ns, Time), frame_id='camera_optical_frame')


def test_interaction_state_round_trip_keeps_the_words_and_where_the_face_is() -> None:
    state = PersonState('f1', 5 * S, True, 0.75, 0.5, 0.25, -0.5, 0.125,
                        contributions=(Contribution('expression', 'rules', 'valence', 0.5, 0.75, 0.25, 'happy 0.90'),),
                        robot_speaking=True, summary='f1: present', face_position=(0.125, -0.25, 1.5))
    msg = msg_interaction_state.to_msg(state, 'camera_optical_frame')
    assert msg.header.frame_id == 'camera_optical_frame'
    assert msg_interaction_state.from_msg(msg) == state
    unseen = PersonState('f2', 6 * S, False, math.nan, math.nan, math.nan, math.nan, math.nan)
    back = msg_interaction_state.from_msg(msg_interaction_state.to_msg(unseen))
    assert back.face_position is None and back.person_id == 'f2' and math.isnan(back.engagement)


def test_behavior_command_round_trip() -> None:
    cmd = Command(Action.GAZE, Priority.HIGH, target_id='f1', gaze=GazeTarget(0.5, 0.25, 1.0, 'camera_optical_frame'),
                  rule='look', reason='because', stamp_ns=7 * S)
    assert msg_behavior_command.from_msg(msg_behavior_command.to_msg(cmd)) == cmd


def test_a_sign_event_carries_the_sign_and_the_person() -> None:
    from attune.msg import InteractionEvent, Sign

    sign = Sign(header=header(3 * S), mode=Sign.CONTINUOUS, gloss='I', confidence=0.75, sequence=['H', 'I'],
                source='asl_fingerspelling_ctc')
    msg = msg_interaction_event.forward_sign(sign, 'f1')
    assert msg.kind == InteractionEvent.SIGN and msg.header.stamp == sign.header.stamp
    expected = PersonSign('f1', 'I', 0.75, 'asl_fingerspelling_ctc', 3 * S, ('H', 'I'))
    assert msg_interaction_event.from_msg(msg) == expected


@pytest.mark.parametrize('status', ['waiting', 'responded', 'no_response', 'no_face', 'aborted'])
def test_protocol_event_round_trip(status: str) -> None:
    from attune.msg import InteractionEvent

    result = ProtocolResult('f1', 'name_call', status, latency_s=0.75, head_turn_deg=30.0, emotion='happy',
                            valence=0.5, stamp_ns=9 * S, reason='head_turn', called_name='Sam')
    msg = msg_interaction_event.to_msg(result, header(10 * S))
    assert msg.kind == InteractionEvent.PROTOCOL
    assert msg_interaction_event.from_msg(msg) == result
    unknown = ProtocolResult('f1', 'name_call', 'no_face')
    back = msg_interaction_event.from_msg(msg_interaction_event.to_msg(unknown, header(10 * S)))
    assert math.isnan(back.latency_s) and math.isnan(back.valence) and back.status == 'no_face'


def test_an_engine_time_out_has_no_message_code_and_an_unknown_kind_is_refused() -> None:
    from attune.msg import InteractionEvent

    with pytest.raises(ValueError, match='timeout'):
        msg_interaction_event.to_msg(ProtocolResult('f1', 'name_call', 'timeout'), header(0))
    with pytest.raises(ValueError, match='kind 9'):
        msg_interaction_event.from_msg(InteractionEvent(kind=9))


def test_faces_become_observations_with_a_position() -> None:
    from attune.msg import Face, Faces

    posed = Face(id='a', yaw=10.0, pitch=5.0, pose_valid=True, detection_confidence=0.9)
    posed.head_pose.position.x, posed.head_pose.position.y, posed.head_pose.position.z = 0.1, 0.2, 0.8
    flat = Face(id='b', pose_valid=False, detection_confidence=0.5)
    flat.roi.xmin, flat.roi.xmax, flat.roi.ymin, flat.roi.ymax = 0.7, 0.9, 0.4, 0.6
    a, b = msg_faces.fusion_inputs(Faces(faces=[posed, flat], image_width=640, image_height=480), hfov_deg=90.0)
    assert a.position == pytest.approx((0.1, 0.2, 0.8)) and a.yaw == pytest.approx(10.0)
    assert b.position == pytest.approx((0.6, 0.0, 1.0)) and math.isnan(b.yaw)  # tan(45 deg) = 1
