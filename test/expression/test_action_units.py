"""Action units: real smiles raise AU12 and AU6; the geometry ignores head pose and face size."""
from __future__ import annotations

import math

import numpy as np
import pytest

from attune.expression.action_units import (
    AU_INDEX,
    AU_NAMES,
    MEASURES,
    ActionUnitEstimator,
    NeutralBaseline,
    aligned_landmarks,
    measure,
    population_reference,
)
from attune.face.head_pose import canonical_face_model
from test.expression.photos import pairs


def test_smiles_raise_au12_and_au6_for_at_least_10_of_12_people(london) -> None:
    estimator = ActionUnitEstimator()
    wins = {'AU12': 0, 'AU6': 0}
    for neutral, smiling in pairs(london):
        a = estimator.estimate(neutral.landmarks, 675, 675)
        b = estimator.estimate(smiling.landmarks, 675, 675)
        for au in wins:
            # ties at 0 or 1 (clipped) do not count as wins: compare the raw geometry there
            wins[au] += b[au] > a[au] or (b[au] == a[au] == 1.0)
    assert len(pairs(london)) == 12
    assert wins['AU12'] >= 10 and wins['AU6'] >= 10, wins


def test_intensities_are_in_unit_range_and_named(london) -> None:
    estimator = ActionUnitEstimator()
    for photo in london:
        result = estimator.estimate(photo.landmarks, 675, 675)
        assert result.intensities.shape == (len(AU_NAMES),) and result.intensities.dtype == np.float32
        assert np.all((result.intensities >= 0) & (result.intensities <= 1))
        assert result.fit_rms_cm < 1.0  # real faces fit the canonical model's rigid part
    assert {'AU1', 'AU2', 'AU4', 'AU5', 'AU6', 'AU7', 'AU9', 'AU10', 'AU12', 'AU15', 'AU17', 'AU20', 'AU23',
            'AU25', 'AU26', 'AU45'} <= set(AU_NAMES)


def project(points_cm: np.ndarray, yaw: float, pitch: float, roll: float, scale: float, size: int) -> np.ndarray:
    """Canonical-model points -> normalized landmarks of a camera looking at the rotated face
    (orthographic, like FaceMesh's z on the x scale)."""
    from attune.face.head_pose import rotation_from_angles

    r = np.diag([1.0, -1.0, -1.0]) @ rotation_from_angles(yaw, pitch, roll)  # model -> image-like axes
    p = points_cm @ r.T * scale
    p[:, 0] += size / 2
    p[:, 1] += size / 2
    return np.stack([p[:, 0] / size, p[:, 1] / size, p[:, 2] / size], axis=1)


@pytest.mark.parametrize(('yaw', 'pitch', 'roll', 'scale'), [(0, 0, 0, 8), (25, 0, 0, 8), (0, -20, 15, 8),
                                                             (-30, 15, -20, 3), (10, 10, 10, 20)])
def test_measures_do_not_change_with_head_pose_and_face_size(yaw, pitch, roll, scale) -> None:
    face = canonical_face_model() * 100.0
    reference = measure(face)
    aligned, alignment = aligned_landmarks(project(face, yaw, pitch, roll, scale, 640), 640, 640)
    np.testing.assert_allclose(measure(aligned), reference, atol=1e-6)
    assert alignment.rms_cm < 1e-6


def test_a_smile_made_on_the_model_is_seen_at_any_pose() -> None:
    face = canonical_face_model() * 100.0
    smile = face.copy()
    smile[[61, 291], 1] += 0.4              # mouth corners up 4 mm
    smile[61, 0] -= 0.3
    smile[291, 0] += 0.3                    # and out
    estimator = ActionUnitEstimator()
    for yaw, pitch, roll in [(0, 0, 0), (30, 0, 0), (0, 20, -15)]:
        au = estimator.estimate(project(smile, yaw, pitch, roll, 10, 800), 800, 800)
        au0 = estimator.estimate(project(face, yaw, pitch, roll, 10, 800), 800, 800)
        assert au['AU12'] > au0['AU12'] + 0.5


def test_bad_landmarks_are_refused() -> None:
    estimator = ActionUnitEstimator()
    landmarks = project(canonical_face_model() * 100.0, 0, 0, 0, 8, 640)
    bad = landmarks.copy()
    bad[13, 1] = math.nan
    with pytest.raises(ValueError, match='NaN'):
        estimator.estimate(bad, 640, 640)
    with pytest.raises(ValueError, match='landmarks'):
        estimator.estimate(landmarks[:100], 640, 640)
    with pytest.raises(ValueError, match=r'zero-size|degenerate'):
        estimator.estimate(np.full_like(landmarks, 0.5), 640, 640)


def test_neutral_calibration_follows_the_persons_own_relaxed_face() -> None:
    population = population_reference()
    own = population.copy()
    own[MEASURES.index('inner_brow_height')] -= 0.3   # this person's brows sit low when relaxed
    baseline = NeutralBaseline(population, min_frames=10)
    assert np.array_equal(baseline.reference('p1'), population)
    relaxed = np.zeros(len(AU_NAMES), np.float32)
    for _ in range(40):
        baseline.update('p1', own, relaxed)
    np.testing.assert_allclose(baseline.reference('p1'), own, atol=1e-9)
    busy = np.ones(len(AU_NAMES), np.float32)       # an expressive frame does not move the baseline
    baseline.update('p1', own + 1.0, busy)
    np.testing.assert_allclose(baseline.reference('p1'), own, atol=1e-9)
    assert np.array_equal(baseline.reference('other'), population)


def test_calibrated_estimator_stops_calling_low_brows_au4(london) -> None:
    photo = next(p for p in london if not p.smiling)
    plain = ActionUnitEstimator().estimate(photo.landmarks, 675, 675)
    calibrated = ActionUnitEstimator(calibration=True)
    for _ in range(30):
        result = calibrated.estimate(photo.landmarks, 675, 675, track='t1')
    assert result.intensities.sum() <= plain.intensities.sum() + 1e-6
    assert result[AU_NAMES[AU_INDEX['AU4']]] < 0.05
