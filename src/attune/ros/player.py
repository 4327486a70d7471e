"""BagPlayer: publish a bag's messages on their topics through rclpy, with the bag's timing.

Why not `ros2 bag play`: it is not installable from PyPI (no rosbag2_py, no ros2cli), and tests
and `attune replay` need a player they can start, pause, wait on and stop from Python. Messages
are published as the raw CDR bytes stored in the bag (rclpy's Publisher.publish(bytes)), so
nothing is deserialized or re-encoded and subscribers receive exactly what was recorded.

Timing: message i is published at t0 + (timestamp_i - timestamp_0) / rate on the monotonic
clock, where t0 is when playback (or the current loop) starts; pauses shift t0. A late message
is published at once, so a slow consumer never makes the player skip anything.
"""
from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from attune.bag.reader import bag_topics, read_messages
from attune.errors import BagError

if TYPE_CHECKING:
    from rosgraph_msgs.msg import Clock

CLOCK_TOPIC = '/clock'


def message_class(msgtype: str, topic: str = '') -> type:
    """The rclpy message class of a ROS type name: 'sensor_msgs/msg/Image' -> sensor_msgs.msg.Image.

    Also accepts the short form 'sensor_msgs/Image'.

    Raises:
        BagError: the name is malformed, or its Python module is not importable (the message
            package is not installed or not built); the message names the topic when given.
    """
    parts = msgtype.split('/')
    if len(parts) == 2:
        parts = [parts[0], 'msg', parts[1]]
    where = f' (topic {topic})' if topic else ''
    if len(parts) != 3 or not all(parts):
        raise BagError(f'{msgtype!r}{where} is not a ROS message type name (package/msg/Name)')
    package, kind, name = parts
    try:
        module = importlib.import_module(f'{package}.{kind}')
        cls: type = getattr(module, name)
        return cls
    except (ImportError, AttributeError) as exc:
        raise BagError(f'cannot publish or subscribe {msgtype}{where}: its Python module is not importable '
                       f'({exc}); install or build the {package} message package') from None


def playback_qos(depth: int = 100) -> QoSProfile:
    """Reliable, volatile, keep-last `depth`: what the player publishes with.

    Reliable so that a reliable subscriber (a node processing a bag losslessly) gets every
    message; deep enough that no message is overwritten before a subscriber at the bag's own
    rate (rate 1) has acknowledged it, even when it briefly stalls.
    """
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth,
                      reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)


