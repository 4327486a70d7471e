"""Address events in numpy: the EventArray record and the checks every input goes through (no rclpy).

An event is (x, y, t, polarity): pixel column and row, time in integer nanoseconds, and 1 for ON
(brightness went up) or 0 for OFF. Events from a sensor, a bag or a message are checked once by
`checked_events`, which drops what cannot be used and says what it dropped, so downstream code
can rely on 0 <= x < width, 0 <= y < height and non-decreasing t.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.events.errors import EventError
from attune.geometry import BoundingBox

#: The whole sensor, as a region.
WHOLE_SENSOR = BoundingBox(0.0, 0.0, 1.0, 1.0)


@dataclass(frozen=True)
class EventArray:
    """Events on a width x height pixel grid, sorted by time.

    Attributes:
        x: (N,) uint16 column, 0 <= x < width.
        y: (N,) uint16 row, 0 <= y < height.
        t: (N,) int64 time in nanoseconds, non-decreasing.
        p: (N,) uint8 polarity, 1 = ON, 0 = OFF.
        width, height: the pixel grid.
    """

    x: npt.NDArray[Any]
    y: npt.NDArray[Any]
    t: npt.NDArray[Any]
    p: npt.NDArray[Any]
    width: int
    height: int

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @staticmethod
    def empty(width: int, height: int) -> EventArray:
        return EventArray(np.zeros(0, np.uint16), np.zeros(0, np.uint16), np.zeros(0, np.int64),
                          np.zeros(0, np.uint8), int(width), int(height))

    @property
    def duration_ns(self) -> int:
        return int(self.t[-1] - self.t[0]) if len(self) else 0

    def between(self, start_ns: int, stop_ns: int) -> EventArray:
        """The events with start_ns <= t < stop_ns (a view, no copy)."""
        lo, hi = np.searchsorted(self.t, [start_ns, stop_ns], side='left')
        return EventArray(self.x[lo:hi], self.y[lo:hi], self.t[lo:hi], self.p[lo:hi], self.width, self.height)

    @staticmethod
    def concatenate(parts: list[EventArray], width: int, height: int) -> EventArray:
        """Events of several arrays on the same grid, merged in time order (stable)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return EventArray.empty(width, height)
        x, y, t, p = (np.concatenate([getattr(a, f) for a in parts]) for f in 'xytp')
        if np.any(np.diff(t) < 0):
            order = np.argsort(t, kind='stable')
            x, y, t, p = x[order], y[order], t[order], p[order]
        return EventArray(x, y, t, p, int(width), int(height))


@dataclass(frozen=True)
class RegionEvents:
    """One attune/EventPacket: the events of one region of a sensor or an emulated camera.

    roi: where the region is in the image (normalized; the whole sensor by default); face_id: the
    face track it follows ('' for a whole-sensor packet); emulated: made from video frames by the
    event emulator, not recorded by an event camera.
    """

    events: EventArray
    roi: BoundingBox = WHOLE_SENSOR
    face_id: str = ''
    emulated: bool = False


@dataclass(frozen=True)
class EventCheck:
    """What `checked_events` dropped or repaired (all zero for clean input)."""

    outside: int = 0      #: events with x >= width or y >= height (or negative), dropped
    resorted: bool = False  #: timestamps were not non-decreasing; the events were sorted by t

    @property
    def clean(self) -> bool:
        return self.outside == 0 and not self.resorted


def checked_events(x: npt.ArrayLike, y: npt.ArrayLike, t: npt.ArrayLike, p: npt.ArrayLike, width: int,
                   height: int) -> tuple[EventArray, EventCheck]:
    """An EventArray from raw arrays (message fields, decoder output), with what was repaired.

    Events outside the grid are dropped and counted; unsorted timestamps are sorted (stable) and
    flagged; any non-zero polarity counts as ON.

    Raises:
        EventError: the four arrays differ in length, or the grid size is not positive.
    """
    width, height = int(width), int(height)
    if width <= 0 or height <= 0:
        raise EventError(f'event grid has no pixels (width={width}, height={height})')
    xs, ys = np.asarray(x), np.asarray(y)
    ts, ps = np.asarray(t, dtype=np.int64), np.asarray(p)
    lengths = {len(xs), len(ys), len(ts), len(ps)}
    if len(lengths) != 1:
        raise EventError(f'event arrays differ in length (x {len(xs)}, y {len(ys)}, t {len(ts)}, '
                         f'polarity {len(ps)})')
    xs64, ys64 = xs.astype(np.int64, copy=False), ys.astype(np.int64, copy=False)
    inside = (xs64 >= 0) & (xs64 < width) & (ys64 >= 0) & (ys64 < height)
    outside = int(inside.size - np.count_nonzero(inside))
    if outside:
        xs64, ys64, ts, ps = xs64[inside], ys64[inside], ts[inside], ps[inside]
    resorted = bool(ts.size > 1 and np.any(ts[1:] < ts[:-1]))
    if resorted:
        order = np.argsort(ts, kind='stable')
        xs64, ys64, ts, ps = xs64[order], ys64[order], ts[order], ps[order]
    events = EventArray(xs64.astype(np.uint16), ys64.astype(np.uint16), np.ascontiguousarray(ts),
                        (ps != 0).astype(np.uint8), width, height)
    return events, EventCheck(outside=outside, resorted=resorted)
