"""Small typed results of the hands stage (no rclpy).

Coordinates follow REP-155 like the face types: image points normalized to [0, 1] by the image
width and height, origin top-left, x right, y down; z is MediaPipe's depth relative to the wrist,
on the x scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy.typing as npt

from attune.geometry import BoundingBox

Handedness = Literal['left', 'right']

#: MediaPipe Hands landmark indices.
WRIST = 0
THUMB_TIP = 4
INDEX_MCP, INDEX_TIP = 5, 8
MIDDLE_MCP = 9
RING_MCP = 13
PINKY_MCP = 17
NUM_LANDMARKS = 21


@dataclass(frozen=True, eq=False)
class HandObservation:
    """One hand in one image.

    handedness: the person's own hand ('left' or 'right'), already corrected for whether the image
    was mirrored (MediaPipe itself assumes a mirrored, selfie-style image). Typed str, not
    Handedness: a hand read from a message carries whatever the sender wrote, and the sign
    recognizer drops and reports such a hand itself (attune.sign.recognizer.valid_hands).
    score: MediaPipe's handedness/presence confidence in [0, 1].
    landmarks: (21, 3) float32, normalized image coordinates (see the module docstring).
    world_landmarks: (21, 3) float32 metres around the hand's centre, or None.
    """

    handedness: str
    score: float
    landmarks: npt.NDArray[Any]
    world_landmarks: npt.NDArray[Any] | None = None

    @property
    def box(self) -> BoundingBox:
        return BoundingBox.from_points(self.landmarks)


@dataclass(frozen=True, eq=False)
class HandFrame:
    """All hands found in one image taken at stamp_ns."""

    stamp_ns: int
    width: int
    height: int
    hands: tuple[HandObservation, ...] = ()

    def hand(self, handedness: Handedness) -> HandObservation | None:
        """The most confident hand with this handedness, or None."""
        found = [h for h in self.hands if h.handedness == handedness]
        return max(found, key=lambda h: h.score) if found else None
