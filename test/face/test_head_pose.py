"""Head pose: exact recovery from synthetic projections of the canonical model, sign conventions,
and the canonical model data itself."""
from __future__ import annotations

import numpy as np
import pytest

from attune.face.head_pose import (
    HeadPoseEstimator,
    angles_from_rotation,
    canonical_face_model,
    lift_landmarks,
    line_of_sight_frame,
    project_model,
    rotation_from_angles,
)
from attune.geometry import CameraIntrinsics, quaternion_to_rotation, rotation_to_quaternion

CAMERA = CameraIntrinsics.from_hfov(640, 480, 60.0)


def synthetic_landmarks(yaw: float, pitch: float, roll: float, position) -> np.ndarray:
    """478 normalized landmarks of the canonical face at a pose (iris points copied from eye corners)."""
    t = np.asarray(position, dtype=float)
    rotation = rotation_from_angles(yaw, pitch, roll, t)
    points = project_model(rotation, t, CAMERA)
    z = np.zeros((468, 1))
    landmarks = np.hstack([points, z]).astype(np.float32)
    return np.vstack([landmarks, landmarks[[33] * 10]])


def test_canonical_model_is_the_mirror_symmetric_468_vertex_mesh() -> None:
    model = canonical_face_model()
    assert model.shape == (468, 3)
    mirrored = model * [-1, 1, 1]
    # every vertex has its mirror image in the model (MediaPipe's mesh is left-right symmetric)
    distances = np.min(np.linalg.norm(mirrored[:, None] - model[None], axis=2), axis=1)
    assert distances.max() < 1e-6
    # known landmarks: 1 = nose tip (front-most midline point), 33/263 = outer eye corners, mirrored
    assert model[1, 0] == 0 and model[1, 2] > 0.07
    np.testing.assert_allclose(model[33] * [-1, 1, 1], model[263])
    assert model[33, 0] < 0  # the face's right eye is on the model's -x side (image left)


@pytest.mark.parametrize('yaw', [-40.0, 0.0, 25.0])
@pytest.mark.parametrize('pitch', [-20.0, 10.0])
@pytest.mark.parametrize('roll', [-15.0, 5.0])
@pytest.mark.parametrize('position', [(0.0, 0.0, 0.8), (0.25, -0.15, 1.2)])
def test_recovers_pose_from_exact_projection(yaw, pitch, roll, position) -> None:
    pose = HeadPoseEstimator().estimate(synthetic_landmarks(yaw, pitch, roll, position), CAMERA)
    assert pose is not None
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((yaw, pitch, roll), abs=0.05)
    np.testing.assert_allclose(pose.translation, position, atol=1e-3)
    assert pose.reprojection_error_px < 0.01


def test_sign_conventions() -> None:
    """yaw > 0: nose moves to the image's right; pitch > 0: nose moves up; roll > 0: clockwise."""
    nose, forehead = 1, 10
    front = synthetic_landmarks(0, 0, 0, (0, 0, 0.8))
    assert synthetic_landmarks(20, 0, 0, (0, 0, 0.8))[nose, 0] > front[nose, 0] + 0.01
    assert synthetic_landmarks(0, 20, 0, (0, 0, 0.8))[nose, 1] < front[nose, 1] - 0.01
    tilted = synthetic_landmarks(0, 0, 20, (0, 0, 0.8))
    assert tilted[forehead, 0] > front[forehead, 0] + 0.01  # top of the head goes right: clockwise


def test_angles_are_relative_to_the_line_of_sight() -> None:
    """A face high in the image that looks at the camera has yaw = pitch = 0, while its
    camera-frame pitch is negative (it looks down toward the camera)."""
    t = np.array([0.0, -0.3, 0.8])
    rotation = rotation_from_angles(0, 0, 0, t)
    assert angles_from_rotation(rotation, t) == pytest.approx((0, 0, 0), abs=1e-9)
    _, camera_pitch, _ = angles_from_rotation(rotation)
    assert camera_pitch == pytest.approx(-np.degrees(np.arctan2(0.3, 0.8)), abs=1e-6)
    assert np.allclose(line_of_sight_frame(np.array([0, 0, 2.0])), np.eye(3))


def test_iterative_refinement_from_previous_pose() -> None:
    estimator = HeadPoseEstimator()
    first = estimator.estimate(synthetic_landmarks(10, 5, 0, (0.1, 0, 0.9)), CAMERA)
    second = estimator.estimate(synthetic_landmarks(12, 5, 1, (0.1, 0, 0.9)), CAMERA, previous=first)
    assert (second.yaw, second.pitch, second.roll) == pytest.approx((12, 5, 1), abs=0.05)


def test_bad_landmarks_give_no_pose() -> None:
    landmarks = synthetic_landmarks(0, 0, 0, (0, 0, 0.8))
    landmarks[1] = np.nan
    assert HeadPoseEstimator().estimate(landmarks, CAMERA) is None
    assert HeadPoseEstimator().estimate(landmarks[:100], CAMERA) is None
    noise = np.random.default_rng(0).random((478, 3)).astype(np.float32)  # not a face at all
    assert HeadPoseEstimator().estimate(noise, CAMERA) is None


def test_lifted_landmarks_lie_at_the_head_depth() -> None:
    t = (0.05, 0.0, 0.7)
    landmarks = synthetic_landmarks(0, 0, 0, t)
    pose = HeadPoseEstimator().estimate(landmarks, CAMERA)
    lifted = lift_landmarks(landmarks, pose, CAMERA)
    assert lifted.shape == (478, 3)
    np.testing.assert_allclose(lifted[:, 2], 0.7, atol=1e-3)  # z = 0 in the synthetic landmarks
    # back-projecting the lifted points gives the image points again
    u = CAMERA.fx * lifted[:, 0] / lifted[:, 2] + CAMERA.cx
    np.testing.assert_allclose(u / CAMERA.width, landmarks[:, 0], atol=1e-5)


def test_quaternion_matches_rotation() -> None:
    for angles in [(0, 0, 0), (30, -20, 10), (170, 5, -80)]:
        r = rotation_from_angles(*angles)
        np.testing.assert_allclose(quaternion_to_rotation(*rotation_to_quaternion(r)), r, atol=1e-9)
