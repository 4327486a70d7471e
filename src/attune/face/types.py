"""Small typed results of the face pipeline (no rclpy).

Coordinates follow REP-155 and docs/interfaces.md: image points are normalized to [0, 1] by the
image width and height, origin top-left, x right, y down.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from attune.geometry import BoundingBox, rotation_to_quaternion


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """One face found in one image, before tracking.

    confidence is the face detector's score in [0, 1], or NaN when only the landmark tracker
    (FaceMesh) saw the face in this image.
    landmarks: (N, 3) float32, N = 478 (refined) or 468; x, y normalized, z MediaPipe's relative
    depth on the x scale. None when no landmarks were computed.
    keypoints: (6, 2) float32 detector keypoints (right eye, left eye, nose tip, mouth centre,
    right ear tragion, left ear tragion), normalized; None when the detector did not see the face.
    """

    box: BoundingBox
    confidence: float
    landmarks: npt.NDArray[Any] | None = None
    keypoints: npt.NDArray[Any] | None = None


@dataclass(frozen=True, eq=False)
class HeadPose:
    """Head orientation and position relative to the camera.

    rotation: 3x3, maps canonical-face-model coordinates into the camera optical frame
    (x right, y down, z forward); translation: the model origin in that frame, metres.
    yaw, pitch, roll: degrees, with the signs documented in msg/Face.msg.
    """

    yaw: float
    pitch: float
    roll: float
    rotation: npt.NDArray[Any] = field(repr=False)
    translation: npt.NDArray[Any] = field(repr=False)
    reprojection_error_px: float = float('nan')

    def quaternion(self) -> tuple[float, float, float, float]:
        """The rotation as a unit quaternion (x, y, z, w)."""
        return rotation_to_quaternion(self.rotation)


@dataclass(frozen=True, eq=False)
class TrackedFace:
    """A face observation with its stable track id, age and head pose."""

    id: str
    observation: FaceObservation
    age_frames: int
    age_s: float
    head_pose: HeadPose | None = None
    landmarks_3d: npt.NDArray[Any] | None = None

    @property
    def box(self) -> BoundingBox:
        return self.observation.box


@dataclass(frozen=True, eq=False)
class FaceFrame:
    """Everything the face pipeline found in one image."""

    stamp_ns: int
    width: int
    height: int
    faces: tuple[TrackedFace, ...] = ()
