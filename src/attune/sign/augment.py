"""Signer and camera variation applied to recorded hand landmarks (training augmentation and the
robustness check of evaluation).

The public sign data sets each come from one signer in front of one camera, so a model learns that
signer's hand, that camera's distance and that angle. `vary_segment` draws one simulated signer and
camera per segment and re-renders its landmarks before the features are computed:

    proportions  each finger's bones scaled by one hand-wide factor times a per-finger one, the
                 palm widened or narrowed across the wrist -> middle-knuckle axis (hand size and
                 shape differ between people; palm-size normalization removes only overall size)
    tilt         out-of-plane rotation about the wrist (yaw and pitch), then orthographic
                 projection: with MediaPipe's depth where the data has it, else a flat hand
    finger lift  single fingers bent out of the palm's plane at their knuckle (about the knuckle
                 line): a finger pointing toward the camera, its image foreshortened, which a
                 rigid tilt of a flat hand cannot produce
    roll         in-plane rotation about the wrist (camera roll, a tilted head or wrist)
    distance     the hand drawn smaller or larger about its mean position (distance to the camera:
                 motion in image units shrinks and pixel noise grows relative to the hand)
    aspect       x stretched (an unknown camera aspect)
    speed        time resampled (signing faster or slower)
    jitter       per-landmark noise of constant size in the image (so, relative to the hand,
                 larger for a distant hand), as MediaPipe's landmarks wobble
    mirror       the other hand. Where the glosses do not depend on the hand (kinivi) the flipped
                 hand is shown to the model as it is; otherwise (ASL) a left-handed signer is
                 simulated: flipped landmarks marked as a left hand, which the canonical mirroring
                 of attune.hands.normalize must undo, so this checks that path.

All of this happens in isotropic image units (x times the aspect), wrist-centred where it rotates.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.sign.segments import LandmarkDataset, Segment

#: Landmark chains of the five fingers, knuckle (or thumb CMC) first (MediaPipe Hands numbering).
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
_WRIST, _MIDDLE_MCP = 0, 9


@dataclass(frozen=True)
class SignerVariation:
    """Ranges of the simulated differences (each drawn uniformly, once per segment; 0 = off).

    finger_scale: all fingers' bones x (1 +- this), times a per-finger (1 +- finger_spread).
    palm_width: the palm's width x (1 +- this).
    tilt_deg: yaw and pitch, each +- this.
    roll_deg: in-plane rotation +- this.
    distance: the hand's size in the image x this factor's range (log-uniform).
    aspect: x x (1 +- this).
    speed: time runs this many times faster (log-uniform in the range).
    jitter: landmark noise standard deviation, in palm sizes at distance factor 1.
    mirror: probability of showing the other hand.
    finger_lift_deg: each finger but the thumb, with probability finger_lift_share, bent out of the
        palm plane at its knuckle by up to this angle (either way).
    """

    finger_scale: float = 0.0
    finger_spread: float = 0.0
    palm_width: float = 0.0
    tilt_deg: float = 0.0
    roll_deg: float = 0.0
    distance: tuple[float, float] = (1.0, 1.0)
    aspect: float = 0.0
    speed: tuple[float, float] = (1.0, 1.0)
    jitter: float = 0.0
    mirror: float = 0.0
    finger_lift_deg: float = 0.0
    finger_lift_share: float = 0.5

    def only(self, *components: str) -> SignerVariation:
        """This variation with every component but the named ones (keys of COMPONENTS) switched off.

        Raises:
            KeyError: an unknown component.
        """
        names = [name for component in components for name in COMPONENTS[component]]
        return replace(SignerVariation(), **{name: getattr(self, name) for name in names})


#: One component per name, at full strength: the robustness check of evaluation (`COMPONENTS`).
COMPONENTS = {
    'proportions': ('finger_scale', 'finger_spread', 'palm_width'),
    'tilt': ('tilt_deg',),
    'roll': ('roll_deg',),
    'distance': ('distance',),
    'aspect': ('aspect',),
    'speed': ('speed',),
    'jitter': ('jitter',),
    'mirror': ('mirror',),
    'finger_lift': ('finger_lift_deg', 'finger_lift_share'),
}


def signer_variation(dataset: LandmarkDataset) -> SignerVariation:
    """The training (and robustness-check) variation for a data set: in-plane rotation as wide as
    its glosses allow (`rotation_deg`: ASL H and U differ only in it), the other hand where the
    glosses do not depend on it, tilt narrower where orientation matters."""
    orientation_matters = 'orientation' in dataset.groups
    kind = dataset.segments[0].kind if dataset.segments else 'image'
    if kind == 'trajectory':  # a fingertip track: no hand to reshape or tilt
        return SignerVariation(roll_deg=dataset.rotation_deg, distance=(0.5, 1.6), jitter=0.03, mirror=0.5)
    return SignerVariation(
        finger_scale=0.12, finger_spread=0.06, palm_width=0.12,
        tilt_deg=25.0 if orientation_matters else 40.0, roll_deg=dataset.rotation_deg,
        distance=(0.5, 1.6), aspect=0.12 if kind == 'image' else 0.0,
        speed=(0.75, 1.35), jitter=0.03, mirror=0.5)


def vary_segment(segment: Segment, variation: SignerVariation, rng: np.random.Generator, *,
                 hand_free: bool) -> Segment:
    """`segment` as another signer and camera would record it (see the module docstring).

    hand_free: the glosses do not depend on which hand signs (the flipped hand is shown as is);
    otherwise a mirrored segment is marked as the other hand (its `mirror` flag toggles).
    Trajectory segments (fingertip tracks) get roll, distance, speed, jitter and mirror only.
    """
    if segment.kind == 'trajectory':
        return _vary_track(segment, variation, rng, hand_free=hand_free)
    aspect = segment.aspect if segment.kind == 'image' else 1.0
    points = np.array(segment.points[..., :2], dtype=np.float64)
    depth = np.zeros(points.shape[:2]) if segment.depth is None else np.array(segment.depth, dtype=np.float64)
    xyz = np.concatenate([points, depth[..., None]], axis=-1)
    xyz[..., 0] *= aspect
    xyz[..., 2] *= aspect
    seen = np.isfinite(xyz).all(axis=(1, 2))
    palm = _median_palm(xyz[seen])
    draw = _Draw(variation, rng)
    if seen.any():
        xyz[seen] = _proportions(xyz[seen], draw)
        xyz[seen] = _lift_fingers(xyz[seen], draw)
        xyz[seen] = _rotate(xyz[seen], draw)
    centre = np.nanmean(xyz[seen, _WRIST], axis=0) if seen.any() else np.zeros(3)
    mirror = segment.mirror
    if draw.mirrored:
        xyz[..., 0] = 2 * centre[0] - xyz[..., 0]
        mirror = mirror if hand_free else not mirror
    if segment.kind == 'image':
        xyz = centre + (xyz - centre) * draw.distance
        xyz[..., 0] = centre[0] + (xyz[..., 0] - centre[0]) * draw.aspect
    if variation.jitter > 0 and palm > 0:
        xyz[..., :2] += rng.normal(0.0, variation.jitter * palm, xyz[..., :2].shape)
    xyz[..., 0] /= aspect
    xyz[..., 2] /= aspect
    out_points, out_depth = xyz[..., :2], xyz[..., 2]
    stamps = segment.stamps_s
    if draw.speed != 1.0 and len(segment) > 1:
        out_points, out_depth, stamps = _resample(out_points, out_depth, stamps, draw.speed)
    return replace(segment, points=out_points, depth=out_depth if segment.depth is not None else None,
                   mirror=mirror, stamps_s=stamps, rows=np.zeros(0, dtype=np.int64))


def vary_dataset(dataset: LandmarkDataset, variation: SignerVariation, seed: int) -> LandmarkDataset:
    """Every segment of `dataset` varied once, deterministically for a seed."""
    rng = np.random.default_rng(seed)
    return replace(dataset, segments=tuple(vary_segment(s, variation, rng, hand_free=dataset.mirror_augment)
                                           for s in dataset.segments))


class _Draw:
    """One signer and camera drawn from a SignerVariation."""

    def __init__(self, v: SignerVariation, rng: np.random.Generator) -> None:
        def u(r: float) -> float:
            return float(rng.uniform(-r, r)) if r > 0 else 0.0

        self.fingers = (1.0 + u(v.finger_scale)) * (1.0 + np.array([u(v.finger_spread) for _ in FINGERS]))
        self.palm_width = 1.0 + u(v.palm_width)
        self.yaw, self.pitch = math.radians(u(v.tilt_deg)), math.radians(u(v.tilt_deg))
        self.roll = math.radians(u(v.roll_deg))
        self.distance = _log_uniform(rng, v.distance)
        self.aspect = 1.0 + u(v.aspect)
        self.speed = _log_uniform(rng, v.speed)
        self.mirrored = v.mirror > 0 and bool(rng.random() < v.mirror)
        # drawn last and only when on, so that the other components' draws stay as they were
        self.lifts = [math.radians(u(v.finger_lift_deg)) if rng.random() < v.finger_lift_share else 0.0
                      for _ in FINGERS[1:]] if v.finger_lift_deg > 0 else []


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return 1.0 if low == high == 1.0 else float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _median_palm(xyz: npt.NDArray[Any]) -> float:
    if not len(xyz):
        return 0.0
    knuckles = xyz[:, [5, 9, 13, 17], :2] - xyz[:, _WRIST:_WRIST + 1, :2]
    return float(np.median(np.linalg.norm(knuckles, axis=-1).mean(axis=-1)))


def _proportions(xyz: npt.NDArray[Any], draw: _Draw) -> npt.NDArray[Any]:
    """Palm width across the wrist -> middle-knuckle axis (per frame), then finger bone lengths."""
    out = xyz.copy()
    axis = xyz[:, _MIDDLE_MCP, :2] - xyz[:, _WRIST, :2]
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-9)
    across = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
    for finger, scale in zip(FINGERS, draw.fingers):
        base = finger[0]
        offset = xyz[:, base, :2] - xyz[:, _WRIST, :2]
        shift = (draw.palm_width - 1.0) * (offset * across).sum(1, keepdims=True) * across
        out[:, finger[0], :2] += shift
        for previous, joint in itertools.pairwise(finger):
            out[:, joint] = out[:, previous] + scale * (xyz[:, joint] - xyz[:, previous])
    return out


def _lift_fingers(xyz: npt.NDArray[Any], draw: _Draw) -> npt.NDArray[Any]:
    """Each lifted finger's joints rotated about the knuckle line (index -> little knuckle, per
    frame) through its knuckle (Rodrigues' formula)."""
    if not any(draw.lifts):
        return xyz
    out = xyz.copy()
    axis = xyz[:, 17] - xyz[:, 5]
    axis /= np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-9)
    for finger, angle in zip(FINGERS[1:], draw.lifts):
        if angle == 0.0:
            continue
        c, s = math.cos(angle), math.sin(angle)
        for joint in finger[1:]:
            v = xyz[:, joint] - xyz[:, finger[0]]
            along = (v * axis).sum(1, keepdims=True) * axis
            out[:, joint] = xyz[:, finger[0]] + v * c + np.cross(axis, v) * s + along * (1 - c)
    return out


