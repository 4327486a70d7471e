"""The demo's built-in input: a real photo that ships with a dependency, animated into a clip.

matplotlib (a dependency of MediaPipe) ships `grace_hopper.jpg`, a real portrait (public domain,
U.S. Navy photo). We move it like a head in front of a camera: side-to-side drift, approach and
retreat, in-plane tilt (roll) and a perspective squeeze that mimics turning (yaw), so the demo
exercises detection, FaceMesh, tracking and head pose without any download.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.errors import AttuneError


def sample_photo() -> npt.NDArray[Any]:
    """The portrait as an RGB uint8 array (600 x 512)."""
    import matplotlib.cbook

    path = Path(matplotlib.cbook.get_sample_data('grace_hopper.jpg', asfileobj=False))
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise AttuneError(f'the demo photo {path} (shipped with matplotlib) cannot be read')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def animated_clip(seconds: float = 6.0, fps: float = 15.0, size: tuple[int, int] = (640, 480)
                  ) -> Iterator[npt.NDArray[Any]]:
    """Frames (RGB uint8, size = (width, height)) of the photo moving like a head.

    Deterministic: the same frames every run.
    """
    photo = sample_photo()
    width, height = size
    # Background: the photo itself, blurred and stretched, so borders are not a hard black frame.
    background = cv2.GaussianBlur(cv2.resize(photo, size), (0, 0), 25)
    base_scale = 0.75 * height / photo.shape[0]
    ph, pw = photo.shape[:2]
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    count = max(1, round(seconds * fps))
    for i in range(count):
        t = i / fps
        phase = 2 * math.pi * t / seconds
        scale = base_scale * (1.0 + 0.18 * math.sin(phase))           # approach / retreat
        roll = math.radians(10.0 * math.sin(2 * phase))                 # head tilt
        squeeze = 0.16 * math.sin(phase + 0.7)                          # turning (yaw-like)
        cx = width / 2 + 0.15 * width * math.sin(phase * 1.5)           # drift sideways
        cy = height / 2 + 0.04 * height * math.cos(phase)
        # Perspective: one vertical edge of the photo shorter than the other.
        left, right = 1.0 - max(0.0, squeeze), 1.0 - max(0.0, -squeeze)
        local = np.array([[-pw / 2, -ph / 2 * left], [pw / 2, -ph / 2 * right],
                          [pw / 2, ph / 2 * right], [-pw / 2, ph / 2 * left]], dtype=np.float32)
        rotation = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]], dtype=np.float32)
        target = (local * scale) @ rotation.T + np.array([cx, cy], dtype=np.float32)
        warp = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
        frame = cv2.warpPerspective(photo, warp, size, borderMode=cv2.BORDER_CONSTANT,
                                    borderValue=(0, 0, 0))
        mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), warp, size)
        yield np.where(mask[..., None] > 0, frame, background)
