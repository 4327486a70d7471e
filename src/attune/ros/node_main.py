"""The shared main() of attune's nodes: init, build, spin, clean shutdown, clear start-up errors.

Works on rclpy from Jazzy on (no reliance on Kilted's `with rclpy.init()` context manager).
"""
from __future__ import annotations

import sys
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from attune.errors import AttuneError
from attune.ros.dds import use_attune_dds_profile


def run_node(factory: Callable[[], Node], args: list[str] | None = None) -> int:
    """Create the node from `factory` and spin it until shutdown (SIGINT/SIGTERM).

    Returns the process exit code: 0 after a clean shutdown, 1 when the node could not start
    (a wrong parameter, a missing model file), with the reason printed as one line on stderr.
    """
    use_attune_dds_profile()
    rclpy.init(args=args if args is not None else sys.argv)
    node = None
    try:
        try:
            node = factory()
        except AttuneError as exc:
            print(f'ERROR: {exc}', file=sys.stderr)
            return 1
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
