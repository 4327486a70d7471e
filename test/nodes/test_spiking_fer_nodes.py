"""The event emulator and spiking FER nodes through real rclpy and Fast DDS: emulated events from
video frames and faces end as Expressions; a replayed AEDAT4 bag too; bad packets are survived."""
from __future__ import annotations

import array
import itertools
import math
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
from rcl_interfaces.msg import Log
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from attune.emotions import EMOTIONS
from attune.errors import ConfigError, ModelFileError
from attune.ros.images import image_msg
from attune.ros.stamps import from_ns, to_ns
from test.conftest import ROSOUT_QOS, shared_data, wait_for

pytestmark = pytest.mark.ros

RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
START = 1_700_000_000_000_000_000
FRAME_NS = 33_333_333


def header(ns: int) -> Header:
    from builtin_interfaces.msg import Time

    return Header(stamp=from_ns(ns, Time), frame_id='test_camera')


@pytest.fixture(scope='module')
def video() -> tuple[list[np.ndarray], tuple[float, float, float, float]]:
    """16 RGB frames (256 x 256) of a real face video, and the face box of its first frame."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    capture = cv2.VideoCapture(str(shared_data('video', 'faces', 'd3.mp4')))
    frames = []
    for _ in range(16):
        ok, bgr = capture.read()
        assert ok
        frames.append(cv2.cvtColor(cv2.resize(bgr, (256, 256), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    capture.release()
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, landmarks=False)) as analyzer:
        (face,) = analyzer.process(frames[0])
    b = face.box
    return frames, (b.xmin, b.ymin, b.xmax, b.ymax)


def faces_msg(ns: int, box: tuple[float, float, float, float], face_id: str = 'f1'):
    from attune.msg import Face, Faces, NormalizedRoi

    face = Face(id=face_id, roi=NormalizedRoi(xmin=box[0], ymin=box[1], xmax=box[2], ymax=box[3]),
                detection_confidence=0.9, yaw=math.nan, pitch=math.nan, roll=math.nan)
    return Faces(header=header(ns), image_width=256, image_height=256, faces=[face])


class Probe:
    """A plain node that publishes inputs and collects outputs and the error logs of `watched` nodes."""

    def __init__(self, spinner, name: str, watched: tuple[str, ...]) -> None:
        import rclpy

        self.node = spinner.add(rclpy.create_node(f'probe_{name}'))
        self.watched = watched
        self.errors: list[str] = []
        self.subscriptions: list = []
        self._rosout = self.node.create_subscription(Log, '/rosout', self._on_log, ROSOUT_QOS)

    def _on_log(self, log: Log) -> None:
        if log.name in self.watched and log.level >= Log.ERROR:
            self.errors.append(log.msg)

    def collect(self, msg_type, topic: str) -> list:
        out: list = []
        self.subscriptions.append(self.node.create_subscription(msg_type, topic, out.append, RELIABLE))
        return out

    def wait_for_publishers(self) -> None:
        """Discovery can lag on a loaded machine: results published before it ends would be lost."""
        assert wait_for(lambda: all(s.get_publisher_count() >= 1 for s in self.subscriptions), 30)

    def wait_for_logs(self) -> None:
        assert wait_for(lambda: self._rosout.get_publisher_count() >= len(self.watched) + 1, 30)


def spiking_node(spinner, name: str, ns: str, **params):
    from attune.nodes.spiking_fer_node import SpikingFerNode

    overrides = {'reliable_input': True, 'face_events_topic': f'/{ns}/events', 'sensor_events_topic': f'/{ns}/sensor',
                 'expression_topic': f'/{ns}/expression', **params}
    return spinner.add(SpikingFerNode(parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
                                      cli_args=['--ros-args', '-r', f'__node:={name}']))


def test_emulator_to_spiking_node_gives_expressions_stamped_like_the_images(spinner, video) -> None:
    from sensor_msgs.msg import Image

    from attune.msg import EventPacket, Expression, Faces
    from attune.nodes.event_emulator_node import EventEmulatorNode

    frames, box = video
    params = {'reliable_input': True, 'image_topic': '/t_emu/image_raw', 'faces_topic': '/t_emu/faces',
              'events_topic': '/t_emu/events'}
    spinner.add(EventEmulatorNode(parameter_overrides=[Parameter(k, value=v) for k, v in params.items()],
                                  cli_args=['--ros-args', '-r', '__node:=emulator_t_emu']))
    spiking_node(spinner, 'spiking_t_emu', 't_emu')
    probe = Probe(spinner, 't_emu', ('emulator_t_emu', 'spiking_t_emu'))
    packets = probe.collect(EventPacket, '/t_emu/events')
    expressions = probe.collect(Expression, '/t_emu/expression')
    probe.wait_for_publishers()
    images = probe.node.create_publisher(Image, '/t_emu/image_raw', RELIABLE)
    faces = probe.node.create_publisher(Faces, '/t_emu/faces', RELIABLE)
    assert wait_for(lambda: images.get_subscription_count() >= 1 and faces.get_subscription_count() >= 1, 30)
    probe.wait_for_logs()
    stamps = [START + i * FRAME_NS for i in range(len(frames))]
    faces.publish(faces_msg(START - 5, box))  # no image has this stamp: never matched
    for i, (ns, rgb) in enumerate(zip(stamps, frames)):
        if i % 2:  # the two streams arrive in either order
            faces.publish(faces_msg(ns, box))
            images.publish(image_msg(rgb, 'rgb8', header(ns)))
        else:
            images.publish(image_msg(rgb, 'rgb8', header(ns)))
            faces.publish(faces_msg(ns, box))
        assert wait_for(lambda i=i: len(packets) >= i, 30)  # one packet per face and image, after the first
    assert [to_ns(p.header.stamp) for p in packets] == stamps[1:]
    assert all(p.face_id == 'f1' and p.emulated and (p.width, p.height) == (32, 32) for p in packets)
    assert sum(len(p.x) for p in packets) > 1000
    assert packets[-1].roi.xmin < box[0] < box[2] < packets[-1].roi.xmax  # the window has a margin
    assert wait_for(lambda: len(expressions) >= 2, 20)
    for e in expressions:
        assert e.source == 'cs3d_snn' and e.face_id == 'f1' and tuple(e.labels) == EMOTIONS
        assert to_ns(e.header.stamp) in stamps and e.header.frame_id == 'test_camera'
        assert sum(e.probabilities) == pytest.approx(1.0, abs=1e-4) and e.label in EMOTIONS
        assert e.confidence == pytest.approx(max(e.probabilities)) and math.isfinite(e.valence)
    # A result at most every period_s (0.1 s) of packet time, the first after half a window.
    result_stamps = [to_ns(e.header.stamp) for e in expressions]
    assert result_stamps[0] - stamps[0] >= 0.16e9 - FRAME_NS
    assert all(b - a >= 0.1e9 - 1 for a, b in itertools.pairwise(result_stamps))
    assert probe.errors == []


def test_replayed_aedat4_bag_gives_expressions_of_the_event_camera(spinner, tmp_path) -> None:
    from attune.bag.events import aedat4_to_bag
    from attune.msg import Expression
    from attune.ros.player import BagPlayer

    info = aedat4_to_bag(shared_data('events', 'tonic_dvxplorer_face', 'sample.aedat4'), tmp_path / 'bag',
                         topic='/t_aedat/sensor', start_ns=START)
    # A deep input queue: a busy node on a loaded machine must not drop replayed packets.
    spiking_node(spinner, 'spiking_t_aedat', 't_aedat', input_queue_depth=200)
    probe = Probe(spinner, 't_aedat', ('spiking_t_aedat',))
    expressions = probe.collect(Expression, '/t_aedat/expression')
    probe.wait_for_publishers()
    player = BagPlayer(probe.node, info.path, wait_for_subscribers=1, rate=2.0)
    thread = threading.Thread(target=player.play)
    thread.start()
    thread.join(30)
    assert player.published == info.packets == 59
    assert wait_for(lambda: len(expressions) >= 4, 20)
    packet_stamps = {START + (i + 1) * 10_000_000 for i in range(info.packets)}
    assert all(to_ns(e.header.stamp) in packet_stamps for e in expressions)
    assert all(e.face_id == 'event_camera' and e.source == 'cs3d_snn' for e in expressions)
    player.close()


def test_bad_packets_are_reported_once_and_the_node_lives_on(spinner) -> None:
    from attune.msg import EventPacket, Expression

    spiking_node(spinner, 'spiking_t_bad', 't_bad', min_events=10, period_s=0.0)
    probe = Probe(spinner, 't_bad', ('spiking_t_bad',))
    expressions = probe.collect(Expression, '/t_bad/expression')
    probe.wait_for_publishers()
    pub = probe.node.create_publisher(EventPacket, '/t_bad/events', RELIABLE)
    assert wait_for(lambda: pub.get_subscription_count() >= 1, 30)
    probe.wait_for_logs()
    rng = np.random.default_rng(0)

    def packet(ns: int, n: int = 400, width: int = 32, **fields) -> EventPacket:
        t = np.sort(rng.integers(ns - 33_000_000, ns, n))
        msg = EventPacket(header=header(ns), face_id='f9', width=width, height=32, emulated=True)
        msg.x = array.array('H', rng.integers(0, 32, n).astype(np.uint16).tobytes())
        msg.y = array.array('H', rng.integers(0, 32, n).astype(np.uint16).tobytes())
        msg.t = array.array('q', t.astype(np.int64).tobytes())
        msg.polarity = array.array('B', rng.integers(0, 2, n).astype(np.uint8).tobytes())
        for k, v in fields.items():
            setattr(msg, k, v)
        return msg

    ns = START
    for _ in range(6):  # history for a first result
        ns += FRAME_NS
        pub.publish(packet(ns))
    assert wait_for(lambda: len(expressions) >= 1, 30)
    bad = {
        'differ in length': packet(ns + 1, y=array.array('H', [1, 2, 3])),
        'outside': packet(ns + 2, x=array.array('H', [40] * 400)),
        'not sorted': packet(ns + 3, t=array.array('q', list(range(ns + 3, ns + 3 - 400, -1)))),
        'no pixels': packet(ns + 4, width=0),
    }
    for expected, msg in bad.items():
        for _ in range(2):
            pub.publish(msg)
        assert wait_for(lambda e=expected: any(e in line for line in probe.errors), 30), (expected, probe.errors)
        assert sum(expected in line for line in probe.errors) == 1, probe.errors
    empty = packet(ns + 5, n=0)
    pub.publish(empty)  # an empty packet is an observation (nothing changed), not an error
    before = len(expressions)
    pub.publish(packet(ns + 6))
    assert wait_for(lambda: len(expressions) > before, 30)
    assert not any('f9' in line and 'empty' in line for line in probe.errors)


def test_start_up_errors_name_the_file_or_parameter(rclpy_session, tmp_path) -> None:
    from attune.nodes.spiking_fer_node import SpikingFerNode

    with pytest.raises(ModelFileError, match=r'nothing\.onnx'):
        SpikingFerNode(parameter_overrides=[Parameter('model_path', value=str(tmp_path / 'nothing.onnx'))])
    with pytest.raises(ConfigError, match='sensor_roi'):
        SpikingFerNode(parameter_overrides=[Parameter('sensor_roi', value='0.5,0.5,0.2,0.9')])
    result = subprocess.run([sys.executable, '-m', 'attune.nodes.event_emulator_node', '--ros-args', '-p',
                             'window_size:=4'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and 'window_size' in result.stderr


def test_replayed_video_bag_through_face_emulator_and_spiking_nodes(spinner, tmp_path) -> None:
    """The whole optional graph on a replayed camera bag: face_node -> event_emulator_node -> spiking_fer_node."""
    from attune.bag import video_to_bag
    from attune.msg import Expression
    from attune.nodes.event_emulator_node import EventEmulatorNode
    from attune.nodes.face_node import FaceNode
    from attune.ros.player import BagPlayer

    info = video_to_bag(shared_data('video', 'faces', 'd3.mp4'), tmp_path / 'bag', topic='/t_full/image_raw',
                        max_frames=45, resize=(320, 320), start_ns=START, camera_info=False)
    face_params = {'image_topic': '/t_full/image_raw', 'reliable_input': True, 'input_queue_depth': 50,
                   'deterministic_ids': True, 'min_hits': 1, 'camera_info_topic': ''}
    spinner.add(FaceNode(parameter_overrides=[Parameter(k, value=v) for k, v in face_params.items()],
                         cli_args=['--ros-args', '-r', '__node:=face_t_full', '-r', '/attune/faces:=/t_full/faces']))
    emulator_params = {'reliable_input': True, 'input_queue_depth': 50, 'image_topic': '/t_full/image_raw',
                       'faces_topic': '/t_full/faces', 'events_topic': '/t_full/events'}
    spinner.add(EventEmulatorNode(parameter_overrides=[Parameter(k, value=v) for k, v in emulator_params.items()],
                                  cli_args=['--ros-args', '-r', '__node:=emulator_t_full']))
    spiking_node(spinner, 'spiking_t_full', 't_full', input_queue_depth=200)
    probe = Probe(spinner, 't_full', ('face_t_full', 'emulator_t_full', 'spiking_t_full'))
    expressions = probe.collect(Expression, '/t_full/expression')
    probe.wait_for_publishers()
    probe.wait_for_logs()
    player = BagPlayer(probe.node, info.path, wait_for_subscribers=2, rate=0.5)
    thread = threading.Thread(target=player.play)
    thread.start()
    thread.join(60)
    assert player.published == 45
    assert wait_for(lambda: len(expressions) >= 5, 30)
    assert {e.face_id for e in expressions} == {'f1'}
    assert all(to_ns(e.header.stamp) in set(info.stamps_ns) and e.source == 'cs3d_snn' for e in expressions)
    assert probe.errors == []
    player.close()


def emulator_diagnostic(key: str, **parameters: object) -> object:
    """One diagnostic value of an event emulator node built with these parameters (then destroyed)."""
    from attune.nodes.event_emulator_node import EventEmulatorNode

    node = EventEmulatorNode(parameter_overrides=[Parameter(k, value=v) for k, v in parameters.items()])
    try:
        return node.diagnostic_values()[key]
    finally:
        node.destroy_node()


def test_emulator_checks_its_saccades_against_the_spiking_models(rclpy_session) -> None:
    """The shipped model records the 2.5 px saccades it was trained with; 1 px (the old default) is warned about."""
    for amplitude, model, expected in ((2.5, '', 'ok'), (1.0, '', 'mismatch'), (1.0, 'none', 'off')):
        got = emulator_diagnostic('saccade_check', saccade_amplitude_px=amplitude, spiking_model_path=model)
        assert got == expected, (amplitude, model)


def test_emulator_window_follows_the_spiking_models_size_and_margin(rclpy_session, tmp_path) -> None:
    """window_size 0 and window_margin -1 take the model's recorded size and margin (a 48 px model with margin
    0.05 gets such windows); set values are kept (and warned about when they differ); without a model, or
    with one that does not record a margin (the shipped one), 32 px and margin 0.15."""
    import onnx

    from attune.events.fer import default_model_path

    proto = onnx.load(str(default_model_path()))
    for prop in proto.metadata_props:
        if prop.key == 'size':
            prop.value = '48'
    proto.metadata_props.add(key='window_margin', value='0.05')
    model48 = tmp_path / 'cs3d_48.onnx'
    onnx.save_model(proto, str(model48))
    for size, model, expected in ((0, '', 32), (0, str(model48), 48), (40, str(model48), 40), (0, 'none', 32)):
        got = emulator_diagnostic('window_size', window_size=size, spiking_model_path=model)
        assert got == expected, (size, model)
    for margin, model, expected in ((-1.0, '', 0.15), (-1.0, str(model48), 0.05), (0.1, str(model48), 0.1),
                                    (-1.0, 'none', 0.15)):
        got = emulator_diagnostic('window_margin', window_margin=margin, spiking_model_path=model)
        assert got == pytest.approx(expected), (margin, model)
