"""The face node through real rclpy and Fast DDS: results, stamps, parameters, and bad input."""
from __future__ import annotations

import math
import subprocess
import sys

import cv2
import numpy as np
import pytest
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from attune.errors import ConfigError, ModelFileError
from attune.face import mediapipe_face
from attune.imaging import encode_compressed
from attune.nodes.face_node import FaceNode
from attune.ros import msg_faces
from attune.ros.images import image_msg
from attune.ros.stamps import from_ns, to_ns
from test.conftest import ROSOUT_QOS, shared_data, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


def portrait_rgb() -> np.ndarray:
    path = shared_data('mediapipe', 'tfjs-models', 'portrait.jpg')
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def header(ns: int) -> Header:
    from builtin_interfaces.msg import Time

    return Header(stamp=from_ns(ns, Time), frame_id='test_camera')


class Harness:
    """A face node plus a probe node that publishes images and collects Faces and /rosout errors."""

    def __init__(self, spinner, topic: str, msg_type=Image, **params) -> None:
        from attune.msg import Faces

        overrides = {'deterministic_ids': True, 'min_hits': 1, 'reliable_input': True,
                     'input_queue_depth': 20, 'image_topic': topic, **params}
        # A unique node name per test: rcl keeps one /rosout publisher per logger name in a process.
        self.name = 'face_node_' + topic.strip('/').split('/')[0]
        self.node = spinner.add(FaceNode(parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
                                         cli_args=['--ros-args', '-r', f'__node:={self.name}']))
        self.probe = spinner.add(__import__('rclpy').create_node(f'probe_{self.name}'))
        self.faces: list = []
        self.errors: list[str] = []
        self.probe.create_subscription(Faces, '/attune/faces', self.faces.append, RELIABLE)
        rosout = self.probe.create_subscription(Log, '/rosout', self._on_log, ROSOUT_QOS)
        self.publisher = self.probe.create_publisher(msg_type, topic, RELIABLE)
        assert wait_for(lambda: self.publisher.get_subscription_count() >= 1, 30)
        # Error logs travel on /rosout: wait until the face node's log publisher is matched too.
        assert wait_for(lambda: rosout.get_publisher_count() >= self.probe.count_publishers('/rosout') >= 2, 30)

    def _on_log(self, log: Log) -> None:
        if log.name == self.name and log.level >= Log.ERROR:
            self.errors.append(log.msg)

    def send(self, msg, expect_faces: int | None = None, timeout: float = 10.0) -> None:
        before = len(self.faces)
        self.publisher.publish(msg)
        if expect_faces is not None:
            assert wait_for(lambda: len(self.faces) >= before + expect_faces, timeout)


def test_faces_carry_the_stamp_and_frame_of_their_image(spinner) -> None:
    h = Harness(spinner, '/test_stamps/image_raw')
    rgb = portrait_rgb()
    stamps = [1_700_000_000_000_000_000 + i * 33_333_333 for i in range(5)]
    for ns in stamps:
        h.send(image_msg(rgb, 'rgb8', header(ns)), expect_faces=1)
    assert [to_ns(m.header.stamp) for m in h.faces] == stamps
    assert all(m.header.frame_id == 'test_camera' for m in h.faces)
    last = h.faces[-1]
    assert (last.image_width, last.image_height) == (820, 1024)
    (face,) = last.faces
    assert face.id == 'f1' and face.age_frames == 5
    assert len(face.landmarks) == 3 * 478 and len(face.landmarks_3d) == 3 * 478
    assert face.pose_valid and all(math.isfinite(a) for a in (face.yaw, face.pitch, face.roll))
    assert 0.5 < face.detection_confidence <= 1.0
    frame = msg_faces.from_msg(last)  # the message converts back to the core's types
    assert frame.faces[0].observation.landmarks.shape == (478, 3)


def test_bgr8_and_mono8_give_the_same_face(spinner) -> None:
    h = Harness(spinner, '/test_encodings/image_raw')
    rgb = portrait_rgb()
    h.send(image_msg(np.ascontiguousarray(rgb[..., ::-1]), 'bgr8', header(1)), expect_faces=1)
    h.send(image_msg(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 'mono8', header(2)), expect_faces=1)
    assert [len(m.faces) for m in h.faces] == [1, 1]


def test_compressed_input(spinner) -> None:
    h = Harness(spinner, '/test_compressed/image_raw/compressed', msg_type=CompressedImage,
                image_transport='compressed')
    bgr = cv2.cvtColor(portrait_rgb(), cv2.COLOR_RGB2BGR)
    h.send(CompressedImage(header=header(5), format='jpeg', data=encode_compressed(bgr, 'jpeg')), expect_faces=1)
    assert len(h.faces[0].faces) == 1
    h.send(CompressedImage(header=header(6), format='jpeg', data=b'GIF89a not a jpeg'))
    h.send(CompressedImage(header=header(7), format='png', data=encode_compressed(bgr, 'png')), expect_faces=1)
    assert [to_ns(m.header.stamp) for m in h.faces] == [5, 7]
    assert wait_for(lambda: any('not a JPEG or PNG' in e for e in h.errors), 30)


