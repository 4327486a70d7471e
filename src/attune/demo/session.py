"""One demo run: start the real node graph, feed it a recording (or a camera), record its output.

The nodes run as their own processes, exactly as `attune up` starts them; this process only plays
the role of the camera (a bag player or a live camera publisher) and of the observer (a recorder).
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attune.bag import bag_topics, frames_to_bag
from attune.errors import AttuneError, BagError
from attune.graph import GraphArgs, NodeSpec, node_graph
from attune.graph.runner import NodeProcess, start_processes, stop_processes

FACES = '/attune/faces'
EXPRESSION = '/attune/expression'
#: What the demo records of the graph's output (in one bag).
RECORDED = {FACES: 'attune/msg/Faces', EXPRESSION: 'attune/msg/Expression'}
IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')
#: The demo processes every frame (reliable input with a deep queue, in the face and the expression
#: node) and numbers faces f1, f2, ... so that two runs on the same input give the same output.
DEMO_OVERRIDES = {'face_node': (('deterministic_ids', True), ('reliable_input', True),
                                ('input_queue_depth', 100)),
                  'expression_node': (('reliable_input', True), ('input_queue_depth', 100))}


@dataclass(frozen=True)
class DemoInput:
    bag: Path
    image_topic: str
    fps: float


def default_input(out: Path, log: Callable[[str], None]) -> DemoInput:
    """The built-in clip (attune.demo.default_input) written as a camera bag."""
    from attune.demo.default_input import animated_clip

    fps = 15.0
    log('building the default input: matplotlib\'s grace_hopper.jpg animated with head motion')
    info = frames_to_bag(animated_clip(seconds=6.0, fps=fps), out, fps=fps, overwrite=True)
    return DemoInput(info.path, info.image_topic, fps)


def bag_input(bag: Path, topic: str | None) -> DemoInput:
    """A user's bag: its image topic (given, or the only Image/CompressedImage topic in it)."""
    topics = bag_topics(bag)
    if topic is None:
        images = [t for t, (kind, _) in topics.items() if kind in IMAGE_TYPES]
        if len(images) != 1:
            raise BagError(f'{bag} has {len(images)} image topics ({", ".join(images) or "none"}); '
                           'choose one with --topic')
        topic = images[0]
    if topic not in topics or topics[topic][0] not in IMAGE_TYPES:
        raise BagError(f'{bag} has no Image or CompressedImage topic {topic}')
    from attune.bag import bag_report

    rate = next((t.rate_hz for t in bag_report(bag).topics if t.topic == topic), None)
    return DemoInput(Path(bag), topic, rate or 15.0)


def demo_graph(image_topic: str, transport: str) -> list[NodeSpec]:
    specs = node_graph(GraphArgs(camera_topic=image_topic, image_transport=transport))
    return [dataclasses.replace(s, parameters=s.parameters + DEMO_OVERRIDES.get(s.name, ())) for s in specs]


