"""Face shape features for the expression head: where the expressive landmarks sit (no rclpy).

The action units condense the face into 17 numbers; the head also reads the raw shape of the lips,
eyes and brows (FaceMesh's contour landmarks of each), aligned to MediaPipe's canonical face model
by the rigid landmarks (attune.expression.action_units.aligned_landmarks: position, size and roll
removed) and given as x, y offsets from the canonical (neutral) face in centimetres. Depth (z) is
left out: FaceMesh's z is the least reliable coordinate, and adding it did not help in person-wise
cross-validation (src/attune/models/resources/expression_head.md).
"""
from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.expression.action_units import aligned_landmarks
from attune.face.head_pose import canonical_face_model

#: FaceMesh contour landmarks of the lips (40), both eyes (2 x 16) and both brows (2 x 10).
LIPS = (0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267,
        269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415)
EYES = (249, 263, 362, 373, 374, 380, 381, 382, 384, 385, 386, 387, 388, 390, 398, 466,
        7, 33, 133, 144, 145, 153, 154, 155, 157, 158, 159, 160, 161, 163, 173, 246)
BROWS = (276, 282, 283, 285, 293, 295, 296, 300, 334, 336, 46, 52, 53, 55, 63, 65, 66, 70, 105, 107)
SHAPE_LANDMARKS = LIPS + EYES + BROWS
SHAPE_SIZE = 2 * len(SHAPE_LANDMARKS)


@cache
def _canonical_xy() -> npt.NDArray[Any]:
    return canonical_face_model()[list(SHAPE_LANDMARKS), :2] * 100.0  # centimetres, as aligned_landmarks


def landmark_shape(landmarks: npt.NDArray[Any], width: int, height: int) -> npt.NDArray[Any]:
    """(SHAPE_SIZE,) float32: x, y of SHAPE_LANDMARKS in the canonical frame minus the canonical face's.

    landmarks: (N >= 468, 3) normalized FaceMesh landmarks of an image of width x height pixels
    (checked by the caller: the action-unit estimate of the same face raises on bad landmarks).
    """
    aligned, _ = aligned_landmarks(landmarks, width, height)
    return shape_of_aligned(aligned)


def shape_of_aligned(aligned: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """landmark_shape from landmarks already in the canonical frame (AuResult.aligned: no second fit)."""
    xy = np.asarray(aligned)[list(SHAPE_LANDMARKS), :2]
    out: npt.NDArray[Any] = (xy - _canonical_xy()).ravel().astype(np.float32)
    return out
