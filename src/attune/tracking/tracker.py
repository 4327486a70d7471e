"""Multi-object tracking of boxes with stable ids (SORT-style, no appearance model).

Each frame, tracks predicted with a constant-velocity model are matched to detections by the
Hungarian algorithm (scipy.optimize.linear_sum_assignment) on a cost that prefers overlap (1 - IoU)
and falls back to centre distance for fast motion. A track is confirmed after `min_hits`
consecutive matches and deleted after `max_misses` consecutive frames without one.
"""
from __future__ import annotations

import itertools
import math
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from attune.errors import ConfigError
from attune.geometry import BoundingBox

_INFEASIBLE = 1e6


@dataclass(frozen=True)
class TrackerOptions:
    """Tracker parameters (the face node exposes each as a ROS parameter of the same name).

    iou_threshold: least IoU between a predicted track box and a detection to match on overlap.
    max_center_distance: otherwise, largest centre distance, in units of the track box's diagonal,
        still accepted as a match (catches fast motion where boxes no longer overlap).
    min_hits: consecutive matches before a track is confirmed (and reported).
    max_misses: consecutive frames without a match before a confirmed track is deleted.
    deterministic_ids: ids "f1", "f2", ... in creation order (tests, reproducible replays);
        otherwise five random lowercase letters, unique for the session (ROS4HRI's convention).
    """

    iou_threshold: float = 0.3
    max_center_distance: float = 0.5
    min_hits: int = 3
    max_misses: int = 15
    deterministic_ids: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ConfigError(f'iou_threshold must be in (0, 1], got {self.iou_threshold}')
        if self.max_center_distance < 0:
            raise ConfigError(f'max_center_distance must be >= 0, got {self.max_center_distance}')
        if self.min_hits < 1:
            raise ConfigError(f'min_hits must be >= 1, got {self.min_hits}')
        if self.max_misses < 0:
            raise ConfigError(f'max_misses must be >= 0, got {self.max_misses}')


@dataclass
class Track:
    """The tracker's state for one object."""

    id: str
    box: BoundingBox
    first_stamp: float
    last_stamp: float
    hits: int = 1
    consecutive_hits: int = 1
    misses: int = 0
    confirmed: bool = False
    vx: float = 0.0  # centre velocity, normalized units per second
    vy: float = 0.0

    def predicted(self, stamp: float) -> BoundingBox:
        dt = max(0.0, stamp - self.last_stamp)
        return self.box.shifted(self.vx * dt, self.vy * dt)

    @property
    def age_s(self) -> float:
        return self.last_stamp - self.first_stamp


@dataclass(frozen=True)
class Match:
    """A confirmed track matched to detection `index` in the current frame."""

    index: int
    track: Track


class MultiObjectTracker:
    """Assigns stable ids to per-frame boxes. Feed every processed frame, also empty ones."""

    _VELOCITY_SMOOTHING = 0.5  # weight of the newest velocity sample

    def __init__(self, options: TrackerOptions | None = None, *, seed: int | None = None) -> None:
        self.options = options or TrackerOptions()
        self._tracks: list[Track] = []
        self._counter = itertools.count(1)
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()
        self._used_ids: set[str] = set()

    @property
    def tracks(self) -> tuple[Track, ...]:
        return tuple(self._tracks)

    def reset(self) -> None:
        """Forget all tracks (ids already handed out are not reused)."""
        self._tracks.clear()

    def update(self, boxes: Sequence[BoundingBox], stamp: float) -> list[Match]:
        """Match this frame's boxes; return the confirmed tracks matched to them.

        stamp: the frame time in seconds (monotonic within a stream; a jump back resets tracking).
        """
        if self._tracks and stamp < max(t.last_stamp for t in self._tracks):
            self.reset()  # time went backwards: a replay restarted or the clock jumped
        pairs, unmatched = self._assign(boxes, stamp)
        for index, track in pairs:
            self._hit(track, boxes[index], stamp)
        for track in self._tracks:
            if all(track is not t for _, t in pairs):
                track.misses += 1
                track.consecutive_hits = 0
        self._tracks = [t for t in self._tracks if self._alive(t)]
        created = [(i, self._new_track(boxes[i], stamp)) for i in unmatched]
        self._tracks.extend(track for _, track in created)
        matches = [Match(i, t) for i, t in pairs + created if t.confirmed]
        return sorted(matches, key=lambda m: m.index)

    def _assign(self, boxes: Sequence[BoundingBox], stamp: float) -> tuple[list[tuple[int, Track]], list[int]]:
        if not boxes or not self._tracks:
            return [], list(range(len(boxes)))
        cost = np.full((len(boxes), len(self._tracks)), _INFEASIBLE)
        for j, track in enumerate(self._tracks):
            predicted = track.predicted(stamp)
            diagonal = math.hypot(predicted.width, predicted.height) or 1e-6
            pcx, pcy = predicted.center
            for i, box in enumerate(boxes):
                iou = predicted.iou(box)
                if iou >= self.options.iou_threshold:
                    cost[i, j] = 1.0 - iou
                else:
                    cx, cy = box.center
                    distance = math.hypot(cx - pcx, cy - pcy) / diagonal
                    if distance <= self.options.max_center_distance:
                        cost[i, j] = 1.0 + distance  # always worse than any overlap match
        rows, cols = linear_sum_assignment(cost)
        pairs = [(int(i), self._tracks[j]) for i, j in zip(rows, cols) if cost[i, j] < _INFEASIBLE]
        matched = {i for i, _ in pairs}
        return pairs, [i for i in range(len(boxes)) if i not in matched]

    def _hit(self, track: Track, box: BoundingBox, stamp: float) -> None:
        dt = stamp - track.last_stamp
        if dt > 0:
            (ocx, ocy), (ncx, ncy) = track.box.center, box.center
            a = self._VELOCITY_SMOOTHING
            track.vx = a * (ncx - ocx) / dt + (1 - a) * track.vx
            track.vy = a * (ncy - ocy) / dt + (1 - a) * track.vy
        track.box = box
        track.last_stamp = stamp
        track.hits += 1
        track.consecutive_hits += 1
        track.misses = 0
        if track.consecutive_hits >= self.options.min_hits:
            track.confirmed = True

    def _alive(self, track: Track) -> bool:
        if track.misses == 0:
            return True
        if not track.confirmed:
            return False  # a tentative track that misses once was probably a false detection
        return track.misses <= self.options.max_misses

    def _new_track(self, box: BoundingBox, stamp: float) -> Track:
        track = Track(id=self._next_id(), box=box, first_stamp=stamp, last_stamp=stamp)
        track.confirmed = self.options.min_hits <= 1
        return track

    def _next_id(self) -> str:
        if self.options.deterministic_ids:
            return f'f{next(self._counter)}'
        while True:
            candidate = ''.join(self._random.choice(string.ascii_lowercase) for _ in range(5))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate
