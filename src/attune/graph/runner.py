"""Starting the node graph without the launch package: one process per node, or all in one.

`attune up` uses this on pip installs, where `ros2 launch` does not exist. Both modes start exactly
the NodeSpecs of attune.graph.node_graph(). docs/architecture.md records the measured trade-off
that made one process per node the default.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from attune.graph.spec import NodeSpec
from attune.stop_signals import StopRequest

_STOP_GRACE_S = 10.0
_TERM_GRACE_S = 10.0


@dataclass
class NodeProcess:
    spec: NodeSpec
    popen: subprocess.Popen[bytes]

    @property
    def command(self) -> list[str]:
        args = self.popen.args  # start_processes passes a list; Popen also takes one program name
        return [str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)]


def node_command(spec: NodeSpec, python: str = sys.executable) -> list[str]:
    """The command line that runs one node (`python -m attune.nodes.<executable> --ros-args ...`)."""
    return [python, '-m', spec.module, *spec.ros_arguments()]


def start_processes(specs: Sequence[NodeSpec], env: dict[str, str] | None = None,
                    output: IO[Any] | None = None) -> list[NodeProcess]:
    """Start one process per node; their output goes to `output` (default: this process's)."""
    return [NodeProcess(spec, subprocess.Popen(node_command(spec), env=env or os.environ.copy(),
                                               stdout=output, stderr=subprocess.STDOUT if output else None))
            for spec in specs]


def stop_processes(processes: Sequence[NodeProcess], grace_s: float = _STOP_GRACE_S) -> None:
    """SIGINT every running node (a clean rclpy shutdown), then SIGTERM, then SIGKILL the stragglers.

    A node that stopped ignores both signals while its interpreter exits (attune.stop_signals), which
    takes seconds on a busy machine; SIGKILL comes only after grace_s + _TERM_GRACE_S.
    """
    for sig, wait in ((signal.SIGINT, grace_s), (signal.SIGTERM, _TERM_GRACE_S), (signal.SIGKILL, 3.0)):
        alive = [p for p in processes if p.popen.poll() is None]
        if not alive:
            return
        for p in alive:
            p.popen.send_signal(sig)
        deadline = time.monotonic() + wait
        for p in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))


def supervise(processes: Sequence[NodeProcess], stop: StopRequest,
              log: Callable[[str], None] = print) -> int:
    """Wait until `stop` is set or a node exits; then stop all. Returns 0, or 1 if a node failed
    (also when a node did not stop cleanly: an exit code other than 0 after SIGINT)."""
    failed = False
    while not stop.is_set():
        for p in processes:
            code = p.popen.poll()
            if code is not None:
                if code != 0:
                    log(f'ERROR: node {p.spec.name} exited with code {code}; stopping the graph')
                    failed = True
                else:
                    log(f'node {p.spec.name} exited; stopping the graph')
                stop.set()
                break
        stop.wait(0.2)
    running = [p for p in processes if p.popen.poll() is None]
    stop_processes(processes)
    for p in running:
        if p.popen.returncode != 0:
            log(f'ERROR: node {p.spec.name} did not stop cleanly (exit code {p.popen.returncode})')
            failed = True
    return 1 if failed else 0


def run_composed(specs: Sequence[NodeSpec], stop: StopRequest, log: Callable[[str], None] = print, *,
                 one_thread: bool = False) -> int:
    """Run every node in this process on one executor (rclpy). Returns the exit code.

    one_thread: the nodes' executor of a node process (attune.ros.node_main.node_executor), for nodes
    that only fuse or act on small messages (grouped mode): they share one interpreter lock anyway, and
    a MultiThreadedExecutor's threads and wait sets cost them more CPU than their own work. Otherwise a
    MultiThreadedExecutor, so that one node's MediaPipe or onnxruntime call (which releases the lock)
    does not hold up the others' callbacks."""
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    from attune.errors import AttuneError
    from attune.ros.spin import spin_once
    from attune.ros.teardown_deadline import exit_if_stuck

    # rclpy's own signal handlers stay off: the caller's handlers set `stop`, so a Ctrl-C during
    # start-up ends the loop below instead of shutting the context down under a half-built node.
    rclpy.init(args=[], signal_handler_options=SignalHandlerOptions.NO)
    nodes = []
    try:
        for spec in specs:
            if stop.is_set():
                return 0
            node_class = importlib.import_module(spec.module).NODE_CLASS
            try:
                nodes.append(node_class(cli_args=spec.ros_arguments()))
            except AttuneError as exc:
                log(f'ERROR: node {spec.name}: {exc}')
                return 1
        if one_thread:
            from attune.ros.node_main import node_executor

            executor = node_executor()
        else:
            executor = MultiThreadedExecutor(num_threads=max(2, len(nodes)))
        for node in nodes:
            executor.add_node(node)
        while not stop.is_set() and rclpy.ok():
            spin_once(executor, 0.1)  # survives a node's publisher destroyed on another worker (attune.ros.spin)
        return 0
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        for node in nodes:
            node.destroy_node()
        with exit_if_stuck():  # a middleware deadlock must not keep stopped nodes alive (teardown_deadline)
            rclpy.try_shutdown()
