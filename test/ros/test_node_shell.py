"""The node shell through real rclpy: image subscription by transport, bad input dropped and
counted, the exact-stamp join of Faces and images, diagnostics, and teardown of everything the
shell created (on deactivate, cleanup and a refused start)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header, String

from attune.errors import ConfigError
from attune.imaging import encode_compressed
from attune.ros import qos
from attune.ros.faces_join import FacesJoinNode, faces_join_parameters
from attune.ros.image_input import ImageInputNode, image_input_parameters
from attune.ros.images import image_msg
from attune.ros.params import ParamSpec
from attune.ros.robot_bridge import SPEAKING_TOPIC, RobotBridgeNode
from attune.ros.shell import Diagnostics
from attune.ros.stamps import from_ns, to_ns
from test.conftest import wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
AUTOSTART = ParamSpec('autostart', True, 'Configure and activate at start-up.')


def header(ns: int) -> Header:
    from builtin_interfaces.msg import Time

    return Header(stamp=from_ns(ns, Time), frame_id='cam')


class Analyzer:
    """Stands in for a MediaPipe graph: built from the parameters, closed on cleanup."""

    def __init__(self, fail_on_width: int) -> None:
        self.fail_on_width = fail_on_width
        self.closed = False

    def size(self, rgb: np.ndarray) -> str:
        if rgb.shape[1] == self.fail_on_width:
            raise RuntimeError('the graph broke')
        return f'{rgb.shape[1]}x{rgb.shape[0]}'

    def close(self) -> None:
        self.closed = True


class SizeNode(ImageInputNode):
    """Publishes each image's size on <image_topic>/size."""

    DIAGNOSTICS = Diagnostics('sizes', working='measuring', idle='no images')
    ANALYZER = 'size analyzer'
    ANALYZER_PARAMS = frozenset({'fail_on_width'})
    PARAMETERS = (*image_input_parameters(queue_depth=10),
                  ParamSpec('fail_on_width', 0, 'Images this wide make the analyzer raise.', dynamic=True),
                  ParamSpec('refuse', False, 'Refuse to start.'), AUTOSTART)

    def __init__(self, **kwargs: Any) -> None:
        self.analyzers: list[Analyzer] = []
        super().__init__('size_node', self.PARAMETERS, **kwargs)

    def build_analyzer(self) -> Analyzer:
        if self.params['refuse']:
            raise ConfigError('refusing to start, as asked')
        self.analyzers.append(Analyzer(self.params['fail_on_width']))
        return self.analyzers[-1]

    def configure(self) -> None:
        self._out = self.add_publisher(String, self.params['image_topic'] + '/size', qos.RESULTS)

    def activate(self) -> None:
        self.subscribe_images()

    def process(self, msg: Any, rgb: np.ndarray) -> None:
        self._out.publish(String(data=f'{to_ns(msg.header.stamp)}:{self.analyzer.size(rgb)}'))


class PairNode(FacesJoinNode):
    """Records the (Faces stamp, image stamp) pairs the join hands it."""

    PARAMETERS = (*image_input_parameters(queue_depth=10), *faces_join_parameters(), AUTOSTART)

    def __init__(self, **kwargs: Any) -> None:
        self.pairs: list[tuple[int, int]] = []
        super().__init__('pair_node', self.PARAMETERS, **kwargs)

    def activate(self) -> None:
        self.subscribe_faces()
        self.subscribe_images()

    def process_joined(self, faces: Any, image: Any) -> None:
        self.pairs.append((to_ns(faces.msg.header.stamp), to_ns(image.header.stamp)))


def start(spinner, node_class, name: str, **params) -> Any:
    overrides = [Parameter(k, value=v) for k, v in params.items()]
    return spinner.add(node_class(parameter_overrides=overrides, cli_args=['--ros-args', '-r', f'__node:={name}']))


def probe(spinner, name: str) -> Any:
    return spinner.add(__import__('rclpy').create_node(name))


def rgb(width: int, height: int = 4) -> np.ndarray:
    return np.zeros((height, width, 3), np.uint8)


