"""The shared main() of attune's nodes: init, build, spin, clean shutdown, clear start-up errors.

Shutdown is ours, not rclpy's: rclpy's signal handlers shut the context down under a running
callback and chain to Python's handler, which raises KeyboardInterrupt in the main thread; a second
SIGINT a few milliseconds later (terminal Ctrl-C to the group, then `ros2 launch`'s own) lands
inside the teardown and prints a traceback. Here rclpy installs no handlers; the executor spins in a
worker thread, the main thread waits on attune.stop_signals (first SIGINT/SIGTERM asks to stop,
repeats are ignored), then stops the executor (the callback in progress finishes), destroys the node
and shuts rclpy down, in that order.

Once stopped and released, a node process ends at once (end_process): the rclpy context is
destroyed, so the DDS participant leaves and its shared-memory segments go, and then the process
exits without the interpreter's finalization. That finalization (garbage collection of MediaPipe,
TFLite and onnxruntime object graphs, then the C++ static destructors of Fast DDS and the other
native libraries, with their threads still running) took most of an event_emulator_node's exit:
10.2-10.8 s when 14 stopped together on a busy 2-core machine, 2.3-2.7 s ending this way, and a
face_node was still in its finalizing garbage collection 45 s after SIGINT. Nothing of the node is
left to it: the node is destroyed, rclpy shut down (its log files flushed), session logs closed by
the node's release(). The middleware's part of this (rclpy's shutdown, the context's destruction) runs
under a deadline (attune.ros.teardown_deadline): Fast DDS can deadlock while a participant is destroyed,
and then the process dumps its stacks and exits with status 1 instead of hanging.

Works on rclpy from Jazzy on (no reliance on Kilted's `with rclpy.init()` context manager).
"""
from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

import rclpy
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from attune.errors import AttuneError
from attune.ros.dds import use_attune_dds_profile
from attune.ros.teardown_deadline import STDERR_FD, exit_if_stuck
from attune.stop_signals import StopSignals, ignore_stop_signals, install_stop_signals

#: Seconds the executor gets to finish the callback in progress at shutdown (then the process exits anyway).
_EXECUTOR_STOP_S = 10.0
#: Longest wait of the executor for work before the worker looks whether it was asked to stop.
_STOP_POLL_S = 0.1
#: Logged (INFO) once the node is built and about to spin: launch users and tests see it is up.
READY_MESSAGE = 'running; stop with SIGINT (Ctrl-C) or SIGTERM'


def run_node(factory: Callable[[], Node], args: list[str] | None = None, *, end_process: bool = True) -> int:
    """Create the node from `factory` and spin it until SIGINT/SIGTERM (or an external shutdown).

    The exit code is 0 after a clean shutdown, 1 when the node could not start (a wrong parameter,
    a missing model file), with the reason printed as one line on stderr, or when the middleware's
    teardown hung past its deadline (every thread's stack on stderr, after `Timeout`). end_process: the process
    then ends with it at once (see the module docstring); false: returned, for a caller that has
    more to close (`attune view`). An exception raised by a callback still ends the process with
    its traceback (a bug to see).
    """
    code = _run(factory, args)
    if end_process:
        end_node_process(code)
    return code


def end_node_process(code: int) -> NoReturn:
    """Exit now, without the interpreter's finalization; everything of the node(s) is released already
    (rclpy shut down). Also the end of a grouped process (attune.graph.group)."""
    with exit_if_stuck():  # a middleware deadlock must not keep a stopped node alive (teardown_deadline)
        gc.collect()  # the executor, node and entity objects drop their hold on the context
        rclpy.get_default_context().destroy()  # the DDS participant leaves, its shared memory is unlinked
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken pipe: nothing left to tell
            stream.flush()
    os._exit(code)


def _run(factory: Callable[[], Node], args: list[str] | None) -> int:
    # A crash in native code (DDS, MediaPipe, onnxruntime) then leaves every thread's Python stack on
    # stderr, i.e. in the launch log: a node that vanishes with SIGSEGV otherwise leaves nothing.
    faulthandler.enable(file=STDERR_FD)
    stop = install_stop_signals()
    # A factory that does not say (not a NodeShell) may send anything: the large segment.
    use_attune_dds_profile(large_messages=getattr(factory, 'SENDS_LARGE_MESSAGES', True))
    rclpy.init(args=args if args is not None else sys.argv, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        try:
            node = factory()
        except AttuneError as exc:
            print(f'ERROR: {exc}', file=sys.stderr)
            return 1
        if stop.is_set():  # asked to stop while the node was being built
            return 0
        failure = _spin_until_stopped(node, stop)
    finally:
        if node is not None:
            node.destroy_node()
        with exit_if_stuck():
            rclpy.try_shutdown()
        ignore_stop_signals()  # stopped: from here the process only exits
    if failure is not None:
        raise failure
    return 0


def node_executor() -> Executor:
    """The executor a node process spins: rclpy's EventsExecutor where this rclpy has it (Kilted on),
    else the SingleThreadedExecutor.

    Why: the SingleThreadedExecutor rebuilds, in Python, a wait set of every subscription, timer,
    service and event handler of the node on each spin (a lifecycle node carries 11 services), then
    searches it for what is ready; the EventsExecutor (C++) is told by the middleware what is ready and
    runs it from a queue. Same callbacks, same order per entity, one thread. docs/architecture.md has
    the measured cost per node.
    """
    try:
        from rclpy.experimental.events_executor import EventsExecutor
    except ImportError:  # rclpy before Kilted
        return SingleThreadedExecutor()
    return EventsExecutor()


def _spin_until_stopped(node: Node, stop: StopSignals) -> BaseException | None:
    """Spin `node` in a worker thread until `stop` is set; returns what a callback raised, if anything.

    The worker leaves its loop by itself (it waits at most _STOP_POLL_S for work, then looks at
    `stop`), and only then is the executor shut down: Executor.shutdown() from another thread while
    spin() runs destroys the executor's guard condition under a callback that is about to trigger it
    (rclpy InvalidHandle, seen in tests). No call crosses threads while the worker spins: the
    EventsExecutor takes no node guard condition ("Guard conditions not supported"), and its wake()
    from another thread during spin_once() hung a test process.
    """
    executor = node_executor()
    executor.add_node(node)
    failure: list[BaseException] = []

    def spin() -> None:
        try:
            while not stop.is_set():
                executor.spin_once(timeout_sec=_STOP_POLL_S)
        except ExternalShutdownException:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which re-raises it
            failure.append(exc)
        finally:
            stop.set()  # wake the main thread when spinning ended on its own

    spinner = threading.Thread(target=spin, name=f'{node.get_name()}-executor', daemon=True)
    spinner.start()
    node.get_logger().info(READY_MESSAGE)
    while not stop.wait():
        pass
    spinner.join(timeout=_EXECUTOR_STOP_S)  # the callback in progress finishes, then the worker sees `stop`
    executor.shutdown(timeout_sec=_EXECUTOR_STOP_S)
    return failure[0] if failure else None
