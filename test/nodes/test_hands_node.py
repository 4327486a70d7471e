"""The hands node through real rclpy: Hands with the image's header, bad images, parameters."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from attune.errors import ConfigError, ModelFileError
from attune.hands import mediapipe_hands
from attune.nodes.hands_node import HandsNode
from attune.ros import msg_hands
from attune.ros.images import image_msg
from attune.ros.stamps import from_ns, to_ns
from test.conftest import ROSOUT_QOS, shared_data, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)


def test_hands_carry_the_image_header_and_bad_images_are_dropped(spinner) -> None:
    from attune.msg import Hands

    name = 'hands_node_test'
    node = spinner.add(HandsNode(parameter_overrides=[Parameter('image_topic', value='/hands_test/image_raw'),
                                                      Parameter('reliable_input', value=True),
                                                      Parameter('input_queue_depth', value=10)],
                                 cli_args=['--ros-args', '-r', f'__node:={name}']))
    probe = spinner.add(__import__('rclpy').create_node('probe_hands_node_test'))
    received, errors = [], []
    probe.create_subscription(Hands, '/attune/hands', received.append, RELIABLE)
    rosout = probe.create_subscription(Log, '/rosout', lambda log: errors.append(log.msg)
                                       if log.name == name and log.level >= Log.ERROR else None,
                                       ROSOUT_QOS)
    publisher = probe.create_publisher(Image, '/hands_test/image_raw', RELIABLE)
    assert wait_for(lambda: publisher.get_subscription_count() >= 1, 30)
    assert wait_for(lambda: rosout.get_publisher_count() >= probe.count_publishers('/rosout') >= 2, 30)
    rgb = cv2.cvtColor(cv2.imread(str(shared_data('mediapipe', 'tfjs-models', 'hands.jpg'))), cv2.COLOR_BGR2RGB)
    stamp = 1_700_000_000_500_000_000
    publisher.publish(image_msg(rgb, 'rgb8', Header(stamp=from_ns(stamp, Time), frame_id='cam')))
    for _ in range(2):
        publisher.publish(Image(header=Header(stamp=from_ns(1, Time)), height=4, width=4, encoding='rgb8',
                                step=10, data=bytes(40)))
    # a blank frame of the same camera (another size or frame_id would be another source, dropped)
    publisher.publish(image_msg(np.zeros_like(rgb), 'rgb8', Header(stamp=from_ns(stamp + 1, Time), frame_id='cam')))
    assert wait_for(lambda: len(received) >= 2, 20)
    first, blank = received[:2]
    assert to_ns(first.header.stamp) == stamp and first.header.frame_id == 'cam'
    assert (first.image_width, first.image_height) == (rgb.shape[1], rgb.shape[0])
    frame = msg_hands.from_msg(first)
    assert len(frame.hands) == 2 and all(h.landmarks.shape == (21, 3) for h in frame.hands)
    assert all(len(m.world_landmarks) == 63 for m in first.hands)
    assert to_ns(blank.header.stamp) == stamp + 1 and len(blank.hands) == 0  # empty, still published
    assert wait_for(lambda: len(errors) >= 1, 30) and sum('step' in e for e in errors) == 1, errors
    assert node.set_parameters([Parameter('model', value='lite')])[0].successful
    assert not node.set_parameters([Parameter('max_hands', value=9)])[0].successful


def test_without_a_hand_in_view_images_are_searched_at_search_rate_hz(spinner) -> None:
    from attune.msg import Hands

    node = spinner.add(HandsNode(parameter_overrides=[Parameter('image_topic', value='/hands_search/image_raw'),
                                                      Parameter('reliable_input', value=True),
                                                      Parameter('input_queue_depth', value=10),
                                                      Parameter('search_rate_hz', value=10.0)],
                                 cli_args=['--ros-args', '-r', '__node:=hands_node_search_test']))
    probe = spinner.add(__import__('rclpy').create_node('probe_hands_search_test'))
    received = []
    probe.create_subscription(Hands, '/attune/hands', received.append, RELIABLE)
    publisher = probe.create_publisher(Image, '/hands_search/image_raw', RELIABLE)
    assert wait_for(lambda: publisher.get_subscription_count() >= 1, 30)
    hands = cv2.cvtColor(cv2.imread(str(shared_data('mediapipe', 'tfjs-models', 'hands.jpg'))), cv2.COLOR_BGR2RGB)
    start, frame_ns = 1_700_000_000_000_000_000, round(1e9 / 30)
    # a 30 fps camera: two empty frames, then hands come into view at the third
    for i, rgb in enumerate([np.zeros_like(hands), np.zeros_like(hands), hands, hands, hands]):
        publisher.publish(image_msg(rgb, 'rgb8', Header(stamp=from_ns(start + i * frame_ns, Time), frame_id='cam')))
    assert wait_for(lambda: len(received) >= 5, 30)
    assert [to_ns(m.header.stamp) for m in received] == [start + i * frame_ns for i in range(5)]
    # searched at 0 and 3 (100 ms later): the hands in view at 2 are found at 3, then followed at 4
    assert [len(m.hands) for m in received] == [0, 0, 0, 2, 2]
    assert node.counts['frames_not_searched'] == 2 and node.counts['frames_processed'] == 5


def test_wrong_parameters_and_missing_models_stop_start_up(rclpy_session, monkeypatch) -> None:
    with pytest.raises(ConfigError, match='model'):
        HandsNode(parameter_overrides=[Parameter('model', value='heavy')])
    monkeypatch.setitem(mediapipe_hands._LANDMARK_FILES, 'full', 'modules/hand_landmark/missing.tflite')
    with pytest.raises(ModelFileError, match=r'missing\.tflite'):
        HandsNode()
