"""The camera stops (issue 14): the face node's /diagnostics turns WARN (stale input) once no image came
for `stale_input_s`, and when images come back the same node, not restarted, processes them again,
keeps the face's id and reports OK. The test shortens the stale period to 1 s; the default (5 s) makes
a 10 s outage visible after 5 s."""
from __future__ import annotations

import time

import cv2
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from attune.ros.diagnostics import IDLE_AFTER_S
from attune.ros.images import image_msg
from attune.ros.stamps import from_ns
from test.conftest import shared_data, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
TOPIC = '/camera_stop/image_raw'
NAME = 'face_node_camera_stop'


def test_default_stale_period_reports_a_10_s_outage() -> None:
    from attune.nodes.face_node import PARAMETERS

    (stale,) = [p for p in PARAMETERS if p.name == 'stale_input_s']
    assert stale.default == IDLE_AFTER_S < 10.0


def test_camera_stop_is_reported_and_recovered_without_restart(spinner) -> None:
    from builtin_interfaces.msg import Time

    from attune.msg import Faces
    from attune.nodes.face_node import FaceNode

    overrides = {'image_topic': TOPIC, 'reliable_input': True, 'input_queue_depth': 20, 'min_hits': 1,
                 'deterministic_ids': True, 'stale_input_s': 1.0}
    node = spinner.add(FaceNode(parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
                                cli_args=['--ros-args', '-r', f'__node:={NAME}']))
    probe = spinner.add(__import__('rclpy').create_node('probe_camera_stop'))
    faces: list = []
    statuses: list[DiagnosticStatus] = []
    probe.create_subscription(Faces, '/attune/faces', faces.append, RELIABLE)
    probe.create_subscription(DiagnosticArray, '/diagnostics',
                              lambda m: statuses.extend(s for s in m.status if s.name.startswith(NAME)), RELIABLE)
    camera = probe.create_publisher(Image, TOPIC, RELIABLE)
    assert wait_for(lambda: camera.get_subscription_count() >= 1 and probe.count_publishers('/attune/faces') >= 1, 30)
    bgr = cv2.imread(str(shared_data('mediapipe', 'tfjs-models', 'portrait.jpg')))
    rgb = cv2.cvtColor(cv2.resize(bgr, (320, 240)), cv2.COLOR_BGR2RGB)

    sent = 0

    def latest_after(count: int, level: bytes) -> bool:
        return any(s.level == level for s in statuses[count:])

    def stream_until_ok(since: int, camera_clock_ahead_s: float = 0.0) -> None:
        """A 10 fps camera, each frame answered, until the node reports OK (at least 4 frames). The OK
        comes with the node's next diagnostics: a camera that stopped before it would read as stale."""
        nonlocal sent
        for frame in range(100):
            if frame >= 4 and latest_after(since, DiagnosticStatus.OK):
                return
            before = len(faces)
            stamp = probe.get_clock().now().nanoseconds + round(camera_clock_ahead_s * 1e9)
            header = Header(stamp=from_ns(stamp, Time), frame_id='camera_stop')
            camera.publish(image_msg(rgb, 'rgb8', header))
            sent += 1
            assert wait_for(lambda n=before: len(faces) > n, 30)
            time.sleep(0.1)  # the camera's frame period (the scenario's pace, not a wait for the node)
        raise AssertionError(f'no OK diagnostics in 100 frames: {[(s.level, s.message) for s in statuses]}')

    stream_until_ok(0)
    running = len(statuses)
    # The camera stops: no image for longer than the stale period.
    assert wait_for(lambda: latest_after(running, DiagnosticStatus.WARN), 30)
    warn = next(s for s in statuses[running:] if s.level == DiagnosticStatus.WARN)
    assert warn.message == 'stale input: no images in the last 1 s'
    stopped = len(statuses)
    stream_until_ok(stopped, camera_clock_ahead_s=10.0)  # the camera is back; by its clock the outage took 10 s
    assert node.counts['frames_processed'] == sent
    assert [tuple(f.id for f in m.faces) for m in faces] == [('f1',)] * sent  # the same track, not restarted
