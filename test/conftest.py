"""Shared fixtures. ROS tests use real rclpy and Fast DDS, isolated on a per-run domain id and
restricted to localhost, so parallel CI runs on one host do not see each other."""
from __future__ import annotations

import contextlib
import os
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The shared data sets (read-only, never copied into the repo). CI has them at the same path.
SHARED_DATA = (REPO.parent / 'shared' / 'data').resolve()



def reserve_domain_id() -> str:
    """A ROS domain id no other test session on this host holds: each session keeps an exclusive
    lock on /tmp/attune-test-domain-<id>.lock for its lifetime (released by the OS when it ends).
    Two concurrent sessions on one domain would see each other's nodes on the same topic names
    (/attune/faces, /attune/behavior/command) and count each other's messages."""
    import fcntl
    import tempfile

    candidates = list(range(1, 101))
    random.SystemRandom().shuffle(candidates)
    for domain in candidates:
        lock = open(Path(tempfile.gettempdir()) / f'attune-test-domain-{domain}.lock', 'a')  # noqa: SIM115 - held
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        _DOMAIN_LOCKS.append(lock)  # kept open (and locked) until this process exits
        return str(domain)
    return str(candidates[0])  # 100 sessions at once: share one


_DOMAIN_LOCKS: list = []
# Must be set before rclpy initializes (and inherited by node subprocesses the tests start).
if not os.environ.get('ROS_DOMAIN_ID'):
    os.environ['ROS_DOMAIN_ID'] = reserve_domain_id()
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('RCUTILS_LOGGING_BUFFERED_STREAM', '0')
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402

from attune.ros.dds import use_attune_dds_profile  # noqa: E402
from attune.ros.shm_clean import remove_zombie_segments  # noqa: E402
from attune.ros.spin import spin_once  # noqa: E402

use_attune_dds_profile()
# Segments and port semaphores of node processes an earlier run had to kill (attune.ros.shm_clean).
remove_zombie_segments()
# MediaPipe/TFLite and glog chatter would bury test output.
os.environ.setdefault('GLOG_minloglevel', '2')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# Tests never read or write the developer's people database or key (identity:=auto would otherwise
# start the identity node in graph tests on a machine where someone is enrolled).
_NO_PEOPLE = Path('/nonexistent/attune-tests')
os.environ['ATTUNE_PEOPLE_DB'] = str(_NO_PEOPLE / 'people.db')
os.environ['ATTUNE_PEOPLE_KEY_FILE'] = str(_NO_PEOPLE / 'people.key')
os.environ.pop('ATTUNE_PEOPLE_KEY', None)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data. A missing data set fails the test (CI must never pass by
    skipping); set ATTUNE_ALLOW_MISSING_DATA=1 to skip instead on a machine without the data."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f'shared test data not found: {path} (expected beside the checkout, at ../shared/data)'
        if os.environ.get('ATTUNE_ALLOW_MISSING_DATA') == '1':
            pytest.skip(message)
        pytest.fail(message)
    return path


@pytest.fixture(scope='session')
def rclpy_session() -> Iterator[None]:
    """rclpy initialized once for the whole test session (like rclpy's own tests)."""
    rclpy = pytest.importorskip('rclpy')
    rclpy.init()
    yield
    rclpy.try_shutdown()


class Spinner:
    """Spins an executor in a background thread; add nodes, then wait for conditions."""

    def __init__(self) -> None:
        from rclpy.executors import MultiThreadedExecutor

        self.executor = MultiThreadedExecutor(num_threads=2)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._stop = threading.Event()
        #: What ended the spinning thread early (a callback's exception re-raised by the executor): the nodes
        #: then go silent, and a test's wait would only time out; stop() reports it instead.
        self.died_of: BaseException | None = None

    def _spin(self) -> None:
        try:
            while not self._stop.is_set():
                spin_once(self.executor, 0.05)  # tests destroy entities from their own thread (attune.ros.spin)
        except BaseException as exc:
            self.died_of = exc
            raise

    def add(self, node):
        self.executor.add_node(node)
        return node

    def start(self) -> Spinner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        nodes = list(self.executor.get_nodes())
        # Callbacks already handed to the executor's threads finish first: a node destroyed under a
        # running callback fails in ways no deployment sees (nodes stop spinning before they go).
        self.executor.shutdown(timeout_sec=5)
        for node in nodes:
            node.destroy_node()
        if self.died_of is not None:
            raise AssertionError('the test executor stopped spinning before the test ended') from self.died_of


@pytest.fixture
def spinner(rclpy_session: None) -> Iterator[Spinner]:
    """A background executor; nodes added to it are destroyed after the test."""
    s = Spinner().start()
    yield s
    s.stop()


def ros_params(**values) -> list:
    """Parameter overrides for a node under test: ros_params(name=value, ...)."""
    from rclpy.parameter import Parameter

    return [Parameter(k, value=v) for k, v in values.items()]


def ros_cli(name: str) -> list[str]:
    """cli_args that give a node under test its own name (two tests never share one)."""
    return ['--ros-args', '-r', f'__node:={name}']


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll condition() until it is true or timeout seconds pass; return its last value."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


#: How a test listens to /rosout: like rqt_console, transient local, so it also gets what a node logged
#: before the subscription matched its rosout publisher (rcl keeps the last 1000 lines for 10 s). A
#: volatile subscriber lost a node's error that way once in CI, though the publisher was already counted.
ROSOUT_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def taken_in_tens(node, count: int, messages_per_frame: int = 1) -> Iterator[int]:
    """Frame numbers 0..count-1 for a loop that sends `messages_per_frame` messages per frame to `node`
    (an attune node: it counts what it received); every ten frames, and after the last, wait until the
    node has taken that many since the loop began. Sent as one burst, frames overran a node's keep-last
    input queue under load in CI and the oldest were dropped. The node's other inputs count too, so a
    few frames may still be queued when a wait ends: far from any queue's depth. Each wait is generous
    (30 s; in CI a node once took 26 of 30 in 10 s, cause unknown): a failure says what the node's readers
    still held, i.e. whether the frames were stuck there or never arrived."""
    taken = node.received
    for i in range(count):
        yield i
        if (i + 1) % 10 == 0 or i == count - 1:
            want = taken + messages_per_frame * (i + 1)
            assert wait_for(lambda n=want: node.received >= n, 30), (node.received, want, left_in_readers(node))


def left_in_readers(node) -> dict[str, int]:
    """For the message of a failed wait: the messages each subscription of `node` still holds, taken here.
    A count above 0 after the wait means they arrived and the executor never took them; all 0 means they
    never arrived (or a callback still runs). Destructive: only once the test has failed."""
    left = {}
    for sub in node.subscriptions:
        n = 0
        with contextlib.suppress(Exception):  # a destroyed subscription: nothing to tell
            while n < 1000 and sub.handle.take_message(sub.msg_type, sub.raw) is not None:
                n += 1
        left[sub.topic_name] = n
    return left