def _rotate(xyz: npt.NDArray[Any], draw: _Draw) -> npt.NDArray[Any]:
    """Yaw, pitch and roll about each frame's wrist (orthographic camera)."""
    cy, sy, cp, sp = math.cos(draw.yaw), math.sin(draw.yaw), math.cos(draw.pitch), math.sin(draw.pitch)
    cr, sr = math.cos(draw.roll), math.sin(draw.roll)
    yaw = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    pitch = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    roll = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    wrist = xyz[:, _WRIST:_WRIST + 1]
    rotated: npt.NDArray[Any] = wrist + (xyz - wrist) @ (roll @ pitch @ yaw).T
    return rotated


def _resample(points: npt.NDArray[Any], depth: npt.NDArray[Any], stamps: npt.NDArray[Any] | None,
              speed: float) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any] | None]:
    """Linear interpolation at `speed` times the frame rate's pace (at least 2 frames)."""
    length = len(points)
    count = max(2, int(round(length / speed)))
    where = np.linspace(0.0, length - 1.0, count)
    low = np.floor(where).astype(int)
    high = np.minimum(low + 1, length - 1)
    w = (where - low)[:, None, None]
    new_points = (1 - w) * points[low] + w * points[high]
    new_depth = (1 - w[..., 0]) * depth[low] + w[..., 0] * depth[high]
    new_stamps = None if stamps is None else np.linspace(stamps[0], stamps[-1], count)
    return new_points, new_depth, new_stamps


def _vary_track(segment: Segment, v: SignerVariation, rng: np.random.Generator, *, hand_free: bool) -> Segment:
    draw = _Draw(v, rng)
    mirror = segment.mirror
    track = np.array(segment.points, dtype=np.float64)
    c, s = math.cos(draw.roll), math.sin(draw.roll)
    track = (track - track[:1]) @ np.array([[c, -s], [s, c]]).T * draw.distance + track[:1]
    if draw.mirrored:
        track[:, 0] = 2 * track[0, 0] - track[:, 0]
        mirror = mirror if hand_free else not mirror  # a mirrored circle turns the other way
    if v.jitter > 0:
        track += rng.normal(0.0, v.jitter * 0.01, track.shape)  # ~ a tenth of a palm in image units
    return replace(segment, points=track, mirror=mirror, rows=np.zeros(0, dtype=np.int64))

