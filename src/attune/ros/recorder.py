"""BagRecorder: record topics from a running ROS graph into a rosbag2 (version 9, MCAP) bag.

Why not `ros2 bag record`: it is not installable from PyPI. This recorder subscribes with
`raw=True` (messages arrive as the CDR bytes DDS carried and are written as they are, nothing is
decoded) and writes with rosbags, storing the full definition of every type, attune's own
included, so `ros2 bag`, rosbags and Foxglove can decode the bag without attune installed.

QoS trade-off: the subscriptions are best effort, because a best-effort subscription matches
both reliable and best-effort publishers (a reliable one would not connect to a camera driver
publishing sensor data). The cost: from a reliable publisher, a sample lost on the wire is not
resent. On one host (shared memory or loopback) that is rare; across a lossy network, large
messages (images) can go missing. Pass reliable=True when every publisher is reliable and the
recording must be lossless. The history is deep (depth=1000 by default) so that a recorder
falling behind briefly queues messages instead of overwriting them; worst case it holds depth
messages per topic in memory.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription
from rosbags.interfaces import Connection
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys.store import Typestore

from attune.bag.typestore import attune_typestore
from attune.bag.writer import BAG_VERSION, prepare_output
from attune.errors import BagError
from attune.ros.player import message_class


def recording_qos(depth: int = 1000, *, reliable: bool = False) -> QoSProfile:
    """The subscriptions' QoS: best effort (or reliable), volatile, keep-last `depth`."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
                      durability=DurabilityPolicy.VOLATILE)


