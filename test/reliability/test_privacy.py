"""Privacy by default (issue 14): the default graph, run on a real face clip, writes nothing to disk:
no pixels, crops, landmarks or templates (and no onnxruntime telemetry files) under HOME, the
working directory or TMPDIR, each pointed at an empty folder for the run."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy

from attune.graph.up_process import running_up
from attune.ros.images import image_msg
from test.conftest import shared_data, wait_for

pytestmark = [pytest.mark.ros, pytest.mark.slow]

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
CAMERA = 'privacy_camera'


#: Files that hold no person data and are allowed: ROS's own text logs (rcl writes them for every
#: process) and matplotlib's font list (MediaPipe's drawing utilities import matplotlib).
HARMLESS = ('.ros/log/', '.cache/matplotlib/fontlist-')


def files_under(*roots: Path) -> list[str]:
    """Every file under `roots` except HARMLESS ones."""
    return sorted(str(p) for root in roots for p in root.rglob('*')
                  if p.is_file() and not any(h in p.relative_to(root).as_posix() for h in HARMLESS))


def matched(probe, subscription, node_name: str) -> bool:
    """Whether `node_name` publishes the subscription's topic and every publisher of it is matched."""
    publishers = probe.get_publishers_info_by_topic(subscription.topic_name)
    return (any(p.node_name == node_name for p in publishers)
            and subscription.get_publisher_count() >= len(publishers))


def clip_frames(count: int) -> list:
    capture = cv2.VideoCapture(str(shared_data('video', 'faces', 'd0.mp4')))
    frames = []
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(bgr, (640, 360)), cv2.COLOR_BGR2RGB))
    capture.release()
    assert frames, 'the face clip has no frames'
    return frames


def test_default_graph_on_a_face_clip_writes_nothing(spinner, tmp_path: Path) -> None:
    from builtin_interfaces.msg import Time
    from rclpy.node import Node
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from attune.msg import Expression, Faces
    from attune.ros.stamps import from_ns, to_ns

    home, cwd, tmp = (tmp_path / name for name in ('home', 'cwd', 'tmp'))
    for folder in (home, cwd, tmp):
        folder.mkdir()
    env = {**os.environ, 'HOME': str(home), 'TMPDIR': str(tmp)}
    env.pop('XDG_CACHE_HOME', None)
    env.pop('ROS_HOME', None)
    topic = '/privacy/image_raw'
    probe = spinner.add(Node('privacy_probe'))
    faces, expressions = [], []
    faces_sub = probe.create_subscription(Faces, '/attune/faces', faces.append, RELIABLE)
    expressions_sub = probe.create_subscription(Expression, '/attune/expression', expressions.append, RELIABLE)
    images = probe.create_publisher(Image, topic, RELIABLE)
    # The graph's output goes to a file outside the three watched folders (an unread pipe fills up and
    # then blocks every node that logs); running_up leaves no node of the graph behind.
    with (tmp_path / 'up.log').open('w') as log, \
            running_up(['--mode', 'composed', '--camera-topic', topic], output=log, env=env, cwd=cwd):
        # Up means: both image subscriptions AND the publishers of both results are matched with the
        # probe (results published before the probe's readers are matched are lost for good).
        assert wait_for(lambda: images.get_subscription_count() >= 2 and matched(probe, faces_sub, 'face_node')
                        and matched(probe, expressions_sub, 'expression_node'), 120), 'the graph did not come up'
        start_ns = probe.get_clock().now().nanoseconds
        answered = 0
        for i, rgb in enumerate(clip_frames(45)):
            stamp = start_ns + i * 66_666_666
            header = Header(stamp=from_ns(stamp, Time), frame_id=CAMERA)
            images.publish(image_msg(rgb, 'rgb8', header))
            # The pace the graph keeps: this frame's own answer (by stamp), not a count of answers, so
            # one frame dropped on the way (best-effort camera input) costs one wait, not every later one.
            answered += wait_for(lambda s=stamp: any(to_ns(m.header.stamp) == s for m in faces[-3:]), 10)
        assert answered >= 30, f'{answered} of 45 frames answered'
        ours = lambda messages: [m for m in messages if m.header.frame_id == CAMERA]  # noqa: E731
        assert wait_for(lambda: any(m.faces for m in ours(faces)) and ours(expressions), 30), \
            (len(faces), len(expressions))
    assert files_under(home, cwd, tmp) == []
