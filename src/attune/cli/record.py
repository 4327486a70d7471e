"""`attune record OUT --topics T [T ...]`: record topics into a rosbag2 (MCAP) bag.

Like `ros2 bag record` (which is not available from PyPI). Types are discovered from the ROS
graph. Stops on Ctrl-C (SIGINT), SIGTERM or after --duration, and always finishes the bag
(metadata.yaml, MCAP index) so it can be read. Messages that had already arrived when it stopped
are written first.
"""
from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from attune.cli.replay import stop_on_signals
from attune.errors import BagError

if TYPE_CHECKING:
    from rclpy.clock import Clock
    from rclpy.executors import Executor

    from attune.ros.recorder import BagRecorder

#: Rounds of the executor without a message written that end write_what_arrived.
_IDLE_ROUNDS = 3


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('record', help='record topics into a bag (like ros2 bag record)',
                              description=__doc__)
    p.add_argument('out', type=Path, help='the bag directory to create')
    p.add_argument('--topics', nargs='+', required=True, metavar='TOPIC', help='topics to record')
    p.add_argument('--duration', type=float, default=None, metavar='S',
                   help='stop after S seconds (of /clock time with --use-sim-time)')
    p.add_argument('--use-sim-time', action='store_true',
                   help='stamp messages and count --duration in the time of /clock (a replayed bag\'s), '
                        'from the first /clock message on')
    p.add_argument('--discovery-timeout', type=float, default=10.0, metavar='S',
                   help='seconds to wait for the topics to appear; 0: until they do, or Ctrl-C '
                        '(default: %(default)s)')
    p.add_argument('--reliable', action='store_true',
                   help='subscribe reliably (lossless, but only matches reliable publishers)')
    p.add_argument('--overwrite', action='store_true', help='replace OUT if it is an existing bag')
    p.set_defaults(handler=record)


def record(ns: argparse.Namespace) -> int:
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    from attune.ros.recorder import BagRecorder

    if ns.duration is not None and not ns.duration > 0:
        raise BagError(f'--duration must be positive, got {ns.duration}')
    if ns.discovery_timeout < 0:
        raise BagError(f'--discovery-timeout must not be negative, got {ns.discovery_timeout}')
    stop = threading.Event()
    # Our handlers before anything of ROS starts: a Ctrl-C while rclpy and DDS start up then stops the
    # recording like any other (in CI a SIGINT sent that early was lost, and the recorder ran on).
    with stop_on_signals(stop.set):
        context = Context()
        rclpy.init(context=context)
        try:
            node = Node('attune_record', context=context,
                        parameter_overrides=[Parameter('use_sim_time', value=bool(ns.use_sim_time))])
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(node)
            try:
                recorder = BagRecorder(node, ns.out, ns.topics, discovery_timeout_s=ns.discovery_timeout or None,
                                       reliable=ns.reliable, overwrite=ns.overwrite)
                with recorder.start(cancel=stop):
                    print(f'recording {", ".join(recorder.topics)} into {ns.out}', flush=True)
                    elapsed = Elapsed(node.get_clock())
                    while not stop.is_set() and not (ns.duration and elapsed.seconds() >= ns.duration):
                        executor.spin_once(timeout_sec=0.05)
                    write_what_arrived(executor, recorder)
                counts = ', '.join(f'{t}: {n}' for t, n in recorder.counts.items())
                print(f'wrote {ns.out}: {recorder.message_count} messages ({counts})', flush=True)
            finally:
                executor.shutdown()
                node.destroy_node()
        finally:
            rclpy.try_shutdown(context=context)
    return 0


class Elapsed:
    """Seconds on a node's clock since it first read a time: wall time, or under use_sim_time the
    time of /clock from the first message (the clock reads 0 until one arrives)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.start_ns: int | None = None

    def seconds(self) -> float:
        now = self.clock.now().nanoseconds
        if self.start_ns is None:
            if now == 0:
                return 0.0
            self.start_ns = now
        return (now - self.start_ns) * 1e-9


def write_what_arrived(executor: Executor, recorder: BagRecorder) -> None:
    """Take the messages already received but not yet handed to the recorder (stopping ends the
    loop above between two messages, not when the queues are empty). Bounded: at most a full
    subscription queue per topic, so a publisher that never pauses cannot hold the stop up."""
    idle = 0
    for _ in range(recorder.qos.depth * len(recorder.topics) + _IDLE_ROUNDS):
        written = recorder.message_count
        executor.spin_once(timeout_sec=0.0)
        idle = idle + 1 if recorder.message_count == written else 0
        if idle >= _IDLE_ROUNDS:  # nothing written for a few rounds (another callback may take one)
            return