class BagPlayer:
    """Plays a bag through a node's publishers.

    The node belongs to the caller; the player only adds publishers to it (removed by close()).
    The node need not be spun to publish.

    Example:
        with BagPlayer(node, 'run1', rate=0.5, wait_for_subscribers=1) as player:
            published = player.play()   # blocks; player.stop() from another thread ends it

    Args:
        node: the node to publish from.
        bag: the bag directory (or .mcap file).
        rate: playback speed factor (2.0 = twice as fast), > 0.
        loop: start again after the last message, until stop().
        topics: only play these topics (default: all).
        clock: also publish rosgraph_msgs/Clock on /clock with the bag time (for nodes with
            use_sim_time), every 1/clock_hz seconds of wall time and before each message.
        clock_hz: rate of /clock messages while waiting between messages.
        start_paused: play() waits for resume() before the first message.
        delay_s: play() sleeps this long before the first message (lets subscribers connect).
        wait_for_subscribers: play() first waits until every played topic has at least this
            many matched subscriptions.
        subscriber_timeout_s: how long to wait for them.
        qos_depth: history depth of the publishers (see playback_qos).

    Raises:
        BagError: bad arguments, an unreadable bag, a requested topic not in it, or a type whose
            Python module is not importable.
    """

    def __init__(self, node: Node, bag: Path | str, *, rate: float = 1.0, loop: bool = False,
                 topics: Iterable[str] | None = None, clock: bool = False, clock_hz: float = 40.0,
                 start_paused: bool = False, delay_s: float = 0.0, wait_for_subscribers: int = 0,
                 subscriber_timeout_s: float = 10.0, qos_depth: int = 100) -> None:
        if not rate > 0 or rate == float('inf'):
            raise BagError(f'playback rate must be a positive number, got {rate!r}')
        if clock and not clock_hz > 0:
            raise BagError(f'clock_hz must be positive, got {clock_hz!r}')
        if delay_s < 0 or wait_for_subscribers < 0 or subscriber_timeout_s < 0 or qos_depth < 1:
            raise BagError('delay_s, wait_for_subscribers and subscriber_timeout_s must not be negative, '
                           f'qos_depth must be positive (got {delay_s}, {wait_for_subscribers}, '
                           f'{subscriber_timeout_s}, {qos_depth})')
        self.node = node
        self.bag = Path(bag)
        self.rate = float(rate)
        self.loop = loop
        self.clock_period_s = 1.0 / clock_hz
        self.delay_s = delay_s
        self.wait_for_subscribers = wait_for_subscribers
        self.subscriber_timeout_s = subscriber_timeout_s
        available = bag_topics(self.bag)
        if topics is None:
            selected = list(available)
        else:
            selected = list(dict.fromkeys(topics))
            missing = [t for t in selected if t not in available]
            if missing:
                raise BagError(f'topic(s) {", ".join(missing)} not in bag {self.bag} '
                               f'(it has: {", ".join(available) or "no topics"})')
        self.topics: dict[str, str] = {t: available[t][0] for t in selected}
        classes = {t: message_class(msgtype, t) for t, msgtype in self.topics.items()}
        qos = playback_qos(qos_depth)
        self._publishers: dict[str, Publisher[Any]] = {   # Any: whatever types the bag holds
            t: node.create_publisher(cls, t, qos) for t, cls in classes.items()}
        self._clock_pub: Publisher[Clock] | None = None
        self._clock_msg: Any = None
        if clock:
            from rosgraph_msgs.msg import Clock

            self._clock_msg = Clock
            self._clock_pub = node.create_publisher(
                Clock, CLOCK_TOPIC, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
        self._stop = threading.Event()
        self._running = threading.Event()  # set while not paused
        if not start_paused:
            self._running.set()
        self._lock = threading.Lock()
        self._published = 0
        self._bag_time_ns: int | None = None
        self._last_clock_ns: int | None = None

    # --- control (thread-safe) -------------------------------------------------------------------
    def stop(self) -> None:
        """End play() soon (within a few milliseconds), from any thread or a signal handler."""
        self._stop.set()
        self._running.set()  # wake a paused play()

    def pause(self) -> None:
        """Hold playback before the next message; resume() continues with the same timing."""
        self._running.clear()

    def resume(self) -> None:
        """Continue after pause() or start_paused."""
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def published(self) -> int:
        """Messages published so far (all loops)."""
        with self._lock:
            return self._published

    @property
    def bag_time_ns(self) -> int | None:
        """Bag timestamp of the last message published (the player's current bag time)."""
        return self._bag_time_ns

    def subscription_counts(self) -> dict[str, int]:
        """Matched subscriptions per played topic."""
        return {t: p.get_subscription_count() for t, p in self._publishers.items()}

    def wait_for_acknowledgements(self, timeout_s: float) -> bool:
        """Block until every reliable subscriber has acknowledged every message published so far;
        True when they all have, False after timeout_s or stop(). Best-effort subscribers never
        acknowledge and are not waited for.

        Why: publishing returns as soon as a message is queued. A player that goes (its process
        exits, its publishers are destroyed) right after the last publish takes the messages not
        yet delivered with it; waiting here delivers them.
        """
        from rclpy.duration import Duration

        deadline = time.monotonic() + max(0.0, timeout_s)
        waiting = list(self._publishers.values())
        while waiting:
            slice_s = min(0.1, max(0.0, deadline - time.monotonic()))
            waiting = [p for p in waiting if not p.wait_for_all_acked(Duration(nanoseconds=int(slice_s * 1e9)))]
            if waiting and (self._stop.is_set() or time.monotonic() >= deadline):
                return False
        return True

    # --- playback --------------------------------------------------------------------------------
    def play(self) -> int:
        """Publish the bag (once, or until stop() with loop); return the number of messages published.

        After stop() (also one that came before play() started), play() returns at once: a
        stopped player does not start again.

        Raises:
            BagError: subscribers did not appear within subscriber_timeout_s, or the bag cannot be
                read.
        """
        self._await_subscribers()
        if self.delay_s and self._sleep(self.delay_s):
            return self.published
        if not self._wait_running():
            return self.published
        while not self._stop.is_set():
            self._play_once()
            if not self.loop:
                break
        return self.published

    def _await_subscribers(self) -> None:
        if not self.wait_for_subscribers:
            return
        deadline = time.monotonic() + self.subscriber_timeout_s
        while not self._stop.is_set():
            counts = self.subscription_counts()
            short = {t: n for t, n in counts.items() if n < self.wait_for_subscribers}
            if not short:
                return
            if time.monotonic() >= deadline:
                raise BagError(
                    f'playing {self.bag}: after {self.subscriber_timeout_s:g} s, fewer than '
                    f'{self.wait_for_subscribers} subscriber(s) on '
                    + ', '.join(f'{t} ({n})' for t, n in short.items()))
            self._stop.wait(0.02)

    def _play_once(self) -> None:
        first_ns: int | None = None
        start = 0.0
        with closing(read_messages(self.bag, self.topics)) as messages:
            for message in messages:
                if first_ns is None:
                    first_ns, start = message.timestamp_ns, time.monotonic()
                due = start + (message.timestamp_ns - first_ns) * 1e-9 / self.rate
                start += self._wait_until(due, first_ns, start)
                if self._stop.is_set():
                    return
                if self._clock_pub is not None:
                    self._publish_clock(message.timestamp_ns)
                self._publishers[message.topic].publish(message.data)
                self._bag_time_ns = message.timestamp_ns
                with self._lock:
                    self._published += 1

    def _wait_until(self, due: float, first_ns: int, start: float) -> float:
        """Sleep until `due` (monotonic), publishing /clock meanwhile; return the time spent paused."""
        paused_s = 0.0
        while not self._stop.is_set():
            if not self._running.is_set():
                began = time.monotonic()
                if not self._wait_running():
                    break
                shift = time.monotonic() - began
                paused_s += shift
                due += shift
                continue
            now = time.monotonic()
            if now >= due:
                break
            step = due - now
            if self._clock_pub is not None:
                step = min(step, self.clock_period_s)
                self._publish_clock(first_ns + round((now - start - paused_s) * self.rate * 1e9))
            self._stop.wait(step)
        return paused_s

    def _wait_running(self) -> bool:
        """Block while paused (publishing /clock); False when stopped meanwhile."""
        while not self._running.wait(self.clock_period_s if self._clock_pub is not None else 0.1):
            if self._clock_pub is not None and self._bag_time_ns is not None:
                self._publish_clock(self._bag_time_ns)
        return not self._stop.is_set()

    def _sleep(self, seconds: float) -> bool:
        """Sleep (interruptible); True when stopped meanwhile."""
        return self._stop.wait(seconds)

    def _publish_clock(self, bag_ns: int) -> None:
        assert self._clock_pub is not None
        if bag_ns == self._last_clock_ns:
            return  # messages sharing a stamp (an image and its CameraInfo) need one tick
        self._last_clock_ns = bag_ns
        sec, nanosec = divmod(int(bag_ns), 1_000_000_000)
        msg = self._clock_msg()
        msg.clock.sec, msg.clock.nanosec = sec, nanosec
        self._clock_pub.publish(msg)

    # --- lifetime --------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop and remove the publishers from the node (idempotent). A thread spinning the node meanwhile
        must spin with attune.ros.spin.spin_once (rclpy's own raises when a publisher is destroyed while
        it builds its wait set)."""
        self.stop()
        for pub in [*self._publishers.values(), self._clock_pub]:
            if pub is not None:
                self.node.destroy_publisher(pub)
        self._publishers.clear()
        self._clock_pub = None

    def __enter__(self) -> BagPlayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
