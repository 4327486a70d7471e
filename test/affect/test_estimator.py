"""Per-face affect from frames with the shipped model: which faces are due, calibration, smoothing."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from attune.affect.estimator import AffectEstimator, EstimatorOptions
from attune.face.head_pose import rotation_from_angles
from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox
from test.conftest import shared_data

S = 1_000_000_000


@pytest.fixture(scope='module')
def portrait() -> tuple[np.ndarray, np.ndarray]:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    rgb = cv2.cvtColor(cv2.imread(str(shared_data('faces', 'london_ccby', 'neutral', '005_03.jpg'))), cv2.COLOR_BGR2RGB)
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True)) as analyzer:
        (face,) = analyzer.process(rgb)
    return rgb, face.landmarks


def face(track: str, landmarks, yaw: float = 0.0) -> TrackedFace:
    t = np.array([0.0, 0.0, 0.6])
    pose = HeadPose(yaw, 0.0, 0.0, rotation_from_angles(yaw, 0.0, 0.0, t), t)
    return TrackedFace(track, FaceObservation(BoundingBox(0.3, 0.2, 0.7, 0.8), 0.9, landmarks), 5, 1.0, pose)


def test_faces_are_due_at_the_rate_and_only_when_classifiable(portrait) -> None:
    rgb, landmarks = portrait
    estimator = AffectEstimator(EstimatorOptions(rate_hz=10.0, calibration_s=0.0))
    faces = [face('a', landmarks), face('side', landmarks, yaw=75.0), face('none', None)]
    due_stamps = []
    for i in range(9):  # 30 fps: every third frame is due at 10 Hz
        frame = FaceFrame(i * S // 30, rgb.shape[1], rgb.shape[0], tuple(faces))
        due, skipped = estimator.due(frame)
        assert {s.track: s.reason for s in skipped} == {'side': 'turned_away', 'none': 'no_landmarks'}
        if due:
            estimates, bad = estimator.estimate(rgb, frame, due)
            assert not bad and [e.track for e in estimates] == ['a']
            due_stamps.append(i)
    assert due_stamps == [0, 3, 6]


def test_the_rate_holds_when_faces_of_later_frames_arrive_before_the_image(portrait) -> None:
    """The node asks due() when a Faces message arrives and runs the model when its image arrives; on
    a busy machine Faces of several frames can come first."""
    rgb, landmarks = portrait
    estimator = AffectEstimator(EstimatorOptions(rate_hz=5.0, calibration_s=0.0))
    frames = [FaceFrame(i * S // 10, rgb.shape[1], rgb.shape[0], (face('a', landmarks),)) for i in range(6)]
    decisions = [bool(estimator.due(f)[0]) for f in frames]  # no estimate() in between
    assert decisions == [True, False, True, False, True, False]


def test_estimates_are_distributions_calibrated_per_child(portrait) -> None:
    rgb, landmarks = portrait
    estimator = AffectEstimator(EstimatorOptions(rate_hz=30.0, smoothing_tau_s=0.0, calibration_s=0.2,
                                                 calibration_min_samples=3, calibration_max_gain=1e6))
    states = []
    for i in range(8):
        frame = FaceFrame(i * S // 10, rgb.shape[1], rgb.shape[0], (face('a', landmarks),))
        (estimate,), _ = estimator.estimate(rgb, frame, list(frame.faces))
        assert estimate.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert -1 <= estimate.valence <= 1 and -1 <= estimate.arousal <= 1
        states.append(estimate.calibration)
        if estimator.completed:
            (track, baseline), = estimator.completed
            assert track == 'a' and baseline.samples == 3
    assert states[:2] == ['calibrating'] * 2 and states[-1] == 'calibrated'
    # the same resting face after calibration reads as the neutral reference of what the node publishes
    assert estimator.fusion is not None   # the shipped model pools with its teacher
    reference = np.asarray(estimator.fusion.neutral_reference)
    assert np.allclose(estimator.latest('a').probabilities, reference / reference.sum(), atol=1e-4)


def test_unusable_landmarks_are_skipped_with_the_reason(portrait) -> None:
    rgb, landmarks = portrait
    estimator = AffectEstimator(EstimatorOptions(calibration_s=0.0))
    bad = landmarks.copy()
    bad[10] = np.nan
    frame = FaceFrame(0, rgb.shape[1], rgb.shape[0], (face('ok', landmarks), face('bad', bad)))
    estimates, skipped = estimator.estimate(rgb, frame, list(frame.faces))
    assert [e.track for e in estimates] == ['ok']
    assert skipped[0].track == 'bad' and 'NaN' in skipped[0].reason


def test_the_network_is_pooled_with_its_teacher_unless_switched_off(portrait) -> None:
    from attune.expression.teacher import ExpressionTeacher

    rgb, landmarks = portrait
    frame = FaceFrame(0, rgb.shape[1], rgb.shape[0], (face('a', landmarks),))
    options = dict(calibration_s=0.0, smoothing_tau_s=0.0)
    pooled = AffectEstimator(EstimatorOptions(**options))
    alone = AffectEstimator(EstimatorOptions(**options, teacher_fusion=False))
    assert alone.fusion is None and pooled.fusion == pooled.model.info.teacher_fusion
    network = pooled.model.predict([pooled.model.prepare(rgb, landmarks)])
    with ExpressionTeacher() as teacher:
        taught = teacher.soft_labels(rgb, landmarks)
    (with_teacher,), _ = pooled.estimate(rgb, frame, list(frame.faces))
    (without,), _ = alone.estimate(rgb, frame, list(frame.faces))
    assert np.allclose(without.raw, network[0], atol=1e-6)
    assert np.allclose(with_teacher.raw, pooled.fusion.fuse(network, taught[None])[0], atol=1e-6)
    assert not np.allclose(with_teacher.raw, without.raw, atol=1e-3)
