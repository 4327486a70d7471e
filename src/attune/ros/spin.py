"""One turn of an rclpy executor that survives an entity destroyed by another thread meanwhile.

rclpy 9 builds each wait set, in the spinning thread, from lists of the nodes' entities taken at the
start of the turn. When another thread destroys a publisher or subscription in between, the executor
skips the entity's handle but still adds its QoS event handlers to the wait set, which raises
InvalidHandle ("cannot use Destroyable because destruction was requested"; ros2/rclpy#1284). Who does
that here: BagPlayer.close and BagRecorder.close called from the caller's thread while `attune demo`
spins its node in a background thread; the REP-155 bridge withdrawing a face's topics from a callback
on a MultiThreadedExecutor worker (composed mode); the tests' background executor. The exception ends
the spin loop: in CI the tests' executor died so and the nodes on it went silent; the composed graph
would exit with a traceback, and `attune demo` would stop receiving.

Nothing is lost by spinning again: the turn failed before anything was taken or run, and the entity is
already gone from its node's lists, so the next turn builds a valid wait set. Only this race is
absorbed; an InvalidHandle from anywhere else (a callback publishing on a destroyed publisher) is
raised as before.
"""
from __future__ import annotations

import traceback

from rclpy._rclpy_pybind11 import InvalidHandle
from rclpy.executors import Executor

#: The executor method that builds wait sets; callbacks never run inside it (it only yields them).
_WAIT_SET_BUILDER = '_wait_for_ready_callbacks'


def spin_once(executor: Executor, timeout_sec: float) -> bool:
    """executor.spin_once(timeout_sec); False when the turn met the destruction race and did nothing."""
    try:
        executor.spin_once(timeout_sec=timeout_sec)
    except InvalidHandle as exc:
        if not building_wait_set(exc):
            raise
        return False
    return True


def building_wait_set(exc: BaseException) -> bool:
    """The exception was raised while the executor built its wait set (not by a callback)."""
    return any(frame.name == _WAIT_SET_BUILDER for frame in traceback.extract_tb(exc.__traceback__))
