"""BagPlayer -> DDS -> BagRecorder with real rclpy and Fast DDS: bytes, order, timing, loop, filters."""
from __future__ import annotations

import itertools
import threading
import time

import pytest

from attune.bag import bag_report, bag_topics, frames_to_bag, messages_to_bag, read_messages
from attune.errors import BagError
from test.bag.synthetic import FACES_TYPE, FakeFace, faces_message, random_frames
from test.conftest import wait_for

pytestmark = pytest.mark.ros

IMAGE, INFO = '/camera/image_raw', '/camera/camera_info'
_names = itertools.count()


@pytest.fixture
def make_node(spinner):
    """Nodes spun in the background and destroyed after the test, with unique names."""
    from rclpy.node import Node

    def make(prefix: str = 'test'):
        return spinner.add(Node(f'{prefix}_{next(_names)}'))

    return make


@pytest.fixture(scope='module')
def camera_bag(tmp_path_factory):
    """20 small frames at 30 fps, with CameraInfo: 40 messages, 0.63 s."""
    return frames_to_bag(random_frames(20), tmp_path_factory.mktemp('bags') / 'camera', fps=30.0,
                         start_ns=1_000_000_000).path


def by_topic(path) -> dict[str, list[bytes]]:
    topics: dict[str, list[bytes]] = {}
    for message in read_messages(path):
        topics.setdefault(message.topic, []).append(message.data)
    return topics


def test_played_messages_are_recorded_byte_for_byte_in_order(tmp_path, make_node, camera_bag) -> None:
    from attune.ros.player import BagPlayer
    from attune.ros.recorder import BagRecorder

    player = BagPlayer(make_node('player'), camera_bag, wait_for_subscribers=1)
    with BagRecorder(make_node('recorder'), tmp_path / 'out', [IMAGE, INFO]) as recorder:
        assert recorder.topics == {IMAGE: 'sensor_msgs/msg/Image', INFO: 'sensor_msgs/msg/CameraInfo'}
        started = time.monotonic()
        assert player.play() == 40
        elapsed = time.monotonic() - started
        assert wait_for(lambda: recorder.message_count == 40, timeout=60), recorder.counts  # a guard
    # Never ahead of the bag's own timing at rate 1 (how far behind is the machine's load; the exact
    # schedule is test_rate_scales_playback_time's).
    assert elapsed >= 19 / 30 - 0.01
    assert by_topic(tmp_path / 'out') == by_topic(camera_bag)
    recorded = list(read_messages(tmp_path / 'out', [IMAGE]))
    stamps = [m.timestamp_ns for m in recorded]
    assert stamps == sorted(stamps)  # receive times on the node clock
    assert abs(stamps[0] - time.time_ns()) < 60e9
    assert [m.deserialize().header.stamp.nanosec for m in recorded] == \
        [round(i * 1e9 / 30) for i in range(20)]  # header stamps untouched


