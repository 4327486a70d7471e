"""Head pose from FaceMesh landmarks: solvePnP against MediaPipe's canonical face model.

Conventions (also in msg/Face.msg): the canonical model has x toward the face's left (the image's
right when the person faces a non-mirrored camera), y up, z out of the face. solvePnP returns R, t
with X_camera = R X_model + t in the optical frame (x right, y down, z forward). A person looking
straight into the camera from the image centre has R = diag(1, -1, -1).

yaw, pitch and roll are measured against the line of sight, the ray from the camera to the head:
they are all 0 when the person faces the camera, wherever their face is in the image. (Camera-frame
angles would call a person above the optical axis who looks at the robot "pitched down"; for
attention toward the robot, the line of sight is the reference that matters.) The head rotation in
line-of-sight axes with model-like orientation, H = diag(1, -1, -1) L^T R (L: the line-of-sight
frame), is decomposed as H = Ry(yaw) Rx(-pitch) Rz(-roll): yaw > 0 turns the face toward the image's
right, pitch > 0 looks up, roll > 0 tilts the head clockwise in the image. The full camera-frame
pose stays available as (rotation, translation).
"""
from __future__ import annotations

import math
from functools import cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.face.types import HeadPose
from attune.geometry import CameraIntrinsics
from attune.resources import package_data

#: Landmarks used for PnP: forehead, nose bridge and tip, eye corners, cheekbones, temples and jaw
#: angles. Mouth, lids, brows and chin are left out because expressions move them.
RIGID_LANDMARKS: tuple[int, ...] = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1,          # midline: forehead to nose tip
    33, 133, 263, 362,                                # eye corners
    226, 446, 31, 261, 117, 346, 118, 347, 50, 280,   # under the eyes, cheekbones
    127, 356, 234, 454, 93, 323,                      # temples, face sides
    98, 327, 129, 358, 209, 429,                      # nose wings
    67, 297, 109, 338, 103, 332,                      # forehead sides
)

#: From the optical frame (y down, z forward) to model-like axes (y up, z toward the camera).
_FLIP = np.diag([1.0, -1.0, -1.0])


@cache
def canonical_face_model() -> npt.NDArray[Any]:
    """The 468 canonical face-model vertices, (468, 3) float64, in metres."""
    path = package_data('face', 'data', 'canonical_face_model.txt')
    points = np.loadtxt(path, dtype=np.float64, comments='#')
    if points.shape != (468, 3):
        raise ValueError(f'{path}: expected 468 x 3 vertices, found {points.shape}')
    return points / 100.0  # centimetres -> metres


