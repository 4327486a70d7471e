"""Event windows as tensors for the models: time-binned, polarity-split occupancy frames (numpy).

frames[p, b, r, c] = 1 when at least one event of polarity p (0 = OFF, 1 = ON) fell into time bin b
at model pixel (r, c), else 0. Binary frames are spikes: the spiking model's first layer adds its
weights where an input is 1, so its synaptic operations are events x fan-out, as on a neuromorphic
chip. (Counts would let bright, busy scenes dominate; occupancy keeps emulated and real sensors
closer.) Events are mapped from the packet's grid (any size) to the model's by scaling.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.events.errors import EventError
from attune.events.types import EventArray


def event_frames(events: EventArray, bins: int, height: int, width: int, start_ns: int, stop_ns: int,
                 box: tuple[int, int, int, int] | None = None) -> npt.NDArray[Any]:
    """(2, bins, height, width) float32 occupancy frames of the events with start_ns <= t < stop_ns.

    Args:
        events: events on their own grid (events.width x events.height).
        bins: number of equal time bins between start_ns and stop_ns.
        height, width: the output grid; event coordinates are scaled onto it.
        box: optional (x0, y0, x1, y1) pixel box of the events' grid to use (x1, y1 exclusive);
            events outside it are ignored and the box is scaled onto the output grid.

    Raises:
        EventError: bins or the output size is not positive, stop_ns <= start_ns, or an empty box.
    """
    if bins <= 0 or height <= 0 or width <= 0:
        raise EventError(f'frames need positive bins and size, got bins={bins}, {width}x{height}')
    if stop_ns <= start_ns:
        raise EventError(f'window stop {stop_ns} ns is not after its start {start_ns} ns')
    out = np.zeros((2, bins, height, width), np.float32)
    window = events.between(start_ns, stop_ns)
    if not len(window):
        return out
    x0, y0, x1, y1 = box if box is not None else (0, 0, events.width, events.height)
    if x1 <= x0 or y1 <= y0:
        raise EventError(f'empty crop box {box}')
    x = window.x.astype(np.int64)
    y = window.y.astype(np.int64)
    keep = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    x, y = x[keep] - x0, y[keep] - y0
    t, p = window.t[keep], window.p[keep].astype(np.int64)
    col = x * width // (x1 - x0)
    row = y * height // (y1 - y0)
    b = np.minimum((t - start_ns) * bins // (stop_ns - start_ns), bins - 1)
    out[p, b, row, col] = 1.0
    return out