class FakeTime(threading.Event):
    """The player's monotonic clock and its stop event in one: waiting advances the clock at once, so
    the schedule of a play() is exact however loaded the machine (no wall-time assertion)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        if not self.is_set() and timeout:
            self.now += timeout
        return self.is_set()


def publish_times(player, monkeypatch) -> list[float]:
    """Play once on a FakeTime clock; the clock reading at each publish, from the first."""
    import attune.ros.player as player_module

    fake = FakeTime()
    monkeypatch.setattr(player_module, 'time', fake)
    player._stop = fake
    times: list[float] = []
    publishers = dict(player._publishers)

    class Timed:
        def __init__(self, publisher) -> None:
            self.publisher = publisher

        def publish(self, data) -> None:
            times.append(fake.now)
            self.publisher.publish(data)

    player._publishers = {topic: Timed(pub) for topic, pub in publishers.items()}
    try:
        player.play()
    finally:
        player._publishers = publishers
    return [t - times[0] for t in times]


def test_rate_scales_playback_time(tmp_path, make_node, monkeypatch) -> None:
    from attune.ros.player import BagPlayer

    bag = frames_to_bag(random_frames(21, 8, 8), tmp_path / 'bag', fps=20.0, camera_info=False,
                        start_ns=0).path
    node = make_node('player')
    for rate in (1.0, 2.0, 0.5):
        with BagPlayer(node, bag, rate=rate) as player:
            times = publish_times(player, monkeypatch)
        assert times == pytest.approx([i * 0.05 / rate for i in range(21)], abs=1e-6), rate


def test_loop_repeats_the_bag_until_stopped(tmp_path, make_node, camera_bag) -> None:
    from attune.ros.player import BagPlayer
    from attune.ros.recorder import BagRecorder

    player = BagPlayer(make_node('player'), camera_bag, rate=4.0, loop=True, topics=[IMAGE],
                       wait_for_subscribers=1)
    with BagRecorder(make_node('recorder'), tmp_path / 'out', [IMAGE]) as recorder:
        thread = threading.Thread(target=player.play)
        thread.start()
        try:
            assert wait_for(lambda: recorder.message_count >= 45, timeout=60), recorder.counts
        finally:
            player.stop()
            thread.join(timeout=5)
        assert not thread.is_alive()
        assert wait_for(lambda: recorder.message_count == player.published, timeout=60)
    images = by_topic(camera_bag)[IMAGE]
    recorded = by_topic(tmp_path / 'out')[IMAGE]
    assert len(recorded) >= 45
    # The bag over and over, as many times as it was played before stop() landed (a loaded machine
    # may reach a fourth round before this thread gets to stop it).
    rounds = len(recorded) // len(images) + 1
    assert recorded == (images * rounds)[:len(recorded)]


def test_topic_filter(tmp_path, make_node, camera_bag) -> None:
    from attune.ros.player import BagPlayer
    from attune.ros.recorder import BagRecorder

    with pytest.raises(BagError, match=r'/nope.* not in bag'):
        BagPlayer(make_node('player'), camera_bag, topics=['/nope'])
    player = BagPlayer(make_node('player'), camera_bag, topics=[INFO], rate=4.0, wait_for_subscribers=1)
    assert player.topics == {INFO: 'sensor_msgs/msg/CameraInfo'}
    types = {IMAGE: 'sensor_msgs/msg/Image', INFO: 'sensor_msgs/msg/CameraInfo'}  # no discovery
    with BagRecorder(make_node('recorder'), tmp_path / 'out', types) as recorder:
        assert player.play() == 20
        assert wait_for(lambda: recorder.message_count == 20, timeout=60)
        time.sleep(0.1)
        assert recorder.counts == {IMAGE: 0, INFO: 20}
    assert bag_topics(tmp_path / 'out') == {IMAGE: ('sensor_msgs/msg/Image', 0),
                                            INFO: ('sensor_msgs/msg/CameraInfo', 20)}


def test_attune_messages_are_replayed_and_recorded(tmp_path, make_node) -> None:
    """Raw CDR from rosbags reaches rclpy subscribers as attune.msg.Faces, and is recorded decodable."""
    from attune.msg import Faces
    from attune.ros.player import BagPlayer
    from attune.ros.recorder import BagRecorder

    bag = tmp_path / 'faces'
    messages_to_bag([('/attune/faces', FACES_TYPE, 10 + i * 50_000_000,
                      faces_message(10 + i * 50_000_000, [FakeFace(f'f{i}', 0.5 + i / 20, yaw=float(i))]))
                     for i in range(6)], bag)
    received: list = []
    listener = make_node('listener')
    listener.create_subscription(Faces, '/attune/faces', received.append, 10)
    player = BagPlayer(make_node('player'), bag, wait_for_subscribers=2)
    with BagRecorder(make_node('recorder'), tmp_path / 'out', ['/attune/faces']) as recorder:
        assert recorder.topics == {'/attune/faces': FACES_TYPE}
        assert player.play() == 6
        assert wait_for(lambda: recorder.message_count == 6 and len(received) == 6, timeout=60)
    assert [m.faces[0].id for m in received] == [f'f{i}' for i in range(6)]
    assert received[3].faces[0].yaw == pytest.approx(3.0)
    assert received[3].header.stamp.nanosec == 10 + 3 * 50_000_000
    assert by_topic(tmp_path / 'out') == by_topic(bag)
    report = bag_report(tmp_path / 'out')
    assert report.faces[0].messages == 6
    assert [t.id for t in report.faces[0].tracks] == [f'f{i}' for i in range(6)]


def test_clock_carries_the_bag_time(tmp_path, make_node, monkeypatch) -> None:
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rosgraph_msgs.msg import Clock

    from attune.ros.player import BagPlayer

    bag = frames_to_bag(random_frames(6, 8, 8), tmp_path / 'bag', fps=10.0, camera_info=False,
                        start_ns=5_000_000_000).path
    ticks: list[int] = []
    listener = make_node('clock_listener')
    listener.create_subscription(
        Clock, '/clock', lambda m: ticks.append(m.clock.sec * 10**9 + m.clock.nanosec),
        QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT))  # as rclpy's TimeSource
    node = make_node('player')
    with BagPlayer(node, bag, clock=True, clock_hz=50.0) as player:
        assert wait_for(lambda: player._clock_pub.get_subscription_count() == 1, timeout=60)
        times = publish_times(player, monkeypatch)  # on a FakeTime clock: the ticks do not depend on load
        assert len(times) == 6
    assert wait_for(lambda: ticks and ticks[-1] == 5_500_000_000, timeout=60)
    assert len(ticks) >= 15  # 50 Hz over 0.5 s, plus one per message
    assert ticks[0] == 5_000_000_000
    assert ticks == sorted(ticks)


def test_start_paused_resume_and_stop_from_another_thread(tmp_path, make_node) -> None:
    from attune.ros.player import BagPlayer

    # 500 frames (50 s): the stop below comes long before the end, however slow the machine.
    bag = frames_to_bag(random_frames(500, 8, 8), tmp_path / 'bag', fps=10.0, camera_info=False,
                        start_ns=0).path
    player = BagPlayer(make_node('player'), bag, start_paused=True)
    counts: list[int] = []
    thread = threading.Thread(target=lambda: counts.append(player.play()))
    thread.start()
    time.sleep(0.3)
    assert player.paused
    assert player.published == 0
    player.resume()
    assert wait_for(lambda: player.published >= 3, timeout=60)
    player.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert 3 <= counts[0] < 500
    assert player.play() == counts[0]  # a stopped player does not start again


def test_player_errors(tmp_path, make_node, camera_bag) -> None:
    from rosbags.rosbag2 import StoragePlugin, Writer

    from attune.ros.player import BagPlayer, message_class

    node = make_node('player')
    with pytest.raises(BagError, match='rate'):
        BagPlayer(node, camera_bag, rate=0.0)
    with pytest.raises(BagError, match='does not exist'):
        BagPlayer(node, tmp_path / 'missing')
    # Topics nobody else uses: a node process of an earlier test can stay matched to /camera/image_raw
    # for seconds after it exited (until its DDS lease ends), and then this bag would have a subscriber.
    lonely = frames_to_bag(random_frames(2), tmp_path / 'lonely', fps=30.0, topic='/player_errors/image_raw').path
    with pytest.raises(BagError, match=r'fewer than 1 subscriber\(s\) on /player_errors/image_raw \(0\)'):
        BagPlayer(node, lonely, wait_for_subscribers=1, subscriber_timeout_s=0.2).play()
    assert message_class('sensor_msgs/msg/Image').__name__ == 'Image'
    assert message_class('attune/Faces').__module__.startswith('attune.msg')
    path = tmp_path / 'foreign'
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        writer.add_connection('/thing', 'nobody/msg/Thing', msgdef='', rihs01='RIHS01_x')
    with pytest.raises(BagError, match=r'nobody/msg/Thing \(topic /thing\).*not importable'):
        BagPlayer(node, path)


def test_recorder_errors_and_idempotent_close(tmp_path, make_node) -> None:
    from attune.ros.recorder import BagRecorder

    node = make_node('recorder')
    with pytest.raises(BagError, match=r'/not/there did not appear .* within 0.2 s'):
        BagRecorder(node, tmp_path / 'a', ['/not/there'], discovery_timeout_s=0.2).start()
    assert not (tmp_path / 'a').exists()
    (tmp_path / 'b').mkdir()
    with pytest.raises(BagError, match='exists'):
        BagRecorder(node, tmp_path / 'b', {'/x': 'std_msgs/msg/String'}).start()
    with pytest.raises(BagError, match=r'cannot record /x: the definition of nobody/msg/Thing'):
        BagRecorder(node, tmp_path / 'c', {'/x': 'nobody/msg/Thing'}).start()
    recorder = BagRecorder(node, tmp_path / 'd', {'/x': 'std_msgs/msg/String'}).start()
    recorder.close()
    recorder.close()
    assert bag_topics(tmp_path / 'd') == {'/x': ('std_msgs/msg/String', 0)}
