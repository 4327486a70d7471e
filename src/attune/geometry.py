"""Image-plane geometry shared by the perception modules: normalized boxes and pinhole cameras.

Coordinates follow REP-155: image points are normalized to [0, 1] by the image width and height,
origin top-left, x right, y down.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class BoundingBox:
    """An axis-aligned box in normalized image coordinates."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @classmethod
    def from_points(cls, points: npt.NDArray[Any]) -> BoundingBox:
        """The tightest box around (N, >=2) normalized points."""
        xs, ys = points[:, 0], points[:, 1]
        return cls(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return (0.5 * (self.xmin + self.xmax), 0.5 * (self.ymin + self.ymax))

    def iou(self, other: BoundingBox) -> float:
        """Intersection over union, 0 for disjoint or empty boxes."""
        ix = min(self.xmax, other.xmax) - max(self.xmin, other.xmin)
        iy = min(self.ymax, other.ymax) - max(self.ymin, other.ymin)
        if ix <= 0 or iy <= 0:
            return 0.0
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def shifted(self, dx: float, dy: float) -> BoundingBox:
        return BoundingBox(self.xmin + dx, self.ymin + dy, self.xmax + dx, self.ymax + dy)

    def clipped(self) -> BoundingBox:
        """The part of the box inside the image ([0, 1] on both axes)."""
        return BoundingBox(min(max(self.xmin, 0.0), 1.0), min(max(self.ymin, 0.0), 1.0),
                           min(max(self.xmax, 0.0), 1.0), min(max(self.ymax, 0.0), 1.0))

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels, rounded outward and clipped to the image."""
        return (max(0, math.floor(self.xmin * width)), max(0, math.floor(self.ymin * height)),
                min(width, math.ceil(self.xmax * width)), min(height, math.ceil(self.ymax * height)))


@dataclass(frozen=True)
class CameraIntrinsics:
    """A pinhole camera: focal lengths and principal point in pixels, for an image of width x height."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple[float, ...] = ()

    @classmethod
    def from_hfov(cls, width: int, height: int, hfov_deg: float) -> CameraIntrinsics:
        """A distortion-free camera with square pixels, centred, and the given horizontal field of view."""
        f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2)
        return cls(width, height, f, f, width / 2.0, height / 2.0)

    @classmethod
    def from_vfov(cls, width: int, height: int, vfov_deg: float) -> CameraIntrinsics:
        """As from_hfov, from the vertical field of view (MediaPipe's face-geometry convention)."""
        f = 0.5 * height / math.tan(math.radians(vfov_deg) / 2)
        return cls(width, height, f, f, width / 2.0, height / 2.0)

    def matrix(self) -> npt.NDArray[np.float64]:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled_to(self, width: int, height: int) -> CameraIntrinsics:
        """The same camera for an image resized to width x height."""
        sx, sy = width / self.width, height / self.height
        return CameraIntrinsics(width, height, self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy,
                                self.distortion)


def rotation_to_quaternion(r: npt.NDArray[Any]) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a proper rotation matrix (Shepperd's method, numerically stable)."""
    m = np.asarray(r, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 2.0 * math.sqrt(trace + 1.0)
        w, x, y, z = 0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        w, x, y, z = (m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        w, x, y, z = (m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        w, x, y, z = (m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s
    norm = math.sqrt(w * w + x * x + y * y + z * z)
    return (x / norm, y / norm, z / norm, w / norm)


def quaternion_to_rotation(x: float, y: float, z: float, w: float) -> npt.NDArray[np.float64]:
    """The rotation matrix of a quaternion (x, y, z, w); normalizes it first."""
    n = math.sqrt(x * x + y * y + z * z + w * w) or 1.0
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
