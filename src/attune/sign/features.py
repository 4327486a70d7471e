"""Per-frame sign features from hand landmarks: one fixed layout shared by every sign model.

A frame is described by FEATURE_DIM = 96 numbers, in named groups (all in the canonical view of
attune.hands.normalize: a mirrored right hand; the whole scene is mirrored with the signing hand):

    shape           42  the signing hand's 21 (x, y) landmarks, wrist-relative, palm size 1, and
                        rotated so that the wrist -> middle-knuckle direction points up: the hand
                        shape whatever way the hand is turned in the image plane
    orientation      2  that direction (unit vector, image axes): which way the hand points
    motion           4  velocity of its wrist and index fingertip, in palm sizes per nominal frame
    trajectory       2  velocity of its index fingertip in image-normalized units (x / width,
                        y / height) per nominal frame (what kinivi's point histories record)
    presence         1  1 when the signing hand is seen (or bridged over a short gap), else 0
    other_shape     42  the other hand's shape, wrist-relative in signing-palm sizes, in the signing
                        hand's rotated frame (so the two shapes keep their relative turn)
    other_offset     2  the other wrist relative to the signing wrist, in signing-palm sizes
    other_presence   1  1 when the other hand is seen

Velocities are scaled to a nominal 30 fps from the real frame interval, so a 25 fps stream and a
30 fps stream give the same numbers for the same motion. A model uses a subset of the groups (its
input mask); absent groups are zero. Frames without a signing hand are all zero. Vocabularies
whose glosses differ only in orientation (ASL H and U) read `orientation`; hand-shape vocabularies
recorded at any angle (kinivi) leave it out and are rotation invariant.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.hands.normalize import isotropic, normalize_shape, palm_size
from attune.hands.types import INDEX_TIP, MIDDLE_MCP, WRIST

NOMINAL_FPS = 30.0

#: (start, stop) column range of each feature group.
GROUPS: dict[str, tuple[int, int]] = {
    'shape': (0, 42),
    'orientation': (42, 44),
    'motion': (44, 48),
    'trajectory': (48, 50),
    'presence': (50, 51),
    'other_shape': (51, 93),
    'other_offset': (93, 95),
    'other_presence': (95, 96),
}
FEATURE_DIM = 96
#: (x column, y column) of the 2-D quantities in image axes (they turn when the camera rolls).
IMAGE_PAIRS: tuple[tuple[int, int], ...] = ((42, 43), (44, 45), (46, 47), (48, 49), (93, 94))
#: (x column, y column) of the hand-frame quantities (rotation-normalized shapes).
SHAPE_PAIRS: tuple[tuple[int, int], ...] = (
    tuple((2 * i, 2 * i + 1) for i in range(21)) + tuple((51 + 2 * i, 52 + 2 * i) for i in range(21)))
#: Groups that describe change between frames (zeroed when a frame is bridged over a gap).
VELOCITY_GROUPS = ('motion', 'trajectory')
#: The shortest frame interval and longest one velocities are scaled from (outside: clipped).
_RATE_CLIP = (0.25, 4.0)


def group_mask(groups: Iterable[str]) -> npt.NDArray[Any]:
    """(FEATURE_DIM,) float32: 1 in the columns of `groups`, 0 elsewhere.

    Raises:
        ValueError: an unknown group name.
    """
    mask = np.zeros(FEATURE_DIM, dtype=np.float32)
    for name in groups:
        if name not in GROUPS:
            raise ValueError(f"unknown feature group {name!r}; known: {', '.join(GROUPS)}")
        start, stop = GROUPS[name]
        mask[start:stop] = 1.0
    return mask


def rate_factor(stamps_s: npt.NDArray[Any] | None, length: int) -> npt.NDArray[Any]:
    """(T,) factor turning per-frame differences into per-nominal-frame ones (1 without stamps)."""
    if stamps_s is None or length < 2:
        return np.ones(length)
    dt = np.diff(np.asarray(stamps_s, dtype=np.float64))
    factor = np.ones(length)
    with np.errstate(divide='ignore', invalid='ignore'):
        factor[1:] = np.clip((1.0 / NOMINAL_FPS) / dt, *_RATE_CLIP)
    factor[1:][~(dt > 0)] = 1.0
    return factor


def _velocity(values: npt.NDArray[Any], valid: npt.NDArray[Any], factor: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(T, k) per-frame differences where frame t and t-1 are both valid, else 0."""
    out = np.zeros_like(values)
    both = valid[1:] & valid[:-1]
    out[1:][both] = (values[1:] - values[:-1])[both] * factor[1:][both, None]
    return out


