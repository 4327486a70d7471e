"""The nodes fuzzed (test/reliability/fuzzing.py) with their valid traffic and its correct results.

Valid stamps start at VALID_STAMP_S (now), apart from every stamp a strategy draws (those are
before 2024, in 2038, or not a time). Where a node's
correct result can be told from its output, check() compares it (the face keeps its id on every
valid frame, each valid Faces + image gets its Expression, each SAY is carried out); elsewhere the
node must have taken every valid message (messages_received) and stayed alive.
"""
from __future__ import annotations

import time
from functools import cache
from typing import Any

import numpy as np
from rclpy.parameter import Parameter

from attune.ros import msg_faces
from attune.ros.images import image_msg
from attune.ros.stamps import from_ns
from test.reliability.fuzzing import Target

VALID_STAMP_S = int(time.time())


def _params(**values: Any) -> list[Parameter]:
    return [Parameter(k, value=v) for k, v in values.items()]


def _cli(name: str) -> list[str]:
    return ['--ros-args', '-r', f'__node:=fuzz_{name}']


def _header(i: int, frame_id: str = 'test_camera') -> Any:
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    return Header(stamp=from_ns(VALID_STAMP_S * 10**9 + i * 33_333_333, Time), frame_id=frame_id)


@cache
def _portrait() -> np.ndarray:
    import cv2

    from test.conftest import shared_data

    bgr = cv2.imread(str(shared_data('mediapipe', 'tfjs-models', 'portrait.jpg')))
    return np.ascontiguousarray(cv2.cvtColor(cv2.resize(bgr, (320, 240)), cv2.COLOR_BGR2RGB))


@cache
def _portrait_face() -> Any:
    from attune.face import FacePipeline, FacePipelineOptions
    from attune.tracking import TrackerOptions

    with FacePipeline(FacePipelineOptions(tracker=TrackerOptions(min_hits=1, deterministic_ids=True))) as p:
        frame = p.process(_portrait(), 0)
    assert len(frame.faces) == 1, 'the portrait must show one face'
    return frame


def _received(node_holder: list[Any]) -> Any:
    def check(outputs: list[Any], n: int) -> str:
        node = node_holder[0]
        received = node.counts.get('messages_received', 0)
        return '' if received >= n else f'took {received} of {n} valid messages'
    return check


def face_node() -> Target:
    from attune.msg import Faces
    from attune.nodes.face_node import FaceNode

    def check(outputs: list[Any], n: int) -> str:
        valid = [m for m in outputs if m.header.frame_id == 'test_camera' and m.header.stamp.sec >= VALID_STAMP_S]
        ids = [tuple(f.id for f in m.faces) for m in valid]
        if len(valid) < n:
            return f'{len(valid)} Faces for {n} valid frames'
        if any(i != ('f1',) for i in ids[2:]):  # min_hits 3: reported from the third frame on, always as f1
            return f'face ids on valid frames: {sorted(set(ids))}'
        return ''

    return Target('face_node', lambda: FaceNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100, deterministic_ids=True, min_hits=3), cli_args=_cli('face')),
        valid=lambda i: [('/camera/image_raw', image_msg(_portrait(), 'rgb8', _header(i)))],
        outputs=(Faces, '/attune/faces'), check=check, skip_topics=frozenset({'/camera/camera_info'}))


def expression_node() -> Target:
    from attune.msg import Expression
    from attune.nodes.expression_node import ExpressionNode

    def valid(i: int) -> list[tuple[str, Any]]:
        header = _header(i)
        return [('/camera/image_raw', image_msg(_portrait(), 'rgb8', header)),
                ('/attune/faces', msg_faces.to_msg(_portrait_face(), header))]

    def check(outputs: list[Any], n: int) -> str:
        ok = [m for m in outputs if m.face_id == 'f1' and m.header.stamp.sec >= VALID_STAMP_S and m.label]
        return '' if len(ok) >= n else f'{len(ok)} Expressions for {n} valid Faces + images'

    return Target('expression_node', lambda: ExpressionNode(parameter_overrides=_params(
        reliable_input=True, input_queue_depth=100), cli_args=_cli('expression')), valid=valid,
        outputs=(Expression, '/attune/expression'), check=check)