def line_of_sight_frame(translation: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Rotation whose z axis points from the camera to `translation`, x kept horizontal.

    Columns are the frame's axes in optical coordinates; the identity for a head on the optical axis.
    """
    tx, ty, tz = (float(v) for v in translation)
    norm = math.sqrt(tx * tx + ty * ty + tz * tz)
    zx, zy, zz = tx / norm, ty / norm, tz / norm
    # x = (0, 1, 0) x z, normalized; y = z x x. Written out: np.cross costs ~0.1 ms per call.
    horizontal = math.hypot(zz, zx)
    xx, xy, xz = zz / horizontal, 0.0, -zx / horizontal
    yx, yy, yz = zy * xz - zz * xy, zz * xx - zx * xz, zx * xy - zy * xx
    return np.array([[xx, yx, zx], [xy, yy, zy], [xz, yz, zz]])


def angles_from_rotation(rotation: npt.NDArray[Any],
                         translation: npt.NDArray[Any] | None = None) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from an optical-frame rotation (see the module docstring).

    With translation, the angles are relative to the line of sight to that point; without, to the
    optical axis (camera-frame angles).
    """
    if translation is not None:
        rotation = line_of_sight_frame(translation).T @ rotation
    h = _FLIP @ rotation
    pitch_rad = -math.asin(max(-1.0, min(1.0, -h[1, 2])))
    yaw = math.atan2(h[0, 2], h[2, 2])
    roll = -math.atan2(h[1, 0], h[1, 1])
    return math.degrees(yaw), math.degrees(pitch_rad), math.degrees(roll)


def rotation_from_angles(yaw: float, pitch: float, roll: float,
                         translation: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
    """The optical-frame rotation for (yaw, pitch, roll) in degrees; inverse of angles_from_rotation."""
    a, b, c = math.radians(yaw), math.radians(-pitch), math.radians(-roll)
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    rotation: npt.NDArray[Any] = _FLIP @ (ry @ rx @ rz)
    if translation is not None:
        rotation = line_of_sight_frame(translation) @ rotation
    return rotation


def project_model(rotation: npt.NDArray[Any], translation: npt.NDArray[Any], camera: CameraIntrinsics,
                  model: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
    """Project model points (default: the canonical model) to normalized image coordinates (N, 2)."""
    model = canonical_face_model() if model is None else model
    cam = model @ rotation.T + translation
    u = camera.fx * cam[:, 0] / cam[:, 2] + camera.cx
    v = camera.fy * cam[:, 1] / cam[:, 2] + camera.cy
    return np.stack([u / camera.width, v / camera.height], axis=1)


class HeadPoseEstimator:
    """Estimates head pose from normalized FaceMesh landmarks with cv2.solvePnP.

    Args:
        landmark_ids: the model vertices (= FaceMesh landmark indices) used for PnP.
        max_reprojection_error_px: poses whose RMS reprojection error exceeds this are rejected.
    """

    def __init__(self, landmark_ids: tuple[int, ...] = RIGID_LANDMARKS,
                 max_reprojection_error_px: float = 25.0) -> None:
        self._ids = np.asarray(landmark_ids, dtype=np.int64)
        self._model = canonical_face_model()[self._ids]
        self._max_error = max_reprojection_error_px

    def estimate(self, landmarks: npt.NDArray[Any], camera: CameraIntrinsics,
                 previous: HeadPose | None = None) -> HeadPose | None:
        """Head pose from (N >= 468, >=2) normalized landmarks, or None if no plausible pose fits.

        previous, when given (the same track's last pose), seeds an iterative refinement, which
        keeps the estimate stable from frame to frame.
        """
        if landmarks.shape[0] < 468 or not np.all(np.isfinite(landmarks[self._ids, :2])):
            return None
        image_points = landmarks[self._ids, :2].astype(np.float64) * (camera.width, camera.height)
        k = camera.matrix()
        # Any: OpenCV takes None for "no distortion", which its stubs (MatLike only) do not allow.
        dist: Any = np.asarray(camera.distortion, dtype=np.float64) if camera.distortion else None
        if previous is not None:
            rvec_guess, _ = cv2.Rodrigues(previous.rotation)
            tvec_guess = previous.translation.reshape(3, 1).astype(np.float64).copy()
            ok, rvec, tvec = cv2.solvePnP(self._model, image_points, k, dist, rvec=rvec_guess, tvec=tvec_guess,
                                          useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
        else:
            ok, rvec, tvec = cv2.solvePnP(self._model, image_points, k, dist, flags=cv2.SOLVEPNP_SQPNP)
        if not ok or tvec[2, 0] <= 0:
            return None
        projected, _ = cv2.projectPoints(self._model, rvec, tvec, k, dist)
        error = float(np.sqrt(np.mean(np.sum((projected.reshape(-1, 2) - image_points) ** 2, axis=1))))
        if not math.isfinite(error) or error > self._max_error:
            return None
        rotation, _ = cv2.Rodrigues(rvec)
        yaw, pitch, roll = angles_from_rotation(rotation, tvec.reshape(3))
        return HeadPose(yaw=yaw, pitch=pitch, roll=roll, rotation=rotation,
                        translation=tvec.reshape(3).copy(), reprojection_error_px=error)


def lift_landmarks(landmarks: npt.NDArray[Any], pose: HeadPose, camera: CameraIntrinsics) -> npt.NDArray[Any]:
    """3D landmarks in metres in the optical frame, (N, 3) float32.

    Each landmark's depth is the head's depth plus its MediaPipe relative depth converted to metres
    at that distance (z is on the x scale: z * width pixels, and a pixel is depth / fx metres);
    x and y then follow from the pinhole model. An approximation that is good near the face's own
    depth, which is where the landmarks are.
    """
    depth = float(pose.translation[2])
    z = depth + landmarks[:, 2].astype(np.float64) * camera.width * depth / camera.fx
    u = landmarks[:, 0].astype(np.float64) * camera.width
    v = landmarks[:, 1].astype(np.float64) * camera.height
    x = (u - camera.cx) * z / camera.fx
    y = (v - camera.cy) * z / camera.fy
    points: npt.NDArray[np.float32] = np.stack([x, y, z], axis=1).astype(np.float32)
    return points
