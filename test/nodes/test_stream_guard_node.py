"""The stream guard node through real rclpy and Fast DDS: a still picture replayed by a player-named
node on perfectly regular stamps is judged not live, with reasons, in StreamTrust and diagnostics; a
malformed image is dropped and counted while the node lives on."""
from __future__ import annotations

import math

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from attune.nodes.stream_guard_node import StreamGuardNode, camera_info_topic_for
from attune.ros.images import image_msg
from attune.ros.stamps import to_ns
from test.conftest import wait_for
from test.integrity.test_evidence import scene
from test.nodes.test_expression_node import header

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
TOPIC = '/guard_test/image_raw'


def test_camera_info_topic_is_the_image_topic_sibling() -> None:
    assert camera_info_topic_for('/camera/image_raw') == '/camera/camera_info'
    assert camera_info_topic_for('/nao/top/image') == '/nao/top/camera_info'


def test_a_replayed_still_is_not_live(spinner) -> None:
    from attune.msg import StreamTrust

    overrides = {'image_topic': TOPIC, 'reliable_input': True, 'input_queue_depth': 50, 'publish_every': 5}
    node = spinner.add(StreamGuardNode(parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
                                       cli_args=['--ros-args', '-r', '__node:=stream_guard_node_test']))
    player = spinner.add(__import__('rclpy').create_node('attune_player_guard_test'))
    trust: list = []
    diagnostics: list = []
    player.create_subscription(StreamTrust, '/attune/stream_trust', trust.append, RELIABLE)
    player.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, RELIABLE)
    pub = player.create_publisher(Image, TOPIC, RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1, 30)
    assert wait_for(lambda: any(p.endswith('attune_player_guard_test') for p in node.analyzer.publishers), 30)

    bad = Image(header=header(1), height=4, width=4, encoding='rgb8', step=3, data=bytes(10))
    pub.publish(bad)
    still = scene()
    start = 1_700_000_000_000_000_000
    stamps = [start + i * 33_333_333 for i in range(30)]
    for stamp in stamps:   # a perfectly regular schedule, stamps of long ago
        pub.publish(image_msg(still, 'rgb8', header(stamp)))
    assert wait_for(lambda: any(m.ready and to_ns(m.header.stamp) == stamps[-1] for m in trust), 60)

    early = [m for m in trust if not m.ready]
    assert early and all(math.isnan(m.score) and not m.live for m in early)
    last = trust[-1]
    assert last.topic == TOPIC and last.frames == 30
    assert not last.live and 0.0 <= last.score < 0.5
    assert last.reasons and len(last.feature_names) == len(last.feature_values) == 16
    values = dict(zip(last.feature_names, last.feature_values))
    assert values['repeat_fraction'] == 1.0 and values['publisher_player'] == 1.0
    assert np.isclose(values['log_jitter_ms'], -3.0)
    assert node.counts['frames_processed'] == 30

    def reported(key: str):
        return [v.value for d in diagnostics for s in d.status if s.name.startswith('stream_guard_node_test')
                for v in s.values if v.key == key]
    assert wait_for(lambda: 'False' in reported('live'), 30)
    assert any(r for r in reported('top_reason'))
    assert node.bad_input.counts
