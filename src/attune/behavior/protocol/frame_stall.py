"""Deciding running name calls when frames stop coming, on the frames' own clock (no rclpy).

The protocol's clock is the image stamps. When the camera or the face node goes away, calls must
still end; but the node clock is not the image clock (a replayed bag keeps its recorded stamps), so
a stall is measured in elapsed wall time and the frame clock is extrapolated by it: the last frame
stamp (or, before any frame, the call's stimulus) plus the wall time since. Comparing the node clock
with image stamps instead decided calls before their first frame whenever the stamps were older than
the time-out (a bag written a few seconds before it is played).

Silence counts only while the node was running: each check adds the wall time since the one before, at
most `max_check_gap_s`. Why: when the process was paused (CPU starvation on a busy machine, a long
garbage collection, swap, a debugger) the executor runs the overdue timer before the frames that queued
meanwhile (rclpy looks at timers before subscriptions), and a pause longer than the time-out read as the
camera having stopped: running calls were decided (no_face, face_lost) on the extrapolated clock while
their frames waited in the queue.
"""
from __future__ import annotations

from attune.behavior.protocol.name_call_types import ns
from attune.errors import ConfigError


class FrameStall:
    """Tracks the frame clock against wall time. Not thread-safe.

    Call `frame()` for every frame, `call()` when a call starts, and `due()` on a timer (a period well
    under `max_check_gap_s`): it returns the frame-clock time to advance running calls to once nothing
    happened for `timeout_s` of wall time in which the node ran.
    """

    def __init__(self, timeout_s: float = 2.0, max_check_gap_s: float = 0.5) -> None:
        if timeout_s <= 0:
            raise ConfigError(f'frame time-out must be > 0 s, got {timeout_s}')
        if max_check_gap_s <= 0:
            raise ConfigError(f'the longest gap between checks must be > 0 s, got {max_check_gap_s}')
        self.timeout_s = timeout_s
        self.max_check_gap_s = max_check_gap_s
        self._stamp_ns: int | None = None
        self._wall_s = 0.0
        self._silent_s = 0.0  # wall time without frames in which the node ran, summed over checks
        self._checked_s = 0.0

    def frame(self, stamp_ns: int, wall_s: float) -> None:
        """A frame stamped stamp_ns arrived at wall time wall_s."""
        self._stamp_ns, self._wall_s = stamp_ns, wall_s
        self._silent_s, self._checked_s = 0.0, wall_s

    def call(self, stimulus_ns: int, wall_s: float) -> None:
        """A call started: the time-out restarts (its frames may still be on their way)."""
        self._stamp_ns = stimulus_ns if self._stamp_ns is None else self.extrapolate(wall_s)
        self._wall_s = wall_s
        self._silent_s, self._checked_s = 0.0, wall_s

    def extrapolate(self, wall_s: float) -> int:
        """The frame clock now: the anchor stamp plus the wall time since it."""
        if self._stamp_ns is None:
            raise ValueError('no frame and no call yet')
        return self._stamp_ns + ns(max(0.0, wall_s - self._wall_s))

    def due(self, wall_s: float) -> int | None:
        """The frame-clock time to advance to when stalled for timeout_s, else None. A check later than
        max_check_gap_s after the one before counts that much: the rest was a pause of the process."""
        if self._stamp_ns is None:
            return None
        self._silent_s += min(max(0.0, wall_s - self._checked_s), self.max_check_gap_s)
        self._checked_s = wall_s
        if self._silent_s <= self.timeout_s:
            return None
        return self.extrapolate(wall_s)
