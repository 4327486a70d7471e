"""Face regions from FaceMesh landmarks (pixel coordinates): skin, eyes, brows, lips, face oval.

Shared by the retouching generator (where to retouch) and the retouch detector (where to measure).
Index sets are MediaPipe's FaceMesh connection sets (mediapipe.python.solutions.face_mesh_connections),
copied as constants so the core does not import mediapipe.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
LEFT_BROW = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
NOSTRILS = (98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64)
#: Jaw and cheek contour below the eyes (the points a face-slimming warp pulls inwards).
LOWER_CONTOUR = (93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323)
FOREHEAD = (10, 338, 297, 109, 67, 151, 9, 108, 337)
CHIN = 152
MID_BROW = 9


def to_pixels(landmarks: npt.NDArray[Any], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """(N, 2) float pixel coordinates of normalized FaceMesh landmarks (N, 2 or 3)."""
    h, w = shape[:2]
    return np.asarray(landmarks, np.float64)[:, :2] * np.array([w, h], np.float64)


def _fill(mask: npt.NDArray[Any], points: npt.NDArray[Any], hull: bool = True) -> None:
    import cv2

    pts = np.round(points).astype(np.int32)
    if hull:
        pts = cv2.convexHull(pts)
    cv2.fillPoly(mask, [pts.reshape(-1, 1, 2)], (1,))


def polygon_mask(shape: tuple[int, ...], points: npt.NDArray[Any], hull: bool = False) -> npt.NDArray[Any]:
    mask = np.zeros(shape[:2], np.uint8)
    _fill(mask, points, hull)
    return mask.astype(bool)


def face_width(px: npt.NDArray[Any]) -> float:
    """Distance between the outer face-oval points at the cheekbones (234, 454)."""
    return float(np.linalg.norm(px[454] - px[234]))


def feature_mask(shape: tuple[int, ...], px: npt.NDArray[Any], grow: float = 0.03) -> npt.NDArray[Any]:
    """Eyes, brows, lips and nostrils, grown by `grow` face widths (what is not skin inside the face)."""
    mask = np.zeros(shape[:2], np.uint8)
    for part in (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS, NOSTRILS):
        _fill(mask, px[list(part)])
    return grown(mask.astype(bool), grow * face_width(px))


def skin_mask(shape: tuple[int, ...], px: npt.NDArray[Any], shrink: float = 0.04) -> npt.NDArray[Any]:
    """Facial skin: the face oval shrunk by `shrink` face widths (no hair line, no background), minus
    eyes, brows, lips and nostrils."""
    oval = shrunk(polygon_mask(shape, px[list(FACE_OVAL)]), shrink * face_width(px))
    return oval & ~feature_mask(shape, px)


def grown(mask: npt.NDArray[Any], radius: float) -> npt.NDArray[Any]:
    """`mask` dilated by a disc of `radius` pixels (a distance transform: fast for large radii)."""
    import cv2

    outside = np.ascontiguousarray(~mask, dtype=np.uint8)
    return cv2.distanceTransform(outside, cv2.DIST_L2, 3) <= radius


def shrunk(mask: npt.NDArray[Any], radius: float) -> npt.NDArray[Any]:
    """`mask` eroded by a disc of `radius` pixels."""
    import cv2

    return cv2.distanceTransform(np.ascontiguousarray(mask, dtype=np.uint8), cv2.DIST_L2, 3) > radius


def eye_centres(px: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    return px[list(RIGHT_EYE)].mean(axis=0), px[list(LEFT_EYE)].mean(axis=0)


def eye_widths(px: npt.NDArray[Any]) -> tuple[float, float]:
    return float(np.linalg.norm(px[133] - px[33])), float(np.linalg.norm(px[263] - px[362]))


def soft(mask: npt.NDArray[Any], sigma: float) -> npt.NDArray[Any]:
    """A feathered float32 version of a boolean mask."""
    import cv2

    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(sigma, 0.5))
