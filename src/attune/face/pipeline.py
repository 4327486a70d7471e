"""The face pipeline: MediaPipe analysis -> tracking with stable ids -> head pose (no rclpy)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from attune.errors import ConfigError
from attune.face.head_pose import HeadPoseEstimator, lift_landmarks
from attune.face.mediapipe_face import FaceAnalyzer, FaceAnalyzerOptions
from attune.face.types import FaceFrame, HeadPose, TrackedFace
from attune.geometry import CameraIntrinsics
from attune.tracking import MultiObjectTracker, TrackerOptions


@dataclass(frozen=True)
class FacePipelineOptions:
    """analyzer and tracker options, plus:

    head_pose: estimate head pose (and 3D landmarks) where landmarks exist.
    fallback_hfov_deg: horizontal field of view assumed when no CameraInfo is known.
    """

    analyzer: FaceAnalyzerOptions = field(default_factory=FaceAnalyzerOptions)
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    head_pose: bool = True
    fallback_hfov_deg: float = 60.0

    def __post_init__(self) -> None:
        if not 10.0 <= self.fallback_hfov_deg <= 170.0:
            raise ConfigError(f'fallback_hfov_deg must be in [10, 170], got {self.fallback_hfov_deg}')


class FacePipeline:
    """Processes a stream of RGB frames into FaceFrames. Not thread-safe; one per image stream."""

    def __init__(self, options: FacePipelineOptions | None = None, *, seed: int | None = None) -> None:
        self.options = options or FacePipelineOptions()
        self._analyzer = FaceAnalyzer(self.options.analyzer)
        self._tracker = MultiObjectTracker(self.options.tracker, seed=seed)
        self._poses = HeadPoseEstimator()
        self._last_pose: dict[str, HeadPose] = {}

    def __enter__(self) -> FacePipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._analyzer.close()

    def reset_tracking(self) -> None:
        self._tracker.reset()
        self._last_pose.clear()

    def process(self, rgb: npt.NDArray[Any], stamp_ns: int,
                camera: CameraIntrinsics | None = None) -> FaceFrame:
        """Faces in one (H, W, 3) uint8 RGB frame taken at stamp_ns (nanoseconds)."""
        height, width = rgb.shape[:2]
        if camera is None:
            camera = CameraIntrinsics.from_hfov(width, height, self.options.fallback_hfov_deg)
        elif (camera.width, camera.height) != (width, height):
            camera = camera.scaled_to(width, height)
        observations = self._analyzer.process(rgb)
        matches = self._tracker.update([o.box for o in observations], stamp_ns * 1e-9)
        faces = []
        for match in matches:
            observation = observations[match.index]
            pose = landmarks_3d = None
            if self.options.head_pose and observation.landmarks is not None:
                pose = self._poses.estimate(observation.landmarks, camera, self._last_pose.get(match.track.id))
                if pose is not None:
                    landmarks_3d = lift_landmarks(observation.landmarks, pose, camera)
            if pose is not None:
                self._last_pose[match.track.id] = pose
            else:
                self._last_pose.pop(match.track.id, None)
            faces.append(TrackedFace(id=match.track.id, observation=observation,
                                     age_frames=match.track.hits, age_s=match.track.age_s,
                                     head_pose=pose, landmarks_3d=landmarks_3d))
        live = {t.id for t in self._tracker.tracks}
        for stale in [k for k in self._last_pose if k not in live]:
            del self._last_pose[stale]
        return FaceFrame(stamp_ns=stamp_ns, width=width, height=height, faces=tuple(faces))