@pytest.mark.parametrize('transport', ['raw', 'compressed'])
def test_raw_and_compressed_images_are_decoded_and_processed(spinner, transport: str) -> None:
    topic = f'/shell_{transport}/image'
    node = start(spinner, SizeNode, f'size_{transport}', image_topic=topic, image_transport=transport,
                 reliable_input=True)
    p = probe(spinner, f'probe_{transport}')
    sizes: list[str] = []
    p.create_subscription(String, topic + '/size', lambda m: sizes.append(m.data), RELIABLE)
    pub = p.create_publisher(Image if transport == 'raw' else CompressedImage, topic, RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1 and p.count_publishers(topic + '/size') >= 1, 30)
    if transport == 'raw':
        pub.publish(image_msg(rgb(6), 'rgb8', header(7)))
    else:
        pub.publish(CompressedImage(header=header(7), format='jpeg', data=encode_compressed(rgb(6), 'jpeg')))
    assert wait_for(lambda: sizes == ['7:6x4'], 30), sizes
    assert node.counts == {'frames_processed': 1}


def test_bad_images_and_failing_frames_are_dropped_counted_and_the_node_lives_on(spinner) -> None:
    node = start(spinner, SizeNode, 'size_bad', image_topic='/shell_bad/image', reliable_input=True, fail_on_width=5)
    p = probe(spinner, 'probe_bad')
    sizes: list[str] = []
    p.create_subscription(String, '/shell_bad/image/size', lambda m: sizes.append(m.data), RELIABLE)
    pub = p.create_publisher(Image, '/shell_bad/image', RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1, 30)
    pub.publish(Image(header=header(1), height=4, width=4, encoding='rgb8', step=10, data=bytes(40)))  # wrong step
    pub.publish(image_msg(rgb(5), 'rgb8', header(2)))  # the analyzer raises
    pub.publish(image_msg(rgb(6), 'rgb8', header(3)))
    assert wait_for(lambda: sizes == ['3:6x4'], 30), sizes
    assert node.bad_input.counts == {'ImageError': 1, 'processing': 1}
    values = {kv.key: kv.value for kv in node.diagnostics().status[0].values}
    assert (values['frames_processed'], values['dropped_bad_input'], values['dropped_processing']) == ('1', '2', '1')
    assert node.diagnostics().status[0].name == 'size_bad: sizes'


def test_images_and_faces_are_joined_by_exact_stamp_in_either_order(spinner) -> None:
    from attune.msg import Faces

    node = start(spinner, PairNode, 'pair_node', image_topic='/shell_pair/image', faces_topic='/shell_pair/faces',
                 reliable_input=True, sync_queue_size=5)
    p = probe(spinner, 'probe_pair')
    images = p.create_publisher(Image, '/shell_pair/image', RELIABLE)
    faces = p.create_publisher(Faces, '/shell_pair/faces', RELIABLE)
    assert wait_for(lambda: images.get_subscription_count() >= 1 and faces.get_subscription_count() >= 1, 30)
    images.publish(image_msg(rgb(4), 'rgb8', header(10)))          # image first
    assert wait_for(lambda: node._sync.pending() == (1, 0), 30)
    faces.publish(Faces(header=header(10)))
    assert wait_for(lambda: node.pairs == [(10, 10)], 30), node.pairs
    faces.publish(Faces(header=header(20)))                       # Faces first
    assert wait_for(lambda: node._sync.pending() == (0, 1), 30)
    images.publish(image_msg(rgb(4), 'rgb8', header(20)))
    assert wait_for(lambda: node.pairs == [(10, 10), (20, 20)], 30), node.pairs
    for ns in range(30, 37):                                       # Faces without their images
        faces.publish(Faces(header=header(ns)))
    assert wait_for(lambda: node.bad_input.counts.get('no_matching_image', 0) >= 1, 30)
    assert node.diagnostic_values()['sync_matched'] == 2


