"""The ASD emotion node through real rclpy and Fast DDS: affect per face with the image's stamp, the
calibration log, and bad input. (The name-call protocol: test_interaction_protocol.py.)"""
from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from attune.emotions import EMOTIONS
from attune.errors import ConfigError, ModelFileError
from attune.face.head_pose import rotation_from_angles
from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox
from attune.jsonl_log import read_log
from attune.nodes.asd_emotion_node import AsdEmotionNode
from attune.ros import msg_faces
from attune.ros.images import image_msg
from attune.ros.stamps import from_ns, to_ns
from test.conftest import ROSOUT_QOS, shared_data, wait_for

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
    return msg_faces.to_msg(FaceFrame(ns, size[0], size[1], tuple(faces)), header(ns), landmarks=True,
                            landmarks_3d=False)


class Harness:
    """An ASD emotion node plus a probe that publishes Faces and images and collects AffectState and the
    node's /rosout errors."""

    def __init__(self, spinner, name: str, **params) -> None:
        from attune.msg import AffectState, Faces

        overrides = {'faces_topic': f'/{name}/faces', 'image_topic': f'/{name}/image', 'reliable_input': True,
                     'input_queue_depth': 50, 'calibration_s': 0.0, **params}
        self.name = f'asd_emotion_{name}'
        parameters = [Parameter(k, value=v) for k, v in overrides.items()]
        self.node = spinner.add(AsdEmotionNode(parameter_overrides=parameters,
                                               cli_args=['--ros-args', '-r', f'__node:={self.name}']))
        self.probe = spinner.add(__import__('rclpy').create_node(f'probe_{self.name}'))
        self.affect: list = []
        self.errors: list[str] = []
        self.probe.create_subscription(AffectState, '/attune/affect', self.affect.append, RELIABLE)
        rosout = self.probe.create_subscription(Log, '/rosout', self._on_log, ROSOUT_QOS)
        self.faces = self.probe.create_publisher(Faces, overrides['faces_topic'], RELIABLE)
        self.images = self.probe.create_publisher(Image, overrides['image_topic'], RELIABLE)
        for pub in (self.faces, self.images):
            assert wait_for(lambda p=pub: p.get_subscription_count() >= 1, 30)
        assert wait_for(lambda: rosout.get_publisher_count() >= self.probe.count_publishers('/rosout') >= 2, 30)

    def _on_log(self, log: Log) -> None:
        if log.name == self.name and log.level >= Log.ERROR:
            self.errors.append(log.msg)


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
    assert not hasattr(last, 'protocol_status')  # pure perception: protocols are the interaction node's
    assert not h.errors


def test_completed_baselines_go_into_the_calibration_log(spinner, portrait, tmp_path) -> None:
    h = Harness(spinner, 'calib', rate_hz=30.0, calibration_s=0.2, session_log_dir=str(tmp_path),
                session_name='child07')
    rgb, landmarks = portrait
    base = time.time_ns()
    for i in range(12):
        ns = base + i * S // 30
        h.faces.publish(faces_msg(ns, [tracked('f1', landmarks, 0.0)]))
        h.images.publish(image_msg(rgb, 'rgb8', header(ns)))
    (log,) = tmp_path.glob('asd_calibration_*_child07.jsonl')
    assert wait_for(lambda: any(r['type'] == 'calibration' for r in read_log(log)), 20), read_log(log)
    record = next(r for r in read_log(log) if r['type'] == 'calibration')
    assert record['face_id'] == 'f1' and len(record['baseline']) == len(EMOTIONS)
    assert read_log(log)[0]['affect']['calibration_s'] == 0.2


def test_bad_input_is_reported_without_a_crash(spinner, portrait) -> None:
    h = Harness(spinner, 'bad')
    rgb, landmarks = portrait
    base = time.time_ns()
    # 1. a face without landmarks and one with NaN landmarks, with their image: skipped, reported, no output
    nan = np.full_like(landmarks, np.nan)
    h.faces.publish(faces_msg(base, [tracked('nolm', None, 0.0, 0.3), tracked('nan', nan, 0.0, 0.7)]))
    h.images.publish(image_msg(rgb, 'rgb8', header(base)))
    assert wait_for(lambda: any('NaN' in e for e in h.errors), 30), h.errors
    # 2. the node lives on: a good frame still gives an estimate
    ok = base + 5 * S
    h.faces.publish(faces_msg(ok, [tracked('f4', landmarks, 0.0)]))
    h.images.publish(image_msg(rgb, 'rgb8', header(ok)))
    assert wait_for(lambda: any(m.face_id == 'f4' and m.emotions for m in h.affect), 30)
    assert not any(m.face_id in ('nolm', 'nan') and m.emotions for m in h.affect)


def test_wrong_parameters_and_a_missing_model_stop_start_up(rclpy_session, tmp_path) -> None:
    with pytest.raises(ConfigError, match='rate_hz'):
        AsdEmotionNode(parameter_overrides=[Parameter('rate_hz', value=0.0)])
    with pytest.raises(ModelFileError, match=r'missing\.onnx'):
        AsdEmotionNode(parameter_overrides=[Parameter('model_path', value=str(tmp_path / 'missing.onnx'))])
