"""A stream's evidence window: timing, metadata, publisher and content, into named features.

The node (or the benchmark) adds one FrameObservation per image with what the ROS graph says
about the topic; features() turns the latest WINDOW frames (HISTORY for loops) into the feature
vector the model scores. Every feature is oriented so that its meaning reads from its name.
"""
from __future__ import annotations

import itertools
import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity.content import FrameContent, hamming, noise_floor, residual_correlation

WINDOW = 60          # frames the timing and content statistics are taken over (2 s at 30 fps)
HISTORY = 300        # frames kept for loop detection (10 s at 30 fps)
MIN_FRAMES = 20      # fewer frames: not ready to judge
LOOP_MIN_GAP = 15    # a match at least this many frames back is a loop, not a still scene
COPY_MAD = 0.5       # mean absolute crop difference (gray levels) below which two frames are copies

FEATURES: tuple[str, ...] = (
    'log_jitter_ms', 'log_latency_ms', 'log_latency_jitter_ms', 'rate_change', 'geometry_changes',
    'camera_info_mismatch', 'publisher_player', 'publisher_unknown', 'extra_publishers',
    'repeat_fraction', 'loop_fraction', 'log_residual_std', 'log_noise_floor', 'residual_corr',
    'blockiness', 'noise_floor_change',
)

#: Node names of camera drivers (matched case-insensitively anywhere in the publisher's name).
CAMERA_DRIVERS = ('usb_cam', 'v4l2_camera', 'cv_camera', 'gscam', 'realsense', 'camera_node', 'naoqi_driver',
                  'naoqi', 'spinnaker', 'pylon', 'zed', 'oak', 'depthai', 'libcamera', 'uvc_camera',
                  'camera_driver', 'astra_camera', 'kinect')
#: Node names of players and replays: bags, attune's own player, video/image publishers.
PLAYERS = ('rosbag', 'player', 'play', 'attune', 'image_publisher', 'video', 'replay', 'virtual', 'v4l2loopback',
           'obs', 'mock', 'fake', 'sim')


def publisher_kind(node_name: str) -> str:
    """'camera', 'player' or 'unknown' for a publishing node's name."""
    name = node_name.lower()
    if any(re.search(rf'(^|[/_]){re.escape(p)}', name) for p in PLAYERS):
        return 'player'
    if any(d in name for d in CAMERA_DRIVERS):
        return 'camera'
    return 'unknown'


@dataclass(frozen=True)
class CameraInfoSeen:
    frame_id: str
    width: int
    height: int


@dataclass(frozen=True)
class FrameObservation:
    """One image as it arrived: its header stamp, the local receive time, geometry and content."""

    stamp_ns: int
    receive_ns: int
    frame_id: str
    width: int
    height: int
    content: FrameContent


@dataclass
class _Pair:
    """Evidence between a frame and the one before it."""

    copy: bool
    floor: float
    corr: float


@dataclass
class StreamEvidence:
    """The rolling evidence of one image topic (see module docstring)."""

    window: int = WINDOW
    history: int = HISTORY
    frames: deque[FrameObservation] = field(default_factory=deque)
    pairs: deque[_Pair] = field(default_factory=deque)
    loops: deque[bool] = field(default_factory=deque)
    publishers: tuple[str, ...] = ()
    camera_info: CameraInfoSeen | None = None

    def add(self, obs: FrameObservation) -> None:
        if self.frames:
            prev = self.frames[-1]
            mad = float(np.abs(obs.content.crop - prev.content.crop).mean()) \
                if prev.content.crop.shape == obs.content.crop.shape else math.inf
            self.pairs.append(_Pair(copy=mad < COPY_MAD, floor=noise_floor(prev.content, obs.content),
                                    corr=residual_correlation(prev.content, obs.content)))
        self.loops.append(self._loops_back(obs.content))
        self.frames.append(obs)
        while len(self.frames) > self.history:
            self.frames.popleft()
        while len(self.pairs) > self.window - 1:
            self.pairs.popleft()
        while len(self.loops) > self.window:
            self.loops.popleft()

    def _loops_back(self, content: FrameContent) -> bool:
        """Whether this frame is a pixel copy of one at least LOOP_MIN_GAP frames back."""
        older = list(self.frames)[:-LOOP_MIN_GAP] if len(self.frames) > LOOP_MIN_GAP else []
        for past in older:
            if hamming(past.content.dhash, content.dhash) <= 4 and past.content.crop.shape == content.crop.shape \
                    and float(np.abs(past.content.crop - content.crop).mean()) < COPY_MAD:
                return True
        return False

    @property
    def ready(self) -> bool:
        return len(self.frames) >= MIN_FRAMES

    def reset(self) -> None:
        self.frames.clear()
        self.pairs.clear()
        self.loops.clear()

    def features(self) -> dict[str, float]:
        """The feature vector (FEATURES order) of the latest window; NaN where not measurable."""
        recent = list(self.frames)[-self.window:]
        stamps = np.array([f.stamp_ns for f in recent], dtype=np.float64) / 1e6
        receive = np.array([f.receive_ns for f in recent], dtype=np.float64) / 1e6
        intervals = np.diff(stamps)
        latency = receive - stamps
        pairs = list(self.pairs)
        floors = np.array([p.floor for p in pairs], dtype=np.float64)
        kinds = [publisher_kind(n) for n in self.publishers]
        geometry = [(f.frame_id, f.width, f.height) for f in recent]
        return {
            'log_jitter_ms': math.log10(0.001 + _robust_std(intervals)),
            'log_latency_ms': math.log10(0.01 + abs(float(np.median(latency)))) if len(latency) else math.nan,
            'log_latency_jitter_ms': math.log10(0.001 + _robust_std(latency)),
            'rate_change': _rate_change(intervals),
            'geometry_changes': float(np.mean([a != b for a, b in itertools.pairwise(geometry)]))
            if len(geometry) > 1 else 0.0,
            'camera_info_mismatch': float(self.camera_info is None or (
                self.camera_info.frame_id, self.camera_info.width, self.camera_info.height) != geometry[-1]),
            'publisher_player': float('player' in kinds),
            'publisher_unknown': float(not kinds or 'unknown' in kinds),
            'extra_publishers': float(len(kinds) > 1),
            'repeat_fraction': float(np.mean([p.copy for p in pairs])) if pairs else math.nan,
            'loop_fraction': float(np.mean(self.loops)) if self.loops else math.nan,
            'log_residual_std': math.log10(0.05 + float(np.median([f.content.residual_std for f in recent]))),
            'log_noise_floor': math.log10(0.05 + _nanmedian(floors)),
            'residual_corr': _nanmedian(np.array([p.corr for p in pairs], dtype=np.float64)),
            'blockiness': float(np.median([f.content.blockiness for f in recent])) - 1.0,
            'noise_floor_change': abs(math.log10((0.05 + _nanmedian(floors[:len(floors) // 2]))
                                                 / (0.05 + _nanmedian(floors[len(floors) // 2:])))),
        }


def _nanmedian(x: npt.NDArray[Any]) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else math.nan


def _robust_std(x: npt.NDArray[Any]) -> float:
    if len(x) < 3:
        return math.nan
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def _rate_change(intervals: npt.NDArray[Any]) -> float:
    """|log10| of the ratio of the median frame interval in the two halves of the window."""
    if len(intervals) < 6:
        return math.nan
    half = len(intervals) // 2
    a, b = float(np.median(intervals[:half])), float(np.median(intervals[half:]))
    if a <= 0 or b <= 0:
        return 3.0
    return abs(math.log10(a / b))
