"""Hand-landmark normalization: wrist-relative, palm-size scale, canonical mirroring, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from attune.errors import LandmarkError
from attune.hands.normalize import canonical_mirror, check_landmarks, normalize_hand, palm_size


def hand(seed: int = 0) -> np.ndarray:
    """A plausible right hand (21, 3) in normalized image coordinates."""
    rng = np.random.default_rng(seed)
    wrist = np.array([0.5, 0.7])
    knuckles = wrist + np.array([[-0.06, -0.12], [-0.02, -0.13], [0.02, -0.125], [0.05, -0.11]])
    points = [wrist, wrist + [-0.05, -0.03], wrist + [-0.08, -0.06], wrist + [-0.1, -0.08], wrist + [-0.11, -0.1]]
    for k in knuckles:
        direction = (k - wrist) / np.linalg.norm(k - wrist)
        points += [k + direction * 0.03 * i for i in range(4)]
    xy = np.array(points) + rng.normal(0, 0.002, (21, 2))
    return np.c_[xy, rng.normal(0, 0.01, 21)]


@pytest.mark.parametrize(('handedness', 'mirrored', 'flip'), [
    ('right', False, True), ('right', True, False), ('left', False, False), ('left', True, True)])
def test_canonical_view_is_a_mirrored_right_hand(handedness, mirrored, flip) -> None:
    assert canonical_mirror(handedness, mirrored) is flip
    assert canonical_mirror(handedness, mirrored, mirror_left_hands=False) is (not mirrored)


def test_normalized_hand_is_wrist_relative_with_palm_size_one() -> None:
    shape = normalize_hand(hand(), aspect=1.0)
    assert shape.shape == (21, 2)
    np.testing.assert_allclose(shape[0], 0.0, atol=1e-12)
    assert palm_size(shape) == pytest.approx(1.0)


def test_normalization_ignores_position_and_size_and_mirrors() -> None:
    points = hand()
    moved = points.copy()
    moved[:, :2] = (points[:, :2] - 0.5) * 0.5 + [0.2, 0.3]  # farther away, elsewhere in the image
    np.testing.assert_allclose(normalize_hand(points), normalize_hand(moved), atol=1e-9)
    mirrored = points.copy()
    mirrored[:, 0] = 1.0 - points[:, 0]  # the same hand in a mirrored image
    np.testing.assert_allclose(normalize_hand(mirrored, mirror=True), normalize_hand(points), atol=1e-9)


def test_aspect_makes_the_coordinates_isotropic() -> None:
    points = hand()
    wide = points.copy()
    wide[:, 0] = 0.5 + (points[:, 0] - 0.5) * 0.75  # the same hand in a 4:3 image instead of 1:1
    np.testing.assert_allclose(normalize_hand(wide, aspect=4 / 3), normalize_hand(points, aspect=1.0), atol=1e-9)


@pytest.mark.parametrize(('landmarks', 'match'), [
    (np.zeros((20, 3)), 'shape'),
    (np.zeros((21, 4)), 'shape'),
    (np.full((21, 3), np.nan), 'NaN'),
    (np.zeros((21, 3)), 'degenerate'),
])
def test_bad_landmarks_raise_landmark_error(landmarks, match) -> None:
    with pytest.raises(LandmarkError, match=match):
        normalize_hand(landmarks)


def test_check_landmarks_counts_bad_values() -> None:
    points = hand()
    points[3, 1] = np.inf
    points[7, 0] = np.nan
    with pytest.raises(LandmarkError, match='2 landmark values'):
        check_landmarks(points)
