"""Where the face is in a whole-sensor event window, for event cameras without a face detector.

Heuristic (one person, head and shoulders in view, as a robot's event camera sees its partner):
the head is the top of the moving silhouette. Noise is removed by keeping only events in grid cells
with substantial activity; the top of the head is a low percentile of their rows; the head's width
is the spread of columns in a band below it; the face window is a square of that width. It fails
when several people, or moving background above the head, are in view: then give the node a fixed
box (parameter sensor_roi) or feed it face-window packets from another source.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.events.types import EventArray

CELL = 8  #: grid cell in pixels for the activity map


def activity_face_box(events: EventArray, min_events: int = 200, band: float = 0.35,
                      widen: float = 1.15) -> tuple[int, int, int, int] | None:
    """A square (x0, y0, x1, y1) pixel box (x1, y1 exclusive) around the head, or None when there
    are fewer than min_events events in active cells.

    Args:
        events: a window of whole-sensor events.
        min_events: fewest events (after denoising) to place a box.
        band: height of the band below the top of the head, as a fraction of the sensor height,
            in which the head's width is measured.
        widen: the square's side relative to the measured width.
    """
    if len(events) < min_events:
        return None
    w, h = events.width, events.height
    gx, gy = (w + CELL - 1) // CELL, (h + CELL - 1) // CELL
    cx = events.x.astype(np.int64) // CELL
    cy = events.y.astype(np.int64) // CELL
    counts = np.bincount(cy * gx + cx, minlength=gx * gy)
    nonzero = counts[counts > 0]
    active = counts >= max(3.0, 0.15 * float(np.percentile(nonzero, 99)))
    keep = active[cy * gx + cx]
    if np.count_nonzero(keep) < min_events:
        return None
    xs, ys = events.x[keep].astype(np.float64), events.y[keep].astype(np.float64)
    top = float(np.percentile(ys, 1))
    in_band = ys <= top + band * h
    if np.count_nonzero(in_band) < min_events // 4:
        return None
    lo, hi = np.percentile(xs[in_band], [5, 95])
    side = max((hi - lo) * widen, 16.0)
    side = min(side, float(min(w, h)))
    center_x = 0.5 * (lo + hi)
    x0 = int(round(min(max(center_x - side / 2, 0), w - side)))
    y0 = int(round(min(max(top - 0.05 * side, 0), h - side)))
    return x0, y0, x0 + int(round(side)), y0 + int(round(side))


def sensor_face_window(events: EventArray, stop_ns: int, window_ns: int, bins: int, size: int,
                       box: tuple[int, int, int, int] | None = None, min_events: int = 200
                       ) -> tuple[npt.NDArray[Any], tuple[int, int, int, int]] | None:
    """(2, bins, size, size) frames of the face in a whole-sensor window ending at stop_ns, and the
    pixel box used (`box` when given, else activity_face_box); None when no face box is found."""
    from attune.events.representation import event_frames

    start = stop_ns - window_ns
    window = events.between(start, stop_ns + 1)
    if box is None:
        box = activity_face_box(window, min_events=min_events)
        if box is None:
            return None
    return event_frames(window, bins, size, size, start, stop_ns + 1, box), box


def recording_windows(events: EventArray, window_ns: int, step_ns: int, bins: int, size: int
                      ) -> list[npt.NDArray[Any]]:
    """Face windows every step_ns over a whole recording (activity box per window): the real-data
    windows of the energy measurement and the benchmark."""
    if not len(events):
        return []
    out = []
    stop = int(events.t[0]) + window_ns
    while stop <= int(events.t[-1]):
        found = sensor_face_window(events, stop, window_ns, bins, size)
        if found is not None:
            out.append(found[0])
        stop += step_ns
    return out