def test_bad_images_are_dropped_with_one_error_each_and_the_node_lives_on(spinner) -> None:
    h = Harness(spinner, '/test_bad/image_raw')
    # One line per problem for the whole test. The reporter logs a problem again after period_s of wall
    # time, and 'truncated' is the same problem as 'data has' (the data's size): on a fast machine it came
    # 5.9 s after it and was logged a second time.
    h.node.bad_input.period_s = 3600.0
    good = image_msg(portrait_rgb(), 'rgb8', header(0))
    small = image_msg(np.zeros((4, 4, 3), np.uint8), 'rgb8', header(0))
    bad = {
        'step': Image(header=header(0), height=4, width=4, encoding='rgb8', step=10, data=bytes(40)),
        'data has': Image(header=header(0), height=4, width=4, encoding='rgb8', step=12, data=bytes(47)),
        'not supported': Image(header=header(0), height=4, width=4, encoding='yuv422', step=8, data=bytes(32)),
        'zero size': Image(header=header(0), height=0, width=0, encoding='rgb8', step=0, data=b''),
        'truncated': Image(header=header(0), height=small.height, width=small.width, encoding='rgb8',
                           step=small.step, data=bytes(small.data)[:-5]),
        '8000x8000': Image(header=header(0), height=8000, width=8000, encoding='mono8', step=8000,
                           data=bytes(8000 * 8000)),
    }
    ns = 100
    for expected, msg in bad.items():
        for _ in range(3):  # the same problem three times: logged once
            h.send(msg)
        ns += 1
        good.header = header(ns)
        h.send(good, expect_faces=1, timeout=30)  # the next good frame is processed
        assert wait_for(lambda e=expected: any(e in line for line in h.errors), 30), (expected, h.errors)
        assert sum(expected in line for line in h.errors) == 1, h.errors
    assert [to_ns(m.header.stamp) for m in h.faces] == list(range(101, ns + 1))  # only good frames


def test_wrong_parameters_stop_start_up_naming_the_parameter(rclpy_session) -> None:
    with pytest.raises(ConfigError, match='max_faces'):
        FaceNode(parameter_overrides=[Parameter('max_faces', value=0)])
    with pytest.raises(ConfigError, match='detector_model'):
        FaceNode(parameter_overrides=[Parameter('detector_model', value='long_range')])
    with pytest.raises(ConfigError, match='min_hits'):
        FaceNode(parameter_overrides=[Parameter('min_hits', value='three')])


def test_missing_model_file_stops_start_up_naming_the_file(rclpy_session, monkeypatch) -> None:
    monkeypatch.setitem(mediapipe_face._DETECTOR_FILES, 'short_range', 'modules/face_detection/missing.tflite')
    with pytest.raises(ModelFileError, match=r'missing\.tflite'):
        FaceNode()


def test_parameters_change_at_run_time_within_their_ranges(spinner) -> None:
    h = Harness(spinner, '/test_params/image_raw')
    node = h.node
    assert not node.set_parameters([Parameter('min_detection_confidence', value=2.0)])[0].successful
    assert not node.set_parameters([Parameter('image_topic', value='/elsewhere')])[0].successful  # read-only
    assert node.set_parameters([Parameter('max_faces', value=2), Parameter('landmarks', value=False)])[0].successful
    h.send(image_msg(portrait_rgb(), 'rgb8', header(9)), expect_faces=1)
    (face,) = h.faces[-1].faces
    assert len(face.landmarks) == 0 and not face.pose_valid and math.isnan(face.yaw)


def test_the_executable_reports_a_bad_parameter_and_exits_1() -> None:
    result = subprocess.run(
        [sys.executable, '-m', 'attune.nodes.face_node', '--ros-args', '-p', 'max_faces:=0'],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert 'max_faces' in result.stderr


def test_debug_image_and_diagnostics(spinner) -> None:
    from diagnostic_msgs.msg import DiagnosticArray

    h = Harness(spinner, '/test_debug/image_raw', publish_debug_image=True)
    debug: list[Image] = []
    diagnostics: list = []
    from rclpy.qos import qos_profile_sensor_data  # the debug image is sent best effort, like a camera

    h.probe.create_subscription(Image, '/attune/faces/debug_image', debug.append, qos_profile_sensor_data)
    h.probe.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, RELIABLE)
    rgb = portrait_rgb()
    h.send(image_msg(rgb, 'rgb8', header(42)), expect_faces=1)
    assert wait_for(lambda: debug, 30)
    assert to_ns(debug[0].header.stamp) == 42 and (debug[0].width, debug[0].height) == (820, 1024)
    assert bytes(debug[0].data) != image_msg(rgb, 'rgb8', header(42)).data.tobytes()  # something drawn
    assert wait_for(lambda: any(s.name.startswith(h.name) for d in diagnostics for s in d.status), 30)
    status = next(s for d in diagnostics for s in d.status if s.name.startswith(h.name))
    values = {v.key: v.value for v in status.values}
    assert int(values['frames_processed']) >= 1