class BagRecorder:
    """Records topics through a node's subscriptions into a new bag.

    The node belongs to the caller, who must spin it (add it to an executor): messages are
    written from the subscription callbacks. Bag timestamps are receive times on the node's
    clock (sim time under use_sim_time). Callbacks may run on several executor threads; writes
    are serialized. stop()/close() may be called from any thread; a thread spinning the node meanwhile
    must spin with attune.ros.spin.spin_once (rclpy's own raises when a subscription is destroyed while
    it builds its wait set).

    Example:
        with BagRecorder(node, 'out', ['/attune/faces']) as recorder:  # start(): discover, open
            ...                                                          # spin the node meanwhile
        # closed: metadata.yaml written

    Args:
        node: the node to subscribe with.
        out: the bag directory to create.
        topics: topic names, whose types are discovered from the ROS graph, or a mapping
            {topic: type} ('sensor_msgs/msg/Image') that skips discovery.
        discovery_timeout_s: how long start() waits for every topic to appear in the graph; None:
            until they do (or start()'s cancel is set).
        depth: history depth of each subscription.
        reliable: subscribe reliably instead of best effort (see the module docstring).
        overwrite: replace an existing bag at `out`.
        typestore: the store providing the message definitions written into the bag
            (default: attune_typestore()).
    """

    def __init__(self, node: Node, out: Path | str, topics: Iterable[str] | Mapping[str, str], *,
                 discovery_timeout_s: float | None = 10.0, depth: int = 1000, reliable: bool = False,
                 overwrite: bool = False, typestore: Typestore | None = None) -> None:
        if depth < 1:
            raise BagError(f'subscription depth must be positive, got {depth}')
        self.node = node
        self.out = Path(out)
        if isinstance(topics, Mapping):
            self._requested: dict[str, str | None] = {self._resolve(t): ty for t, ty in topics.items()}
        else:
            self._requested = {self._resolve(t): None for t in topics}
        if not self._requested:
            raise BagError(f'no topics to record into {self.out}')
        self.discovery_timeout_s = discovery_timeout_s
        self.qos = recording_qos(depth, reliable=reliable)
        self._overwrite = overwrite
        self._store = typestore or attune_typestore()
        self._lock = threading.Lock()
        self._writer: Writer | None = None
        self._subscriptions: list[Subscription[Any]] = []   # Any: whatever types the topics carry
        self._connections: dict[str, Connection] = {}
        self._counts: dict[str, int] = {}
        self._started = False
        self._closed = False

    def _resolve(self, topic: str) -> str:
        resolve = getattr(self.node, 'resolve_topic_name', None)
        try:
            return resolve(topic) if resolve else (topic if topic.startswith('/') else f'/{topic}')
        except Exception as exc:  # noqa: BLE001 - rclpy raises its own invalid-name errors
            raise BagError(f'{topic!r} is not a valid topic name: {exc}') from None

    # --- state -----------------------------------------------------------------------------------
    @property
    def topics(self) -> dict[str, str]:
        """{topic: type} being recorded (after start())."""
        return {t: c.msgtype for t, c in self._connections.items()}

    @property
    def counts(self) -> dict[str, int]:
        """Messages written per topic so far."""
        with self._lock:
            return dict(self._counts)

    @property
    def message_count(self) -> int:
        """Messages written on all topics so far."""
        with self._lock:
            return sum(self._counts.values())

    @property
    def recording(self) -> bool:
        return self._started and not self._closed

    # --- start -----------------------------------------------------------------------------------
    def discover_types(self, cancel: threading.Event | None = None) -> dict[str, str]:
        """{topic: type} for the requested topics, polling the ROS graph until all appear.

        Args:
            cancel: when set (by another thread or a signal), stop waiting.

        Raises:
            BagError: a topic did not appear within discovery_timeout_s, it has several types, or
                cancel was set.
        """
        types = {t: ty for t, ty in self._requested.items() if ty}
        timeout = self.discovery_timeout_s
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            graph = dict(self.node.get_topic_names_and_types())
            for topic in self._requested:
                if topic in types or topic not in graph:
                    continue
                found = graph[topic]
                if len(found) != 1:
                    raise BagError(f'topic {topic} has several types in the ROS graph ({", ".join(found)}); '
                                   'give its type explicitly')
                types[topic] = found[0]
            missing = [t for t in self._requested if t not in types]
            if not missing:
                return {t: types[t] for t in self._requested}
            if deadline is not None and time.monotonic() >= deadline:
                raise BagError(f'recording {self.out}: topic(s) {", ".join(missing)} did not appear in the '
                               f'ROS graph within {self.discovery_timeout_s:g} s (is the publisher running, '
                               'on the same ROS_DOMAIN_ID?)')
            if cancel is None:
                time.sleep(0.05)
            elif cancel.wait(0.05):
                raise BagError(f'recording {self.out} cancelled while waiting for {", ".join(missing)}')

    def start(self, cancel: threading.Event | None = None) -> BagRecorder:
        """Discover the topics' types, create the bag and subscribe. Returns self.

        Args:
            cancel: stops the wait for topics when set (see discover_types).

        Raises:
            BagError: the output exists (without overwrite), a topic did not appear, a type is not
                importable or its definition is unknown, the bag cannot be created, or cancel was set.
        """
        if self._started:
            return self
        types = self.discover_types(cancel)
        for topic, msgtype in types.items():
            if msgtype not in self._store.fielddefs:
                raise BagError(f'cannot record {topic}: the definition of {msgtype} is not known to '
                               'attune\'s typestore, so it could not be stored in the bag')
        classes = {topic: message_class(msgtype, topic) for topic, msgtype in types.items()}
        prepare_output(self.out, overwrite=self._overwrite)
        writer = Writer(self.out, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP)
        try:
            writer.open()
            for topic, msgtype in types.items():
                self._connections[topic] = writer.add_connection(topic, msgtype, typestore=self._store)
                self._counts[topic] = 0
        except WriterError as exc:
            writer.abort()
            raise BagError(f'cannot create bag {self.out}: {exc}') from None
        with self._lock:
            self._writer = writer
            self._started = True
        for topic, cls in classes.items():
            self._subscriptions.append(self.node.create_subscription(
                cls, topic, partial(self._on_message, topic), self.qos, raw=True))
        return self

    def _on_message(self, topic: str, data: bytes) -> None:
        stamp = self.node.get_clock().now().nanoseconds
        with self._lock:
            if self._writer is None:
                return  # closing: late message
            self._writer.write(self._connections[topic], stamp, data)
            self._counts[topic] += 1

    # --- stop ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Unsubscribe and finish the bag (metadata.yaml, MCAP index). Idempotent, any thread.

        Raises:
            BagError: the bag could not be finished.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for sub in subscriptions:
            self.node.destroy_subscription(sub)
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except (WriterError, OSError) as exc:
                raise BagError(f'cannot finish bag {self.out}: {exc}') from None

    stop = close

    def __enter__(self) -> BagRecorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
