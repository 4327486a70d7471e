"""The sign node through real rclpy and Fast DDS: one Sign per held sign, continuous sequences,
signer emotion, bad input, parameters."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from attune.errors import ConfigError, ModelFileError
from attune.hands.types import HandFrame, HandObservation
from attune.nodes.sign_node import SignNode
from attune.ros import msg_hands
from attune.ros.stamps import from_ns, to_ns
from attune.sign.compose import SequenceComposer
from attune.sign.datasets import load_builtin, split_blocks
from test.conftest import ROSOUT_QOS, left_in_readers, shared_data, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
T0 = 1_700_000_000_000_000_000
FRAME_NS = 33_333_333


@pytest.fixture(scope='module')
def asl_test():
    return split_blocks(load_builtin('asl_alphabet', shared_data('hands'))).test


def block(split, gloss: str, frames: int = 30) -> np.ndarray:
    return max((s for s in split.segments if s.gloss == gloss), key=len).points[:frames]


def hands_msg(i: int, points: np.ndarray | None, *, width: int = 640, height: int = 480):
    hands = () if points is None else (HandObservation('right', 0.95, np.c_[points, np.zeros(21)].astype(np.float32)),)
    return msg_hands.to_msg(HandFrame(T0 + i * FRAME_NS, width, height, hands),
                            Header(stamp=from_ns(T0 + i * FRAME_NS, Time), frame_id='cam'))


class Harness:
    """A sign node plus a probe that publishes Hands and collects Sign, AffectState and /rosout errors."""

    def __init__(self, spinner, name: str, **params) -> None:
        from attune.msg import AffectState, Expression, Faces, Hands, Sign

        self.topic = f'/{name}/hands'
        # The tests publish a burst of up to ~60 Hands at once; the node's reliable keep-last queue must hold
        # all of it, or under load the oldest messages are overwritten before the node takes them and the
        # windows mix signs (what a deployment tunes with input_queue_depth too).
        overrides = {'hands_topic': self.topic, 'mirrored_input': True, 'mode': 'isolated', 'input_queue_depth': 200,
                     'expression_topic': f'/{name}/expression', 'faces_topic': f'/{name}/faces', **params}
        self.name = f'sign_node_{name}'
        self.node = spinner.add(SignNode(parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
                                         cli_args=['--ros-args', '-r', f'__node:={self.name}']))
        self.probe = spinner.add(__import__('rclpy').create_node(f'probe_{self.name}'))
        self.signs: list = []
        self.affects: list = []
        self.errors: list[str] = []
        self.played = 0
        self.probe.create_subscription(Sign, '/attune/sign', self.signs.append, RELIABLE)
        self.probe.create_subscription(AffectState, '/attune/affect', self.affects.append, RELIABLE)
        rosout = self.probe.create_subscription(Log, '/rosout', self._on_log, ROSOUT_QOS)
        self.hands = self.probe.create_publisher(Hands, self.topic, RELIABLE)
        self.expressions = self.probe.create_publisher(Expression, f'/{name}/expression', RELIABLE)
        self.faces = self.probe.create_publisher(Faces, f'/{name}/faces', RELIABLE)
        assert wait_for(lambda: self.hands.get_subscription_count() >= 1, 30)
        assert wait_for(lambda: rosout.get_publisher_count() >= self.probe.count_publishers('/rosout') >= 2, 30)

    def _on_log(self, log: Log) -> None:
        if log.name == self.name and log.level >= Log.ERROR:
            self.errors.append(log.msg)

    def play(self, messages: list) -> None:
        for msg in messages:
            self.hands.publish(msg)
        self.played += len(messages)

    def stuck(self) -> tuple:
        """For a failed wait's message: Hands sent and taken by the node, and what both readers still hold."""
        return self.played, self.node.received, left_in_readers(self.node), left_in_readers(self.probe)


def test_a_held_sign_is_one_sign_message_with_the_frame_stamps(spinner, asl_test) -> None:
    h = Harness(spinner, 'held')
    points = list(block(asl_test, 'B')) + [None] * 12
    messages = [hands_msg(i, p) for i, p in enumerate(points)]
    h.play(messages)
    assert wait_for(lambda: len(h.signs) >= 1, 15)
    assert not wait_for(lambda: len(h.signs) > 1, 1.0)
    (sign,) = h.signs
    assert (sign.gloss, sign.mode, sign.handedness, sign.source) == ('B', sign.ISOLATED, 'right', 'asl_alphabet')
    stamps = [to_ns(m.header.stamp) for m in messages]
    assert to_ns(sign.header.stamp) in stamps and sign.header.frame_id == 'cam'
    assert stamps[0] <= to_ns(sign.start) < to_ns(sign.end) <= stamps[29] < to_ns(sign.header.stamp)
    assert sign.top_glosses[0] == 'B' and len(sign.top_scores) == 3 and sign.confidence > 0.7
    assert h.errors == []


