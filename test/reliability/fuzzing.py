"""Fuzzing one attune node through real rclpy: hostile messages (hypothesis, attune's strategies) on
every topic it subscribes to, interleaved with valid traffic whose results are checked.

Used by test/reliability/test_fuzz.py (a short seeded run per node) and bench/fuzz.py (the full
volume). A node runs in-process on its own executor; the probe publishes reliably and waits until the
node has taken each batch, so nothing is lost in queues and every message is accounted for.
Crashes are exceptions that reached the executor or escaped a node's own callback (the shell
reports those as dropped_callback); a message built to be certainly bad (a stamp with 1.5e9
nanoseconds) must be counted in the node's diagnostics.
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from rclpy.qos import QoSProfile, ReliabilityPolicy

from attune.ros.spin import spin_once
from test.reliability.strategies import strategy_for

RELIABLE = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
#: Every VALID_EVERY-th message is valid traffic.
VALID_EVERY = 8
BATCH = 5  # below the depth of every subscription (keep-last queues drop the oldest)
#: Distinct hostile messages generated per node (hostile_pool).
POOL = 400
#: Polls of an idle executor (20 ms each when idle) without a delivery after which a message is undelivered.
IDLE_ROUNDS = 25
#: A node that takes nothing for this long is hung: the run goes on (its inputs count as undelivered).
HUNG_S = 300.0


def rss_mb() -> float:
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


@dataclass
class Target:
    """A node to fuzz. make(): the node (autostarted, reliable inputs); valid(i): (topic, message)
    pairs of one valid input (stamp from i); outputs: (type, topic) collected; check(outputs, n):
    whether n valid inputs got their correct results ('' when they did, else why not)."""

    name: str
    make: Callable[[], Any]
    valid: Callable[[int], list[tuple[str, Any]]]
    outputs: tuple[Any, str] | None = None
    check: Callable[[list[Any], int], str] = lambda outputs, n: ''
    skip_topics: frozenset[str] = frozenset()


@dataclass
class Result:
    messages: int = 0
    crashes: int = 0
    valid_sent: int = 0
    valid_outputs_ok: bool = False
    why_not_ok: str = ''
    certainly_bad: int = 0
    counted_bad: int = 0
    every_bad_counted: bool = False
    rss_mb_before: float = 0.0
    rss_mb_after: float = 0.0
    undelivered: int = 0  # sent but never handed to the node (rclpy could not take them)
    executor_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in self.__dict__.items()
                if k != 'executor_errors'} | {'executor_errors': self.executor_errors[:3]}


class _Spin:
    def __init__(self, *nodes: Any) -> None:
        from rclpy.executors import SingleThreadedExecutor

        self.executor = SingleThreadedExecutor()
        for node in nodes:
            self.executor.add_node(node)
        self.errors: list[str] = []
        self.rounds = 0  # spin_once calls completed: the executor looked for work this often
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                spin_once(self.executor, 0.02)
            except Exception as exc:  # noqa: BLE001 - an exception here is a crash found
                self.errors.append(f'{type(exc).__name__}: {exc}'[:300])
            self.rounds += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.executor.shutdown(timeout_sec=1)


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def hostile_pool(topics: list[tuple[str, type]], size: int, seed_value: int) -> list[tuple[str, Any]]:
    """`size` hostile (topic, message) pairs drawn by hypothesis from the topics' strategies.

    Hypothesis draws about a millisecond per field here, so a run of 10,000 messages cycles through a
    pool (in an order of its own, with absurd stamps injected), rather than drawing each anew."""
    pool: list[tuple[str, Any]] = []
    choice = st.sampled_from(topics).flatmap(lambda t: st.tuples(st.just(t[0]), strategy_for(t[1])))

    def collect(pair: tuple[str, Any]) -> None:
        pool.append(pair)

    runs = settings(max_examples=size, deadline=None, database=None, phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck))
    for attempt in range(5):  # hypothesis stops early when it runs out of new examples
        seed(seed_value + attempt)(runs(given(choice)(collect)))()
        if len(pool) >= size:
            break
    return pool[:size]


def _settle(received: Callable[[], int], sent: int, rounds: Callable[[], int], quiet_s: float = 1.0) -> None:
    """Wait until the node has taken everything sent, or took nothing more while its executor was
    idle: at least quiet_s and IDLE_ROUNDS polls for work without a message for the node (a message
    that rclpy cannot deserialize never reaches the node: counted as undelivered).

    A node busy in one callback (a MediaPipe frame that takes seconds on a loaded machine) does not
    poll, so it is waited for. Giving up on time alone sent more while it was busy, and its
    keep-last input queue dropped the oldest valid inputs: the baselines, whose inputs are all
    valid and costly, failed that way while the fuzzed runs passed."""
    last, since, since_round = received(), time.monotonic(), rounds()
    while received() < sent:
        idle = time.monotonic() - since >= quiet_s and rounds() - since_round >= IDLE_ROUNDS
        if idle or time.monotonic() - since > HUNG_S:
            return
        time.sleep(0.005)
        if received() != last:
            last, since, since_round = received(), time.monotonic(), rounds()


def fuzz_node(target: Target, messages: int, seed_value: int = 0, hostile: bool = True) -> Result:
    """Send `messages` messages (hostile and valid) to a fresh node; the result of the run.
    hostile=False: the baseline, the same valid traffic alone."""
    import rclpy

    node = target.make()
    probe = rclpy.create_node(f'fuzz_probe_{target.name}')
    outputs: list[Any] = []
    if target.outputs is not None:
        probe.create_subscription(target.outputs[0], target.outputs[1], outputs.append, RELIABLE)
    spin = _Spin(node, probe)
    result = Result()
    try:
        assert _wait(lambda: any(k == 'subscription' for k, _ in node.tracked()), 60), f'{target.name} did not start'
        subscriptions = {s.topic_name: s for s in node.subscriptions
                         if s.topic_name not in target.skip_topics and not s.topic_name.startswith('/parameter')
                         and s.topic_name != '/rosout'}
        topics = sorted(((name, s.msg_type) for name, s in subscriptions.items()), key=lambda t: t[0])
        pubs = {name: probe.create_publisher(s.msg_type, name, QoSProfile(
                    depth=1000, reliability=ReliabilityPolicy.RELIABLE, durability=s.qos_profile.durability))
                for name, s in subscriptions.items()}
        assert _wait(lambda: all(p.get_subscription_count() >= 1 for p in pubs.values()), 20), 'not matched'
        result.rss_mb_before = rss_mb()
        sent = [0]
        pool: list[tuple[str, Any, Any]] = []
        start_received = node.received

        def send(topic: str, msg: Any) -> None:
            pubs[topic].publish(msg)
            sent[0] += 1
            if sent[0] % BATCH == 0:
                _settle(lambda: node.received - start_received, sent[0], lambda: spin.rounds)

        valid_sent = [0]
        rng = np.random.default_rng(seed_value)
        for topic, msg in hostile_pool(topics, min(messages, POOL), seed_value) if hostile else []:
            pool.append((topic, msg, copy.copy(msg.header.stamp) if hasattr(msg, 'header') else None))
        for i in range(messages):
            if not hostile:
                if i % VALID_EVERY == 0:
                    for valid_topic, valid_msg in target.valid(valid_sent[0]):
                        send(valid_topic, valid_msg)
                    valid_sent[0] += 1
                continue
            topic, msg, stamp = pool[int(rng.integers(len(pool)))]
            if i % VALID_EVERY == 0:
                for valid_topic, valid_msg in target.valid(valid_sent[0]):
                    send(valid_topic, valid_msg)
                valid_sent[0] += 1
            if stamp is not None:
                if rng.random() < 0.25:  # certainly bad: must show up in the diagnostics
                    msg.header.stamp.sec, msg.header.stamp.nanosec = 1, 1_500_000_000
                    result.certainly_bad += 1
                else:
                    msg.header.stamp = stamp
            send(topic, msg)
        _settle(lambda: node.received - start_received, sent[0], lambda: spin.rounds, 3.0)
        result.undelivered = sent[0] - (node.received - start_received)
        result.messages, result.valid_sent = sent[0], valid_sent[0]
        _wait(lambda: not target.check(outputs, valid_sent[0]), 30)
        why = target.check(outputs, valid_sent[0])
        result.why_not_ok = why
        result.valid_outputs_ok = not why
        counts = node.bad_input.counts
        result.counted_bad = node.bad_input.total
        result.every_bad_counted = counts.get('absurd_stamp', 0) >= result.certainly_bad
        result.crashes = counts.get('callback', 0) + len(spin.errors)
        result.executor_errors = spin.errors
        node.diagnostics() if node.DIAGNOSTICS is not None else None  # builds with whatever was counted
        result.rss_mb_after = rss_mb()
    finally:
        spin.stop()
        node.destroy_node()
        probe.destroy_node()
    return result