def interaction_node() -> Target:
    from attune.msg import InteractionState
    from attune.nodes.interaction_node import InteractionNode

    def check(outputs: list[Any], n: int) -> str:
        ok = [m for m in outputs if m.person_id == 'f1' and m.present]
        return '' if ok else 'no InteractionState for the valid face'

    return Target('interaction_node', lambda: InteractionNode(cli_args=_cli('interaction')),
                  valid=lambda i: [('/attune/faces', msg_faces.to_msg(_portrait_face(), _header(i)))],
                  outputs=(InteractionState, '/attune/interaction_state'), check=check)


def _command(i: int, text: str) -> Any:
    from attune.msg import BehaviorCommand

    return BehaviorCommand(header=_header(i, ''), action=BehaviorCommand.SAY, text=text, speech_rate=1.0,
                           volume=0.5, rule='fuzz')


def sim_robot_node() -> Target:
    from std_msgs.msg import String

    from attune.nodes.sim_robot_node import SimRobotNode

    def check(outputs: list[Any], n: int) -> str:
        said = sum('valid fuzz line' in m.data for m in outputs)
        return '' if said >= n else f'{said} of {n} valid SAY commands carried out'

    return Target('sim_robot_node', lambda: SimRobotNode(cli_args=_cli('sim')),
                  valid=lambda i: [('/attune/behavior/command', _command(i, f'valid fuzz line {i}'))],
                  outputs=(String, '/attune/robot/activity'), check=check,
                  skip_topics=frozenset({'/attune/robot/speaking'}))


def generic_bridge_node() -> Target:
    from std_msgs.msg import String

    from attune.nodes.generic_bridge_node import GenericBridgeNode

    def check(outputs: list[Any], n: int) -> str:
        said = sum(m.data.startswith('valid fuzz line') for m in outputs)
        return '' if said >= n else f'{said} of {n} valid SAY commands spoken'

    return Target('generic_bridge_node', lambda: GenericBridgeNode(cli_args=_cli('generic')),
                  valid=lambda i: [('/attune/behavior/command', _command(i, f'valid fuzz line {i}'))],
                  outputs=(String, '/robot/speech'), check=check)


def behavior_node() -> Target:
    from attune.msg import InteractionState
    from attune.nodes.behavior_node import BehaviorNode

    holder: list[Any] = []

    def make() -> Any:
        holder.append(BehaviorNode(cli_args=_cli('behavior')))
        return holder[0]

    def valid(i: int) -> list[tuple[str, Any]]:
        return [('/attune/interaction_state', InteractionState(header=_header(i), person_id='f1', present=True,
                                                               attention=0.8, engagement=0.7, valence=0.1,
                                                               arousal=0.2, distress=0.0))]

    return Target('behavior_node', make, valid=valid, check=_received(holder))


def sign_node() -> Target:
    from attune.msg import Hands
    from attune.nodes.sign_node import SignNode

    holder: list[Any] = []

    def make() -> Any:
        holder.append(SignNode(cli_args=_cli('sign')))
        return holder[0]

    def check(outputs: list[Any], n: int) -> str:
        node = holder[0]
        taken = node.received - node.bad_input.total
        return '' if taken >= n else f'took {taken} of {n} valid Hands'

    return Target('sign_node', make, valid=lambda i: [('/attune/hands', Hands(header=_header(i), image_width=320,
                                                                              image_height=240))], check=check)


#: Every fuzzed node, by name.
TARGETS = {t.__name__: t for t in (face_node, expression_node, interaction_node, behavior_node, sim_robot_node,
                                   generic_bridge_node, sign_node)}
