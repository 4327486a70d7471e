"""`attune up` as a child process (benchmarks, tests): started, then stopped like a Ctrl-C, and never
outlived by a node it started.

The graph runs in its own process group. Stopping sends SIGINT to `attune up` (it stops its nodes in
order, attune.graph.runner.stop_processes) and waits; if it does not exit in time, the whole group is
killed. Either way every process left in the group is killed and reaped at the end: a node orphaned by
a killed `attune up` would keep its DDS participant (and its publishers) in the domain of every later
run on the machine.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

#: Seconds `attune up` gets to stop its graph after SIGINT (its own grace periods are shorter).
STOP_TIMEOUT_S = 30.0


def up_command(args: Sequence[str] = ()) -> list[str]:
    """The command line of `attune up ARGS` with this interpreter."""
    return [sys.executable, '-m', 'attune.cli.main', 'up', *args]


def start_up(args: Sequence[str] = (), *, output: IO | int | None = subprocess.DEVNULL,
             env: Mapping[str, str] | None = None, cwd: Path | str | None = None) -> subprocess.Popen:
    """Start `attune up ARGS` in a process group of its own; its output (stdout and stderr) goes to
    `output` (a file, DEVNULL; never an unread pipe, which blocks every node that logs once full)."""
    return subprocess.Popen(up_command(args), stdout=output, stderr=subprocess.STDOUT,
                            env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)


def stop_up(up: subprocess.Popen, timeout_s: float = STOP_TIMEOUT_S) -> int:
    """SIGINT to `attune up`, wait up to timeout_s, then kill what is left of its process group.
    Returns its exit code (negative: the signal that ended it)."""
    if up.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            up.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            up.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(up.pid, signal.SIGKILL)  # stragglers, or orphans of an `attune up` that was killed
    return up.wait()


@contextlib.contextmanager
def running_up(args: Sequence[str] = (), *, output: IO | int | None = subprocess.DEVNULL,
               env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
               stop_timeout_s: float = STOP_TIMEOUT_S) -> Iterator[subprocess.Popen]:
    """`attune up ARGS` for the duration of a with block (see start_up and stop_up)."""
    up = start_up(args, output=output, env=env, cwd=cwd)
    try:
        yield up
    finally:
        stop_up(up, stop_timeout_s)
