"""The ASD emotion node through real rclpy and Fast DDS: affect per face with the image's stamp, the
name-call protocol started by a NAME_CALL command, the session log, and bad input."""
from __future__ import annotations

import math
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Bool, Header

from attune.affect.session_log import read_log
from attune.behavior.protocol import ProtocolStatus
from attune.errors import ConfigError, ModelFileError
from attune.expression.labels import EMOTIONS
from attune.face.head_pose import rotation_from_angles
from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox
from attune.nodes.asd_emotion_node import AsdEmotionNode
from attune.ros.affect_msgs import protocol_fields
from attune.ros.face_msgs import faces_to_msg, image_msg
from attune.ros.stamps import from_ns, to_ns
from test.conftest import shared_data, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=200, reliability=ReliabilityPolicy.RELIABLE)
S = 1_000_000_000
FPS = 30


@pytest.fixture(scope='module')
def portrait() -> tuple[np.ndarray, np.ndarray]:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    rgb = cv2.cvtColor(cv2.imread(str(shared_data('faces', 'london_ccby', 'smiling', '001_08.jpg'))), cv2.COLOR_BGR2RGB)
    rgb = np.ascontiguousarray(cv2.resize(rgb, (480, 480), interpolation=cv2.INTER_AREA))
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True)) as analyzer:
        (face,) = analyzer.process(rgb)
    return rgb, face.landmarks


def header(ns: int) -> Header:
    return Header(stamp=from_ns(ns, Time), frame_id='test_camera')


def tracked(track: str, landmarks: np.ndarray | None, yaw: float | None, center_x: float = 0.5) -> TrackedFace:
    box = BoundingBox(center_x - 0.2, 0.2, center_x + 0.2, 0.8)
    pose = None
    if yaw is not None:
        t = np.array([0.0, 0.0, 0.6])
        pose = HeadPose(yaw=yaw, pitch=0.0, roll=0.0, rotation=rotation_from_angles(yaw, 0.0, 0.0, t), translation=t)
    return TrackedFace(track, FaceObservation(box, 0.9, landmarks), age_frames=10, age_s=1.0, head_pose=pose)


def faces_msg(ns: int, faces: list[TrackedFace], size: tuple[int, int] = (480, 480)):
    return faces_to_msg(FaceFrame(ns, size[0], size[1], tuple(faces)), header(ns), landmarks=True, landmarks_3d=False)


class Harness:
    """An ASD emotion node plus a probe that publishes Faces, images and commands and collects AffectState
    and the node's /rosout errors."""

    def __init__(self, spinner, name: str, **params) -> None:
        from attune.msg import AffectState, BehaviorCommand, Faces

        overrides = {'faces_topic': f'/{name}/faces', 'image_topic': f'/{name}/image', 'reliable_input': True,
                     'input_queue_depth': 50, 'command_topic': f'/{name}/command', 'calibration_s': 0.0, **params}
        self.name = f'asd_emotion_{name}'
        parameters = [Parameter(k, value=v) for k, v in overrides.items()]
        self.node = spinner.add(AsdEmotionNode(parameter_overrides=parameters,
                                               cli_args=['--ros-args', '-r', f'__node:={self.name}']))
        self.probe = spinner.add(__import__('rclpy').create_node(f'probe_{self.name}'))
        self.affect: list = []
        self.errors: list[str] = []
        self.probe.create_subscription(AffectState, '/attune/affect', self.affect.append, RELIABLE)
        rosout = self.probe.create_subscription(Log, '/rosout', self._on_log, QoSProfile(depth=100))
        self.faces = self.probe.create_publisher(Faces, overrides['faces_topic'], RELIABLE)
        self.images = self.probe.create_publisher(Image, overrides['image_topic'], RELIABLE)
        self.commands = self.probe.create_publisher(BehaviorCommand, overrides['command_topic'], RELIABLE)
        self.command_type = BehaviorCommand
        for pub in (self.faces, self.images, self.commands):
            assert wait_for(lambda p=pub: p.get_subscription_count() >= 1, 10)
        assert wait_for(lambda: rosout.get_publisher_count() >= self.probe.count_publishers('/rosout') >= 2, 10)

    def _on_log(self, log: Log) -> None:
        if log.name == self.name and log.level >= Log.ERROR:
            self.errors.append(log.msg)

    def name_call(self, ns: int, target: str = '', name: str = 'Sam', action: int | None = None) -> None:
        c = self.command_type
        self.commands.publish(c(header=header(ns), action=c.NAME_CALL if action is None else action, target_id=target,
                                text=name))

    def protocol(self) -> list:
        return [protocol_fields(m) for m in self.affect if m.protocol]

    def finals(self) -> list:
        return [p for p in self.protocol() if p.status not in (ProtocolStatus.NONE, ProtocolStatus.WAITING)]

    def wait_final(self, count: int = 1, timeout: float = 20.0) -> list:
        assert wait_for(lambda: len(self.finals()) >= count, timeout), (self.protocol(), self.errors)
        return self.finals()


