"""Signer variation of recorded landmarks: each component changes what it claims and nothing else,
the other hand is undone by canonical mirroring where the glosses depend on the hand, and a seed
fixes every draw."""
from __future__ import annotations

import numpy as np
import pytest

from attune.sign.augment import COMPONENTS, FINGERS, SignerVariation, vary_dataset, vary_segment
from attune.sign.features import GROUPS
from attune.sign.segments import LandmarkDataset, Segment
from test.hands.test_normalize import hand

SHAPE, ORIENTATION, MOTION, TRAJECTORY = (slice(*GROUPS[g]) for g in ('shape', 'orientation', 'motion', 'trajectory'))
FULL = SignerVariation(finger_scale=0.12, finger_spread=0.06, palm_width=0.12, tilt_deg=30.0, roll_deg=15.0,
                       distance=(0.5, 1.6), aspect=0.12, speed=(0.75, 1.35), jitter=0.03, mirror=0.5)


def segment(frames: int = 20, kind: str = 'image') -> Segment:
    base = hand()
    moving = np.stack([base + [0.004 * t, 0.002 * t, 0.0] for t in range(frames)])
    if kind == 'hand':
        relative = moving[..., :2] - moving[:, :1, :2]
        return Segment('A', 0, 'hand', relative / np.abs(relative).max(axis=(1, 2), keepdims=True),
                       rows=np.arange(frames))
    return Segment('A', 0, 'image', moving[..., :2], aspect=4 / 3, rows=np.arange(frames), depth=moving[..., 2])


def varied(component: str, seed: int = 3, **kwargs) -> tuple[np.ndarray, np.ndarray, Segment]:
    original = segment(**kwargs)
    out = vary_segment(original, FULL.only(component), np.random.default_rng(seed), hand_free=False)
    return original.features(), out.features(), out


def test_no_variation_changes_nothing() -> None:
    original = segment()
    out = vary_segment(original, SignerVariation(), np.random.default_rng(0), hand_free=False)
    np.testing.assert_allclose(out.features(), original.features(), atol=1e-5)


def test_roll_turns_the_orientation_not_the_shape() -> None:
    before, after, _ = varied('roll')
    np.testing.assert_allclose(after[:, SHAPE], before[:, SHAPE], atol=1e-4)
    assert np.abs(after[:, ORIENTATION] - before[:, ORIENTATION]).max() > 0.01


def test_distance_keeps_hand_units_and_scales_image_motion() -> None:
    before, after, _ = varied('distance')
    np.testing.assert_allclose(after[:, SHAPE], before[:, SHAPE], atol=1e-4)
    np.testing.assert_allclose(after[:, MOTION], before[:, MOTION], atol=1e-4)
    ratio = np.linalg.norm(after[1:, TRAJECTORY]) / np.linalg.norm(before[1:, TRAJECTORY])
    assert 0.5 <= ratio <= 1.6 and abs(ratio - 1.0) > 0.01


def test_proportions_change_finger_lengths_relative_to_the_palm() -> None:
    _, _, out = varied('proportions')
    original = segment()
    length = lambda points, finger: np.linalg.norm(points[0, finger[-1]] - points[0, finger[0]])  # noqa: E731
    ratios = [length(out.points, f) / length(original.points, f) for f in FINGERS[1:]]
    assert all(0.8 < r < 1.25 for r in ratios) and np.ptp(ratios) > 1e-3
    np.testing.assert_allclose(out.points[:, 0], original.points[:, 0])  # the wrist stays


@pytest.mark.parametrize('kind', ['image', 'hand'])
def test_tilt_foreshortens_the_shape(kind) -> None:
    before, after, _ = varied('tilt', kind=kind)
    assert np.abs(after[:, SHAPE] - before[:, SHAPE]).max() > 0.02


def test_speed_resamples_time_and_jitter_is_noise() -> None:
    out = vary_segment(segment(), SignerVariation(speed=(1.3, 1.35)), np.random.default_rng(0), hand_free=False)
    assert len(out) == 15 and np.isfinite(out.points).all() and out.depth.shape == (15, 21)
    before, after, _ = varied('jitter')
    noise = after[:, SHAPE] - before[:, SHAPE]
    assert 0.005 < noise.std() < 0.2


def test_the_other_hand_is_undone_by_canonical_mirroring_unless_the_glosses_are_hand_free() -> None:
    original = segment()
    other = SignerVariation(mirror=1.0)
    signer = vary_segment(original, other, np.random.default_rng(0), hand_free=False)
    assert signer.mirror != original.mirror
    np.testing.assert_allclose(signer.features(), original.features(), atol=1e-4)
    shown = vary_segment(original, other, np.random.default_rng(0), hand_free=True)
    assert shown.mirror == original.mirror
    np.testing.assert_allclose(shown.features()[:, 0::2][:, :21], -original.features()[:, 0::2][:, :21], atol=1e-4)


def test_a_seed_fixes_every_draw_and_unknown_components_fail() -> None:
    dataset = LandmarkDataset('toy', ('A',), (segment(), segment(12)), groups=('shape', 'presence'))
    first, second = vary_dataset(dataset, FULL, 7), vary_dataset(dataset, FULL, 7)
    for a, b in zip(first.segments, second.segments, strict=True):
        np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(vary_dataset(dataset, FULL, 8).segments[0].points, first.segments[0].points)
    assert set(COMPONENTS) >= {'proportions', 'tilt', 'roll', 'distance', 'jitter', 'mirror'}
    with pytest.raises(KeyError):
        FULL.only('lighting')


def test_finger_lift_foreshortens_single_fingers_and_keeps_the_palm() -> None:
    original = segment(kind='hand')  # kinivi's kind: no depth, a flat hand
    lift = SignerVariation(finger_lift_deg=80.0, finger_lift_share=1.0)
    out = vary_segment(original, lift, np.random.default_rng(5), hand_free=False)
    palm = [0, 5, 9, 13, 17, *FINGERS[0]]  # wrist, knuckles and the thumb stay
    np.testing.assert_allclose(out.points[:, palm], original.points[:, palm], atol=1e-9)
    for finger in FINGERS[1:]:
        before = original.points[0, finger[-1]] - original.points[0, finger[0]]
        after = out.points[0, finger[-1]] - out.points[0, finger[0]]
        assert np.linalg.norm(after) < 0.99 * np.linalg.norm(before)  # bent out of the image plane
