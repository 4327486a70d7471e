"""`attune record OUT --topics T [T ...]`: record topics into a rosbag2 (MCAP) bag.

Like `ros2 bag record` (which is not available from PyPI). Types are discovered from the ROS
graph. Stops on Ctrl-C (SIGINT), SIGTERM or after --duration, and always finishes the bag
(metadata.yaml, MCAP index) so it can be read.
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from attune.cli.replay import stop_on_signals
from attune.errors import BagError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('record', help='record topics into a bag (like ros2 bag record)',
                              description=__doc__)
    p.add_argument('out', type=Path, help='the bag directory to create')
    p.add_argument('--topics', nargs='+', required=True, metavar='TOPIC', help='topics to record')
    p.add_argument('--duration', type=float, default=None, metavar='S', help='stop after S seconds')
    p.add_argument('--discovery-timeout', type=float, default=10.0, metavar='S',
                   help='seconds to wait for the topics to appear (default: %(default)s)')
    p.add_argument('--reliable', action='store_true',
                   help='subscribe reliably (lossless, but only matches reliable publishers)')
    p.add_argument('--overwrite', action='store_true', help='replace OUT if it is an existing bag')
    p.set_defaults(handler=record)


def record(ns: argparse.Namespace) -> int:
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from attune.ros.recorder import BagRecorder

    if ns.duration is not None and not ns.duration > 0:
        raise BagError(f'--duration must be positive, got {ns.duration}')
    stop = threading.Event()
    context = Context()
    rclpy.init(context=context)
    try:
        node = Node('attune_record', context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        try:
            with stop_on_signals(stop.set):
                recorder = BagRecorder(node, ns.out, ns.topics, discovery_timeout_s=ns.discovery_timeout,
                                       reliable=ns.reliable, overwrite=ns.overwrite)
                with recorder.start(cancel=stop):
                    print(f'recording {", ".join(recorder.topics)} into {ns.out}', flush=True)
                    deadline = time.monotonic() + ns.duration if ns.duration else None
                    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                        executor.spin_once(timeout_sec=0.05)
            counts = ', '.join(f'{t}: {n}' for t, n in recorder.counts.items())
            print(f'wrote {ns.out}: {recorder.message_count} messages ({counts})', flush=True)
        finally:
            executor.shutdown()
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
    return 0
