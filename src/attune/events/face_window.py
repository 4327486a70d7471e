"""Face windows for event emulation: a face box cropped to a fixed square window, smoothed over time,
with N-MNIST-style saccades, and a per-track emulator on top (numpy + OpenCV, no rclpy).

Why a fixed window: the spiking model sees every face at one size, wherever and however large the
face is in the camera image. Why saccades: an event camera sees nothing in a still scene; N-MNIST
was recorded by moving the sensor in three quick saccades (a triangle) in front of still digits.
Moving the crop the same way makes still photos, and still faces in a live stream, produce edge
events. The same code crops training images and live frames, so the model sees one geometry.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.events.emulator import EmulatorOptions, EventEmulator
from attune.events.errors import EventError
from attune.events.types import EventArray
from attune.geometry import BoundingBox


@dataclass(frozen=True)
class WindowOptions:
    """How a face box becomes a window.

    size: window side in pixels. margin: extra border on each side, as a fraction of the box side.
    saccade_amplitude_px: size of the saccade triangle in window pixels (0: no saccades). 2.5 at 32 px:
        with 1 px only the hair line and face outline fire, and a smile is invisible in a still face.
    saccade_period_s: time for the three saccades of one triangle.
    smoothing: weight of the previous box in the exponential smoothing of centre and size
        (0: use every box as it comes; jittering boxes make spurious events).
    """

    size: int = 32
    margin: float = 0.15
    saccade_amplitude_px: float = 2.5
    saccade_period_s: float = 0.3
    smoothing: float = 0.6

    def __post_init__(self) -> None:
        if not 8 <= self.size <= 512:
            raise EventError(f'window size must be in [8, 512], got {self.size}')
        if not 0.0 <= self.margin <= 2.0:
            raise EventError(f'window margin must be in [0, 2], got {self.margin}')
        if not 0.0 <= self.saccade_amplitude_px <= self.size / 4:
            raise EventError(f'saccade amplitude must be in [0, size/4], got {self.saccade_amplitude_px}')
        if not self.saccade_period_s > 0:
            raise EventError(f'saccade period must be positive, got {self.saccade_period_s}')
        if not 0.0 <= self.smoothing < 1.0:
            raise EventError(f'smoothing must be in [0, 1), got {self.smoothing}')


#: Corners of the saccade triangle (unit size), visited in order as N-MNIST's three saccades.
_TRIANGLE = np.array([[-0.5, 0.289], [0.5, 0.289], [0.0, -0.577]])


def saccade_offset(t_s: float, amplitude_px: float, period_s: float) -> tuple[float, float]:
    """The (dx, dy) offset in window pixels at time t_s on the saccade triangle (piecewise linear,
    one corner to the next in period_s / 3)."""
    if amplitude_px <= 0:
        return 0.0, 0.0
    phase = (t_s / period_s) % 1.0 * 3.0
    i = int(phase) % 3
    f = phase - int(phase)
    p = (1 - f) * _TRIANGLE[i] + f * _TRIANGLE[(i + 1) % 3]
    return float(p[0] * amplitude_px), float(p[1] * amplitude_px)


def square_box(box: BoundingBox, image_width: int, image_height: int, margin: float) -> tuple[float, float, float]:
    """(centre x, centre y, side) in image pixels of the square window around a normalized box."""
    cx, cy = box.center
    side = max(box.width * image_width, box.height * image_height) * (1.0 + 2.0 * margin)
    return cx * image_width, cy * image_height, max(side, 2.0)


def crop_window(gray: npt.NDArray[Any], center_x: float, center_y: float, side: float, size: int,
                offset: tuple[float, float] = (0.0, 0.0)) -> npt.NDArray[Any]:
    """The square of `side` image pixels centred at (center_x, center_y), as a (size, size) float32
    window, moved by `offset` window pixels (sub-pixel). Area-averaged (no aliasing when shrinking);
    parts outside the image repeat the border."""
    if gray.ndim != 2:
        raise EventError(f'crop_window needs a grey (H, W) image, got shape {gray.shape}')
    pad = int(math.ceil(max(abs(offset[0]), abs(offset[1])))) + 1
    scale = side / size                                   # image pixels per window pixel
    outer = size + 2 * pad
    x0 = int(round(center_x - outer * scale / 2))
    y0 = int(round(center_y - outer * scale / 2))
    n = max(int(round(outer * scale)), 1)
    h, w = gray.shape
    region = gray[max(y0, 0):min(y0 + n, h), max(x0, 0):min(x0 + n, w)]
    if region.size == 0:
        return np.full((size, size), float(gray.mean()) if gray.size else 0.0, np.float32)
    top, left = max(-y0, 0), max(-x0, 0)
    bottom, right = n - top - region.shape[0], n - left - region.shape[1]
    if top or left or bottom > 0 or right > 0:
        region = cv2.copyMakeBorder(region, top, max(bottom, 0), left, max(right, 0), cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if n >= outer else cv2.INTER_LINEAR
    small = cv2.resize(np.ascontiguousarray(region, dtype=np.float32), (outer, outer), interpolation=interpolation)
    shift = np.array([[1, 0, -pad - offset[0]], [0, 1, -pad - offset[1]]], np.float32)
    return cv2.warpAffine(small, shift, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def to_gray(image: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(H, W) intensities of an RGB (H, W, 3) or grey (H, W) uint8 image (ITU-R 601 luma)."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    raise EventError(f'expected an (H, W, 3) RGB or (H, W) grey image, got shape {image.shape}')


class FaceEventEmulator:
    """Events of one face track: smoothed box -> window (with saccades) -> EventEmulator.

    Call `step(gray_image, box, t_ns)` for every image in which the track's face was seen, in time
    order; it returns the window's events since the previous call and the box that was cropped.
    """

    def __init__(self, window: WindowOptions | None = None, emulator: EmulatorOptions | None = None) -> None:
        self.window = window or WindowOptions()
        self.emulator = EventEmulator(self.window.size, self.window.size, emulator)
        self._square: tuple[float, float, float] | None = None
        self.last_seen_ns: int | None = None

    def step(self, gray: npt.NDArray[Any], box: BoundingBox, t_ns: int) -> tuple[EventArray, BoundingBox]:
        """Events of the face window between the previous image and this one, and the (normalized)
        square box the window covered.

        Raises:
            EventError: a bad image or box, or t_ns not after the previous image's time.
        """
        if not all(math.isfinite(v) for v in (box.xmin, box.ymin, box.xmax, box.ymax)) or box.area <= 0:
            raise EventError(f'face box {box} is empty or not finite')
        h, w = gray.shape[:2]
        last = self.emulator.last_stamp_ns
        if last is not None and t_ns <= last:
            raise EventError(f'image time {t_ns} ns is not after the previous one ({last} ns)')
        square = square_box(box, w, h, self.window.margin)
        if self._square is not None and self.window.smoothing > 0:
            a = self.window.smoothing
            (ox, oy, oside), (nx, ny, nside) = self._square, square
            square = (a * ox + (1 - a) * nx, a * oy + (1 - a) * ny, a * oside + (1 - a) * nside)
        offset = saccade_offset(t_ns * 1e-9, self.window.saccade_amplitude_px, self.window.saccade_period_s)
        crop = crop_window(gray, *square, self.window.size, offset)
        events = self.emulator.step(crop, t_ns)
        self._square = square
        self.last_seen_ns = int(t_ns)
        cx, cy, side = square
        roi = BoundingBox((cx - side / 2) / w, (cy - side / 2) / h, (cx + side / 2) / w, (cy + side / 2) / h)
        return events, roi