def test_affect_per_face_carries_the_image_stamp_at_the_configured_rate(spinner, portrait) -> None:
    h = Harness(spinner, 'affect', rate_hz=5.0)
    rgb, landmarks = portrait
    base = time.time_ns()
    stamps = [base + i * S // 10 for i in range(6)]  # 10 frames per second
    for i, ns in enumerate(stamps):
        if i % 2:  # the image first, or the Faces first: matched by stamp either way
            h.images.publish(image_msg(rgb, 'rgb8', header(ns)))
            h.faces.publish(faces_msg(ns, [tracked('f1', landmarks, 5.0)]))
        else:
            h.faces.publish(faces_msg(ns, [tracked('f1', landmarks, 5.0)]))
            h.images.publish(image_msg(rgb, 'rgb8', header(ns)))
    assert wait_for(lambda: len(h.affect) >= 3, 20)
    time.sleep(0.5)
    # rate 5 Hz on a 10 fps stream: every other frame
    assert [to_ns(m.header.stamp) for m in h.affect] == stamps[::2]
    last = h.affect[-1]
    assert last.face_id == 'f1' and last.source == 'asd_emotion' and last.header.frame_id == 'test_camera'
    assert list(last.emotions) == list(EMOTIONS) and sum(last.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert last.dominant_emotion == EMOTIONS[int(np.argmax(last.probabilities))]
    assert -1 <= last.valence <= 1 and math.isnan(last.engagement)
    assert last.protocol == '' and last.protocol_status == ProtocolStatus.NONE
    assert not h.errors


def test_a_name_call_measures_the_head_turn_and_writes_the_session_log(spinner, portrait, tmp_path) -> None:
    h = Harness(spinner, 'call', response_window_s=2.0, affect_window_s=1.0, session_log_dir=str(tmp_path),
                session_name='child07')
    _, landmarks = portrait
    base = time.time_ns()
    call_ns = base + 1 * S
    h.name_call(call_ns, target='f1', name='Sam')  # the command first; frames follow
    for i in range(4 * FPS):
        t = i / FPS
        yaw = 40.0 if t <= 1.6 else max(0.0, 40.0 - 80.0 * (t - 1.6))
        h.faces.publish(faces_msg(base + i * S // FPS, [tracked('f1', landmarks, yaw)]))
        time.sleep(0.002)  # a burst faster than any camera would overflow the node's Faces queue
    (result,) = h.wait_final()
    assert result.status == ProtocolStatus.RESPONDED and result.face_id == 'f1' and result.protocol == 'name_call'
    assert result.stimulus_ns == call_ns
    assert result.latency_s == pytest.approx(0.7875, abs=2e-3)  # 0.6 s still, then 15 deg at 80 deg/s
    waiting = [p for p in h.protocol() if p.status == ProtocolStatus.WAITING]
    assert waiting and waiting[0].stimulus_ns == call_ns
    # the therapist's log
    (log,) = tmp_path.glob('asd_session_*_child07.jsonl')
    assert wait_for(lambda: any(r['type'] == 'name_call' for r in read_log(log)), 5)
    record = next(r for r in read_log(log) if r['type'] == 'name_call')
    assert record['status'] == 'responded' and record['name'] == 'Sam' and record['face_id'] == 'f1'
    assert record['latency_s'] == pytest.approx(0.7875, abs=2e-3)
    assert read_log(log)[0]['protocol']['turn_threshold_deg'] == 15.0


def test_bad_input_is_reported_and_protocols_end_without_a_crash(spinner, portrait) -> None:
    h = Harness(spinner, 'bad', response_window_s=1.0, affect_window_s=0.5, presence_s=0.3, lost_timeout_s=0.3)
    rgb, landmarks = portrait
    base = time.time_ns()
    # 1. a face without landmarks and one with NaN landmarks, with their image: skipped, reported, no output
    nan = np.full_like(landmarks, np.nan)
    h.faces.publish(faces_msg(base, [tracked('nolm', None, 0.0, 0.3), tracked('nan', nan, 0.0, 0.7)]))
    h.images.publish(image_msg(rgb, 'rgb8', header(base)))
    assert wait_for(lambda: any('NaN' in e for e in h.errors), 10), h.errors
    # 2. a call with no face present (frames keep coming, empty)
    h.name_call(base + 3 * S // 2)
    for i in range(30, 60):
        h.faces.publish(faces_msg(base + i * S // 30, []))
        time.sleep(0.002)
    (no_face,) = h.wait_final()
    assert no_face.status == ProtocolStatus.NO_FACE and no_face.face_id == ''
    # 3. a face that leaves mid-protocol and does not come back
    start = base + 3 * S
    h.name_call(start + S // 2, target='f2')
    for i in range(90):
        faces = [tracked('f2', landmarks, 30.0)] if i < 25 else []
        h.faces.publish(faces_msg(start + i * S // 30, faces))
        time.sleep(0.002)
    _, aborted = h.wait_final(2)
    assert aborted.status == ProtocolStatus.ABORTED and aborted.face_id == 'f2'
    # 4. other commands are ignored; a NAME_CALL without a stamp is reported and uses the receive time
    h.name_call(start, action=h.command_type.SAY)
    h.name_call(0, target='f3')
    assert wait_for(lambda: any('without a header stamp' in e for e in h.errors), 10), h.errors
    # 5. the node lives on: a good frame still gives an estimate
    ok = start + 5 * S
    h.faces.publish(faces_msg(ok, [tracked('f4', landmarks, 0.0)]))
    h.images.publish(image_msg(rgb, 'rgb8', header(ok)))
    assert wait_for(lambda: any(m.face_id == 'f4' and m.emotions for m in h.affect), 10)
    assert not any(m.face_id in ('nolm', 'nan') and m.emotions for m in h.affect)


def test_wrong_parameters_and_a_missing_model_stop_start_up(rclpy_session, tmp_path) -> None:
    with pytest.raises(ConfigError, match='rate_hz'):
        AsdEmotionNode(parameter_overrides=[Parameter('rate_hz', value=0.0)])
    with pytest.raises(ModelFileError, match=r'missing\.onnx'):
        AsdEmotionNode(parameter_overrides=[Parameter('model_path', value=str(tmp_path / 'missing.onnx'))])


def test_the_executable_reports_a_bad_parameter_and_exits_1() -> None:
    result = subprocess.run([sys.executable, '-m', 'attune.nodes.asd_emotion_node', '--ros-args', '-p',
                             'turn_threshold_deg:=500.0'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'turn_threshold_deg' in result.stderr


def test_the_stimulus_is_the_robots_speech_onset_and_stop_aborts(spinner) -> None:
    """docs/behavior.md: the stimulus is the rising edge of /attune/robot/speaking within 2 s after the
    NAME_CALL (else the command's stamp); a STOP command aborts the running call."""
    from rclpy.qos import DurabilityPolicy

    h = Harness(spinner, 'onset', speaking_topic='/onset/speaking')
    speaking = h.probe.create_publisher(Bool, '/onset/speaking', QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    assert wait_for(lambda: speaking.get_subscription_count() >= 1, 10)
    speaking.publish(Bool(data=False))
    time.sleep(0.2)
    command_ns = h.node.get_clock().now().nanoseconds
    h.name_call(command_ns, target='f1')
    time.sleep(0.5)
    assert not h.protocol()  # waiting for the robot to speak
    before_edge = h.node.get_clock().now().nanoseconds
    speaking.publish(Bool(data=True))
    assert wait_for(lambda: h.protocol(), 10)
    (waiting,) = h.protocol()
    assert waiting.status == ProtocolStatus.WAITING and waiting.face_id == 'f1'
    assert before_edge <= waiting.stimulus_ns <= before_edge + S  # the onset, not the command's stamp
    h.commands.publish(h.command_type(header=header(command_ns), action=h.command_type.STOP))
    (stopped,) = h.wait_final()
    assert stopped.status == ProtocolStatus.ABORTED and stopped.stimulus_ns == waiting.stimulus_ns
    # without a speech onset within speaking_wait_s (2 s), the command's stamp is the stimulus
    speaking.publish(Bool(data=False))
    second_ns = h.node.get_clock().now().nanoseconds
    h.name_call(second_ns, target='f1')
    assert wait_for(lambda: len(h.protocol()) >= 3, 10)
    assert h.protocol()[2].stimulus_ns == second_ns