def test_deactivate_and_cleanup_destroy_everything_the_shell_made(spinner) -> None:
    node = start(spinner, SizeNode, 'size_teardown', image_topic='/shell_teardown/image')
    p = probe(spinner, 'probe_teardown')
    kinds = sorted(kind for kind, _ in node.tracked())
    assert kinds == ['lifecycle_publisher', 'publisher', 'subscription', 'timer']
    assert wait_for(lambda: p.count_subscribers('/shell_teardown/image') == 1, 30)

    subscriptions = len(list(node.subscriptions))
    node.trigger_deactivate()
    assert len(list(node.subscriptions)) == subscriptions - 1
    assert sorted(kind for kind, _ in node.tracked()) == ['lifecycle_publisher', 'publisher', 'timer']
    assert wait_for(lambda: p.count_subscribers('/shell_teardown/image') == 0, 30)

    publishers, timers = len(list(node.publishers)), len(list(node.timers))
    node.trigger_cleanup()
    assert node.tracked() == []
    assert len(list(node.publishers)) == publishers - 2 and len(list(node.timers)) == timers - 1
    assert node.analyzer is None and node.analyzers[0].closed
    assert wait_for(lambda: p.count_publishers('/shell_teardown/image/size') == 0
                    and p.count_publishers('/diagnostics') == 0, 30)

    node.trigger_configure()                                       # and it comes back
    node.trigger_activate()
    assert len(node.analyzers) == 2 and len(node.tracked()) == 4
    assert wait_for(lambda: p.count_subscribers('/shell_teardown/image') == 1, 30)


def test_a_changed_analyzer_parameter_rebuilds_the_analyzer(spinner) -> None:
    node = start(spinner, SizeNode, 'size_rebuild', image_topic='/shell_rebuild/image')
    first = node.analyzer
    assert node.set_parameters([Parameter('fail_on_width', value=3)])[0].successful
    assert node.analyzer is not first and first.closed and node.analyzer.fail_on_width == 3


def test_a_refused_start_leaves_nothing_behind(rclpy_session) -> None:
    with pytest.raises(ConfigError, match='refusing to start'):
        SizeNode(parameter_overrides=[Parameter('refuse', value=True)],
                 cli_args=['--ros-args', '-r', '__node:=size_refused'])


class TalkingBridge(RobotBridgeNode):
    """Says every command's text on /shell_bridge/said and reports speaking while it does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('talking_bridge', (AUTOSTART,), **kwargs)

    def configure(self) -> None:
        self._said = self.add_publisher(String, '/shell_bridge/said', qos.RESULTS)

    def execute(self, command: Any) -> None:
        self._said.publish(String(data=command.text))
        self.set_speaking(bool(command.text))


def test_a_robot_bridge_drops_bad_commands_and_latches_its_speaking_state(spinner) -> None:
    from attune.msg import BehaviorCommand, RobotSpeaking

    node = start(spinner, TalkingBridge, 'talking_bridge')
    p = probe(spinner, 'probe_bridge')
    speaking: list[bool] = []
    stamps: list[int] = []
    said: list[str] = []

    def on_speaking(m: RobotSpeaking) -> None:
        speaking.append(m.speaking)
        stamps.append(to_ns(m.header.stamp))

    p.create_subscription(RobotSpeaking, SPEAKING_TOPIC, on_speaking, qos.LATCHED)
    p.create_subscription(String, '/shell_bridge/said', lambda m: said.append(m.data), RELIABLE)
    assert wait_for(lambda: speaking == [False], 30), speaking      # latched: a late subscriber gets it
    commands = p.create_publisher(BehaviorCommand, '/attune/behavior/command', qos.RESULTS)
    assert wait_for(lambda: commands.get_subscription_count() >= 1 and p.count_publishers('/shell_bridge/said'), 30)
    commands.publish(BehaviorCommand(action=250))                 # no such action
    sent = node.get_clock().now().nanoseconds
    commands.publish(BehaviorCommand(action=BehaviorCommand.SAY, text='hello'))
    assert wait_for(lambda: said == ['hello'] and speaking == [False, True], 30), (said, speaking)
    assert 0 < stamps[0] <= sent <= stamps[1] <= node.get_clock().now().nanoseconds  # stamped when it changed
    assert node.bad_input.counts == {'command': 1}