class GraphSession:
    """The node graph in subprocesses plus an rclpy node of our own, spun in a thread."""

    def __init__(self, specs: list[NodeSpec], log_file: Path, log: Callable[[str], None]) -> None:
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor

        self.log = log
        self.log_path = log_file
        self._log_file = log_file.open('w')
        self.processes: list[NodeProcess] = start_processes(specs, output=self._log_file)
        self.context = Context()
        rclpy.init(context=self.context)  # own context: Ctrl-C stays ours (KeyboardInterrupt)
        self.node = rclpy.create_node('attune_demo', context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        from attune.ros.spin import spin_once

        while not self._stop.is_set():
            spin_once(self._executor, 0.05)  # BagPlayer/BagRecorder.close() from the caller's thread (attune.ros.spin)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until every node is up (its output topic exists); raise with its log if one died."""
        deadline = time.monotonic() + timeout
        while self.node.count_publishers(FACES) == 0:
            dead = [p for p in self.processes if p.popen.poll() is not None]
            if dead or time.monotonic() > deadline:
                what = f'node {dead[0].spec.name} exited' if dead else f'no {FACES} after {timeout:g} s'
                raise AttuneError(f'{what}; its log ({self.log_path}) ends with:\n{self.log_tail()}')
            time.sleep(0.1)

    def log_tail(self, lines: int = 15) -> str:
        self._log_file.flush()
        text = self.log_path.read_text(errors='replace').splitlines()
        useful = [line for line in text if not line.startswith(('W0000', 'I0000', 'INFO: Created'))]
        return '\n'.join(useful[-lines:])

    def close(self) -> None:
        import rclpy

        stop_processes(self.processes)
        self._stop.set()
        self._thread.join(timeout=5)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._log_file.close()


def wait_until_quiet(count: Callable[[], int], target: int, timeout: float, quiet_s: float = 3.0) -> int:
    """Wait until count() reaches target, or stops growing for quiet_s, or timeout passes."""
    deadline = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline and last < target:
        time.sleep(0.1)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last


def run_on_bag(source: DemoInput, out: Path, rate: float, log: Callable[[str], None]) -> tuple[Path, int]:
    """Replay `source` through the graph; returns (bag of the recorded Faces and Expressions, images played)."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from attune.ros.player import BagPlayer
    from attune.ros.recorder import BagRecorder

    kind = bag_topics(source.bag)[source.image_topic][0]
    transport = 'compressed' if kind.endswith('CompressedImage') else 'raw'
    images = bag_topics(source.bag)[source.image_topic][1]
    session = GraphSession(demo_graph(source.image_topic, transport), out / 'nodes.log', log)
    try:
        log(f"starting the graph: {', '.join(p.spec.name for p in session.processes)} (one process each)")
        session.wait_ready()
        from attune.msg import Faces

        seen = Counter[str]()  # Faces messages and the faces in them: the Expressions to wait for (one per face)

        def count_faces(msg: Faces) -> None:
            seen.update(messages=1, faces=len(msg.faces))

        session.node.create_subscription(Faces, FACES, count_faces,
                                         QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        recorder = BagRecorder(session.node, out / 'faces', RECORDED, overwrite=True, reliable=True).start()
        info_topic = source.image_topic.rsplit('/', 1)[0] + '/camera_info'
        topics = [t for t in (source.image_topic, info_topic) if t in bag_topics(source.bag)]
        log(f'replaying {images} images from {source.bag} on {source.image_topic} at rate {rate:g}')
        with BagPlayer(session.node, source.bag, rate=rate, topics=topics, wait_for_subscribers=1,
                       subscriber_timeout_s=60) as player:
            player.play()
        got = wait_until_quiet(lambda: recorder.counts.get(FACES, 0), images, timeout=120)
        wait_until_quiet(lambda: seen['messages'], got, timeout=10)
        # The expression node answers each face of each Faces after it (it may not run: then none come).
        said = wait_until_quiet(lambda: recorder.counts.get(EXPRESSION, 0), seen['faces'], timeout=60, quiet_s=5.0)
        recorder.close()
        log(f'received {got} Faces messages for {images} images, and {said} Expressions')
        return out / 'faces', images
    finally:
        session.close()


def run_on_camera(index: int, out: Path, duration: float, log: Callable[[str], None]) -> tuple[DemoInput, Path, int]:
    """Live: publish a local camera into the graph, print results as they come, record everything."""
    import cv2
    from builtin_interfaces.msg import Time
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from attune.msg import Expression, Faces
    from attune.ros.images import image_msg
    from attune.ros.recorder import BagRecorder
    from attune.ros.stamps import from_ns

    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise AttuneError(f'camera {index} cannot be opened (is it connected, and free?)')
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    topic = '/camera/image_raw'
    session = GraphSession(demo_graph(topic, 'raw'), out / 'nodes.log', log)
    printed = {'t': 0.0}
    latest: dict[str, str] = {}   # face id -> its latest expression, as printed

    def on_expression(msg: Expression) -> None:
        latest[msg.face_id] = f"{msg.label} {msg.confidence:.2f}{' calibrated' if msg.calibrated else ''}"

    def on_faces(msg: Faces) -> None:
        now = time.monotonic()
        if now - printed['t'] >= 1.0:
            printed['t'] = now
            parts = [(f'{f.id} yaw {f.yaw:+.0f} pitch {f.pitch:+.0f} roll {f.roll:+.0f}'
                      if math.isfinite(f.yaw) else f'{f.id} (no pose)')
                     + (f', {latest[f.id]}' if f.id in latest else '') for f in msg.faces]
            log('faces: ' + ('; '.join(parts) if parts else 'none'))

    sent = 0
    try:
        session.wait_ready()
        session.node.create_subscription(Expression, EXPRESSION, on_expression, 10)
        session.node.create_subscription(Faces, FACES, on_faces, 10)
        publisher = session.node.create_publisher(
            Image, topic, QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        recorder = BagRecorder(session.node, out / 'camera',
                               {topic: 'sensor_msgs/msg/Image', **RECORDED},
                               overwrite=True, reliable=True).start()
        log(f'camera {index} at {fps:g} fps; Ctrl-C to stop' + (f' (or after {duration:g} s)' if duration else ''))
        start = time.monotonic()
        try:
            while not duration or time.monotonic() - start < duration:
                ok, bgr = capture.read()
                if not ok:
                    raise AttuneError(f'camera {index} stopped delivering frames')
                stamp = session.node.get_clock().now().nanoseconds
                publisher.publish(image_msg(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 'rgb8',
                                            Header(stamp=from_ns(stamp, Time), frame_id='camera')))
                sent += 1
        except KeyboardInterrupt:
            log('stopping')
        wait_until_quiet(lambda: recorder.counts.get(FACES, 0), sent, timeout=20)
        recorder.close()
    finally:
        capture.release()
        session.close()
    return DemoInput(out / 'camera', topic, fps), out / 'camera', sent
