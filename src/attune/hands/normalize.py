"""Hand-landmark normalization: wrist-relative, scaled by palm size, mirrored to one canonical hand.

The canonical view is a right hand seen as in a mirror (a selfie view), the view both public data
sets were recorded in (`docs/sign.md`, "Normalization"). A landmark set is brought there by

    p  = (x * aspect, y)                 image-normalized -> isotropic (aspect = width / height)
    q  = (p - p[wrist]) / palm_size(p)   wrist at the origin, palm size 1
    q.x = -q.x  if  mirror               mirror = (not mirrored_input) XOR (hand is the left hand)

palm_size is the mean distance from the wrist to the four finger knuckles (MCP joints): those
five points are rigid, so the scale does not change when the fingers bend.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import LandmarkError
from attune.hands.types import INDEX_MCP, MIDDLE_MCP, NUM_LANDMARKS, PINKY_MCP, RING_MCP, WRIST

_KNUCKLES = (INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP)
#: Palms smaller than this (in isotropic normalized units: a fraction of the image height) are
#: degenerate (all landmarks on one point), not a hand.
MIN_PALM_SIZE = 1e-4


def canonical_mirror(handedness: str, mirrored_input: bool, mirror_left_hands: bool = True) -> bool:
    """Whether x must be flipped to bring this hand into the canonical view (a mirrored right hand).

    With mirror_left_hands=False a left hand is treated like a right one (only the camera's mirroring
    is undone): use it for gestures whose meaning depends on absolute direction.
    """
    flip = not mirrored_input
    if mirror_left_hands and handedness == 'left':
        flip = not flip
    return flip


def check_landmarks(landmarks: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """landmarks as a float array of shape (21, 2 or 3), all finite.

    Raises:
        LandmarkError: wrong shape or a NaN/inf value.
    """
    array = np.asarray(landmarks, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != NUM_LANDMARKS or array.shape[1] not in (2, 3):
        raise LandmarkError(f'a hand needs {NUM_LANDMARKS} landmarks of 2 or 3 values, got shape {array.shape}')
    if not np.isfinite(array).all():
        raise LandmarkError(f'{int((~np.isfinite(array)).sum())} landmark values are NaN or infinite')
    return array


def isotropic(points: npt.NDArray[Any], aspect: float) -> npt.NDArray[Any]:
    """(..., 21, >=2) image-normalized points -> (..., 21, 2) with x scaled by width / height."""
    out = np.array(points[..., :2], dtype=np.float64)
    out[..., 0] *= aspect
    return out


def palm_size(points: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(..., 21, 2) isotropic points -> (...) mean wrist-to-knuckle distance."""
    wrist = points[..., WRIST:WRIST + 1, :]
    knuckles = points[..., list(_KNUCKLES), :]
    size: npt.NDArray[Any] = np.linalg.norm(knuckles - wrist, axis=-1).mean(axis=-1)
    return size


def normalize_shape(points: npt.NDArray[Any], mirror: bool | npt.NDArray[Any] = False) -> npt.NDArray[Any]:
    """(..., 21, 2) isotropic points -> (..., 21, 2) wrist-relative, palm-size 1, canonical side.

    `mirror` is one bool or one per leading index. Raises LandmarkError for a degenerate palm.
    """
    points = np.asarray(points, dtype=np.float64)
    size = palm_size(points)
    if np.any(~(size > MIN_PALM_SIZE)):
        raise LandmarkError('degenerate hand: the palm has no size (all landmarks on one point?)')
    shape: npt.NDArray[Any] = (points - points[..., WRIST:WRIST + 1, :]) / size[..., None, None]
    flip = np.asarray(mirror, dtype=bool)
    if flip.ndim == 0:
        if flip:
            shape[..., 0] *= -1.0
    else:
        shape[..., 0] *= np.where(flip, -1.0, 1.0)[..., None]
    return shape


def normalize_hand(landmarks: npt.NDArray[Any], *, aspect: float = 1.0, mirror: bool = False) -> npt.NDArray[Any]:
    """One hand's (21, 2|3) image-normalized landmarks -> (21, 2) canonical shape.

    Raises:
        LandmarkError: wrong shape, non-finite values or a degenerate palm.
    """
    return normalize_shape(isotropic(check_landmarks(landmarks), aspect), mirror)