def test_bad_hands_are_dropped_with_one_error_each_and_the_sign_still_comes(spinner, asl_test) -> None:
    h = Harness(spinner, 'bad')
    points = list(block(asl_test, 'V'))
    messages = [hands_msg(i, p) for i, p in enumerate(points + [None] * 12)]
    messages[8] = hands_msg(8, None)  # the hand lost mid-sign for two frames
    messages[9] = hands_msg(9, None)
    for i in (12, 13, 14):  # NaN landmarks, three times: logged once
        messages[i].hands[0].landmarks[10] = float('nan')
    for i in (16, 17, 18):  # a malformed landmark array, three times: logged once
        messages[i].hands[0].landmarks = messages[i].hands[0].landmarks[:-4]
    h.play(messages)
    assert wait_for(lambda: len(h.signs) >= 1, 15)
    assert [s.gloss for s in h.signs] == ['V']
    assert wait_for(lambda: len(h.errors) >= 2, 30), h.errors
    assert sum('NaN' in e for e in h.errors) == 1 and sum('shape' in e for e in h.errors) == 1, h.errors
    # a sequence shorter than the model window: no sign, no error, the node lives on
    h.play([hands_msg(100 + i, p) for i, p in enumerate(points[:3] + [None] * 10)])
    h.play([hands_msg(200 + i, p) for i, p in enumerate(list(block(asl_test, 'L')) + [None] * 12)])
    assert wait_for(lambda: len(h.signs) >= 2, 30), h.stuck()
    assert [s.gloss for s in h.signs] == ['V', 'L'] and len(h.errors) == 2


def test_continuous_mode_publishes_the_decoded_sequence(spinner, asl_test) -> None:
    h = Harness(spinner, 'continuous', mode='continuous', decoder='beam')
    sequence = SequenceComposer(asl_test).sample(np.random.default_rng(11))
    points = [p if np.isfinite(p).all() else None for p in sequence.points] + [None] * 12
    h.play([hands_msg(i, p) for i, p in enumerate(points)])
    assert wait_for(lambda: len(h.signs) >= 1, 15)
    (sign,) = h.signs
    expected = [asl_test.glosses[k] for k in sequence.labels]
    assert sign.mode == sign.CONTINUOUS and len(sign.sequence) >= 1 and sign.gloss == sign.sequence[-1]
    assert sum(a != b for a, b in zip(sign.sequence, expected)) + abs(len(sign.sequence) - len(expected)) <= 2
    assert sign.source == 'asl_fingerspelling_ctc' and to_ns(sign.start) <= to_ns(sign.end)


def test_signer_emotion_names_its_source_and_the_signers_face(spinner, asl_test) -> None:
    from attune.msg import Expression, Face, Faces, NormalizedRoi

    h = Harness(spinner, 'emotion', emotion_rate_hz=30.0)  # an estimate per frame
    faces = Faces(header=Header(stamp=from_ns(T0, Time)), image_width=640, image_height=480)
    faces.faces = [Face(id='f7', roi=NormalizedRoi(xmin=0.5, ymin=0.1, xmax=0.8, ymax=0.4)),
                   Face(id='f9', roi=NormalizedRoi(xmin=0.0, ymin=0.1, xmax=0.2, ymax=0.4))]
    assert wait_for(lambda: h.faces.get_subscription_count() >= 1 and h.expressions.get_subscription_count() >= 1, 30)
    points = list(block(asl_test, 'A', 20))
    sent = 0
    while sent < 10 and not any(a.face_id == 'f7' for a in h.affects):
        h.faces.publish(faces)  # Faces come with every frame, as from the face node
        h.hands.publish(hands_msg(sent, points[sent]))
        sent += 1
        wait_for(lambda n=sent: len(h.affects) >= n, 5)
    # The hands-only estimates name the signer too: the face nearest the signing wrist.
    assert any(a.face_id == 'f7' for a in h.affects), [a.face_id for a in h.affects]
    for face, label in (('f7', 'happy'), ('f9', 'sad')):
        h.expressions.publish(Expression(header=Header(stamp=from_ns(T0 + sent * FRAME_NS, Time)), face_id=face,
                                         labels=['neutral', label], probabilities=[0.2, 0.8],
                                         valence=float('nan'), arousal=float('nan')))
    wait_for(lambda: False, 0.5)
    h.play([hands_msg(i, p) for i, p in enumerate(points[sent:], start=sent)])
    assert wait_for(lambda: any(a.emotions for a in h.affects), 30)
    affect = next(a for a in h.affects if a.emotions)
    assert affect.source == 'signer_emotion' and affect.face_id == 'f7'  # the face above the signing hand
    assert list(affect.emotions) == ['neutral', 'happy'] and affect.dominant_emotion == 'happy'
    assert sum(affect.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert 0.0 <= affect.engagement <= 1.0 and -1.0 <= affect.arousal <= 1.0
    assert to_ns(affect.header.stamp) >= T0


def test_wrong_parameters_and_missing_models_stop_start_up(rclpy_session) -> None:
    with pytest.raises(ConfigError, match='off_threshold'):
        SignNode(parameter_overrides=[Parameter('on_threshold', value=0.3), Parameter('off_threshold', value=0.6)])
    with pytest.raises(ConfigError, match='mode'):
        SignNode(parameter_overrides=[Parameter('mode', value='sometimes')])
    with pytest.raises(ModelFileError, match=r'missing_model\.onnx'):
        SignNode(parameter_overrides=[Parameter('isolated_model', value='/nowhere/missing_model.onnx')])


def test_parameters_change_at_run_time(spinner) -> None:
    h = Harness(spinner, 'params')
    assert not h.node.set_parameters([Parameter('on_threshold', value=0.2)])[0].successful  # < off_threshold
    assert not h.node.set_parameters([Parameter('hands_topic', value='/x')])[0].successful  # read-only
    assert h.node.set_parameters([Parameter('report', value='onset'), Parameter('min_frames', value=2)])[0].successful


def test_the_executable_reports_a_bad_parameter_and_exits_1() -> None:
    result = subprocess.run([sys.executable, '-m', 'attune.nodes.sign_node', '--ros-args', '-p', 'top_k:=0'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'top_k' in result.stderr