def point_features(points: npt.NDArray[Any], *, aspect: float = 1.0, mirror: bool | npt.NDArray[Any] = False,
                   stamps_s: npt.NDArray[Any] | None = None, other: npt.NDArray[Any] | None = None,
                   space: str = 'image') -> npt.NDArray[Any]:
    """Features of a sequence of the signing hand's landmarks (and optionally the other hand's).

    Args:
        points: (T, 21, >=2) landmarks; a frame whose values are not all finite is a frame without
            the hand. space='image': normalized image coordinates (motion and trajectory are
            computed); space='hand': already wrist-relative hand coordinates (no motion).
        aspect: image width / height (space='image').
        mirror: flip to the canonical view (attune.hands.normalize.canonical_mirror), one bool or
            one per frame.
        stamps_s: (T,) frame times in seconds; None = frames at the nominal rate.
        other: (T, 21, >=2) the other hand, same space, NaN where absent; None = never seen.

    Returns:
        (T, FEATURE_DIM) float32.
    """
    points = np.asarray(points, dtype=np.float64)
    length = points.shape[0]
    out = np.zeros((length, FEATURE_DIM), dtype=np.float64)
    if length == 0:
        return out.astype(np.float32)
    flip = np.broadcast_to(np.asarray(mirror, dtype=bool), (length,))
    sign = np.where(flip, -1.0, 1.0)
    scale = aspect if space == 'image' else 1.0
    iso = isotropic(points, scale)
    present = np.isfinite(points[..., :2]).all(axis=(1, 2))
    size = np.full(length, np.nan)
    size[present] = palm_size(iso[present])
    present &= size > 1e-4
    factor = rate_factor(stamps_s, length)
    rotation = np.tile(np.eye(2), (length, 1, 1))
    if present.any():
        shape = normalize_shape(iso[present], flip[present])
        direction = shape[:, MIDDLE_MCP] / np.linalg.norm(shape[:, MIDDLE_MCP], axis=1, keepdims=True)
        dx, dy = direction[:, 0], direction[:, 1]
        # R maps the direction to (0, -1), "up" in image axes: R = [[-dy, dx], [-dx, -dy]].
        rotation[present] = np.stack([np.stack([-dy, dx], -1), np.stack([-dx, -dy], -1)], axis=1)
        out[present, 0:42] = np.einsum('tij,tnj->tni', rotation[present], shape).reshape(-1, 42)
        out[present, 42:44] = direction
        out[present, 50] = 1.0
    if space == 'image' and present.any():
        # Velocities in palm sizes: the change of position over the current palm size.
        safe = np.where(present, size, 1.0)[:, None]
        out[:, 44:46] = _velocity_scaled(iso[:, WRIST], safe, present, factor)
        out[:, 46:48] = _velocity_scaled(iso[:, INDEX_TIP], safe, present, factor)
        out[:, 48:50] = _velocity(points[:, INDEX_TIP, :2], present, factor)
        out[:, [44, 46, 48]] *= sign[:, None]
    if other is not None:
        other = np.asarray(other, dtype=np.float64)
        other_iso = isotropic(other, scale)
        seen = np.isfinite(other[..., :2]).all(axis=(1, 2))
        other_size = np.full(length, np.nan)
        other_size[seen] = palm_size(other_iso[seen])
        seen &= other_size > 1e-4
        if seen.any():
            out[seen, 95] = 1.0
        both = seen & present
        if both.any():
            relative = (other_iso[both] - other_iso[both, WRIST:WRIST + 1]) / size[both, None, None]
            relative[..., 0] *= sign[both, None]
            out[both, 51:93] = np.einsum('tij,tnj->tni', rotation[both], relative).reshape(-1, 42)
            offset = (other_iso[both, WRIST] - iso[both, WRIST]) / size[both, None]
            offset[:, 0] *= sign[both]
            out[both, 93:95] = offset
    return out.astype(np.float32)


def _velocity_scaled(positions: npt.NDArray[Any], size: npt.NDArray[Any], valid: npt.NDArray[Any],
                     factor: npt.NDArray[Any]) -> npt.NDArray[Any]:
    out = np.zeros_like(positions)
    both = valid[1:] & valid[:-1]
    delta = (positions[1:] - positions[:-1]) / size[1:]
    out[1:][both] = delta[both] * factor[1:][both, None]
    return out


def trajectory_features(tip: npt.NDArray[Any], *, mirror: bool = False,
                        stamps_s: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
    """Features of an index-fingertip track alone (T, 2) in image-normalized units (kinivi's
    point histories): trajectory and presence only."""
    tip = np.asarray(tip, dtype=np.float64)
    length = tip.shape[0]
    out = np.zeros((length, FEATURE_DIM), dtype=np.float32)
    present = np.isfinite(tip).all(axis=1)
    velocity = _velocity(tip, present, rate_factor(stamps_s, length))
    if mirror:
        velocity[:, 0] *= -1.0
    out[:, 48:50] = velocity
    out[:, 50] = present
    return out


@dataclass(frozen=True)
class Window:
    """The last frames of a stream as one model input."""

    features: npt.NDArray[Any]  # (T, FEATURE_DIM) float32
    valid_frames: int     # frames of real data at the end (the rest is edge padding in front)


def pad_window(features: npt.NDArray[Any], length: int) -> Window:
    """The last `length` rows of features; a shorter sequence is padded in front with its first row
    (what a held sign looks like before it was seen), an empty one is all zero."""
    features = np.asarray(features, dtype=np.float32)
    count = features.shape[0]
    if count >= length:
        return Window(features[count - length:], length)
    if count == 0:
        return Window(np.zeros((length, FEATURE_DIM), dtype=np.float32), 0)
    pad = np.repeat(features[:1], length - count, axis=0)
    pad[:, [c for g in VELOCITY_GROUPS for c in range(*GROUPS[g])]] = 0.0
    return Window(np.concatenate([pad, features]), count)
