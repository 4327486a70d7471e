"""Sliding windows of events, one per face track (no rclpy).

Packets arrive per face (emulated) or per sensor read-out (real camera); a track's window holds
the events of its last `duration_ns` nanoseconds, ending at the newest packet's stamp. Tracks that
send nothing for `timeout_ns` are forgotten, so memory stays bounded when faces come and go.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from attune.events.errors import EventError
from attune.events.types import EventArray


@dataclass
class SlidingWindow:
    """The events of one track in [end_ns - duration_ns, end_ns).

    Attributes:
        duration_ns: window length.
        start_ns: stamp of the first packet added (how much history the track has).
        end_ns: stamp of the newest packet.
    """

    duration_ns: int
    width: int = 0
    height: int = 0
    start_ns: int | None = None
    end_ns: int | None = None
    _chunks: deque[EventArray] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if self.duration_ns <= 0:
            raise EventError(f'window duration must be positive, got {self.duration_ns} ns')

    def add(self, events: EventArray, stamp_ns: int) -> None:
        """Add a packet ending at stamp_ns (its events are kept if they fall into the window).

        A packet on another grid size than the previous ones restarts the window. A stamp older
        than the newest one is allowed (its events join the window) but does not move its end.

        Raises:
            EventError: the packet's grid has no pixels.
        """
        if events.width <= 0 or events.height <= 0:
            raise EventError(f'packet grid has no pixels ({events.width}x{events.height})')
        if (events.width, events.height) != (self.width, self.height):
            self._chunks.clear()
            self.width, self.height = events.width, events.height
            self.start_ns = None
            self.end_ns = None
        stamp_ns = int(stamp_ns)
        if self.start_ns is None:
            self.start_ns = min(stamp_ns, int(events.t[0])) if len(events) else stamp_ns
        self.end_ns = stamp_ns if self.end_ns is None else max(self.end_ns, stamp_ns)
        if len(events):
            self._chunks.append(events)
        horizon = self.end_ns - self.duration_ns
        while self._chunks and int(self._chunks[0].t[-1]) < horizon:
            self._chunks.popleft()

    @property
    def history_ns(self) -> int:
        """How much time the window has seen (0 before the first packet)."""
        return 0 if self.end_ns is None or self.start_ns is None else self.end_ns - self.start_ns

    def events(self) -> EventArray:
        """The window's events, in time order."""
        if self.end_ns is None:
            return EventArray.empty(max(self.width, 1), max(self.height, 1))
        merged = EventArray.concatenate(list(self._chunks), self.width, self.height)
        return merged.between(self.end_ns - self.duration_ns, self.end_ns + 1)


@dataclass
class TrackWindows:
    """A SlidingWindow per track id, forgetting tracks idle for more than timeout_ns."""

    duration_ns: int
    timeout_ns: int
    windows: dict[str, SlidingWindow] = field(default_factory=dict)

    def add(self, track: str, events: EventArray, stamp_ns: int) -> SlidingWindow:
        window = self.windows.get(track)
        if window is None:
            window = self.windows[track] = SlidingWindow(self.duration_ns)
        window.add(events, stamp_ns)
        self.expire(stamp_ns)
        return window

    def expire(self, now_ns: int) -> list[str]:
        """Forget tracks whose newest packet is older than now_ns - timeout_ns; return their ids."""
        gone = [k for k, w in self.windows.items() if w.end_ns is not None and w.end_ns < now_ns - self.timeout_ns]
        for k in gone:
            del self.windows[k]
        return gone
