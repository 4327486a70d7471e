"""SIGINT and SIGTERM as one stop request: the first asks to stop, repeats are ignored.

A terminal Ctrl-C reaches every process of the foreground group, and `ros2 launch` (or `attune up`)
then sends its own SIGINT, so a node gets two within milliseconds. Python's default handler raises
KeyboardInterrupt at whatever line runs, also inside the teardown that the first one started, which
prints a traceback and ends the process with -2. Here the Python handler only sets a flag, and the
news travels through signal.set_wakeup_fd (written by the interpreter's C-level handler, so
async-signal-safe): waiting is a select() on a pipe, no polling, and nothing takes a lock inside a
handler (threading.Event.set there can deadlock against an Event.wait in the main thread).

ROS-free: `attune up` and the node main loop both use it.
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
from typing import Protocol

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(Protocol):
    """What the graph runner needs of a stop flag: threading.Event and StopSignals both fit."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class StopSignals:
    """Turns SIGINT/SIGTERM into a stop request for the rest of the process's life.

    Has the part of threading.Event's interface that the graph runner uses (is_set, wait, set), so
    code written against an Event takes it unchanged. set() may be called from any thread (a spin
    thread that ended on its own wakes the main thread with it).

    Install once per process, from the main thread (Python only lets the main thread set handlers).
    The handlers stay installed on purpose: a second signal that arrives while the process exits
    must not find Python's default handler back in place.
    """

    def __init__(self) -> None:
        self._requested = False
        self.signal_name = ''
        self._read_fd, self._write_fd = os.pipe()
        for fd in (self._read_fd, self._write_fd):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        # Runs in the main thread between two bytecodes: set plain attributes only.
        if not self._requested:
            self.signal_name = signal.Signals(signum).name
        self._requested = True

    def is_set(self) -> bool:
        """True once a stop was requested (a signal, or set())."""
        return self._requested

    def set(self) -> None:
        """Request a stop from code (any thread)."""
        self._requested = True
        with contextlib.suppress(BlockingIOError):  # a full pipe holds wake-ups already
            os.write(self._write_fd, b'\0')

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop is requested or `timeout` seconds pass; returns is_set().

        select() is restarted after each signal handler (PEP 475), and the byte the C-level handler
        wrote to the wake-up pipe makes it return at once.
        """
        if self._requested:
            return True
        readable, _, _ = select.select([self._read_fd], [], [], timeout)
        if readable:
            with contextlib.suppress(BlockingIOError):
                os.read(self._read_fd, 4096)
        return self._requested


def ignore_stop_signals() -> None:
    """Ignore SIGINT/SIGTERM from now on: call it when the process has stopped and only exits.

    At exit Python puts the default disposition back for signals it had handlers for (not for ignored
    ones), and the interpreter's finalization (MediaPipe, TFLite, onnxruntime threads) takes seconds on
    a busy machine. A launch system's escalation (SIGTERM after its grace period) or a late Ctrl-C would
    then kill a process that already stopped cleanly, with exit code -15 or -2.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


_INSTALLED: StopSignals | None = None


def install_stop_signals() -> StopSignals:
    """The process's StopSignals, installed on first use (main thread only)."""
    global _INSTALLED
    if _INSTALLED is None:
        _INSTALLED = StopSignals()
    return _INSTALLED
