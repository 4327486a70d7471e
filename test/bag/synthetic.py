"""Synthetic messages built with attune's rosbags typestore, for bag tests (no rclpy)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from attune.bag import attune_typestore

FACES_TYPE = 'attune/msg/Faces'
EXPRESSION_TYPE = 'attune/msg/Expression'


@dataclass(frozen=True)
class FakeFace:
    id: str
    confidence: float = 0.9
    yaw: float = math.nan


def header(stamp_ns: int, frame_id: str = 'camera') -> Any:
    types = attune_typestore().types
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return types['std_msgs/msg/Header'](stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec),
                                        frame_id=frame_id)


def face_message(face: FakeFace) -> Any:
    types = attune_typestore().types
    point = types['geometry_msgs/msg/Point']
    quaternion = types['geometry_msgs/msg/Quaternion']
    return types['attune/msg/Face'](
        id=face.id, roi=types['attune/msg/NormalizedRoi'](xmin=0.25, ymin=0.25, xmax=0.75, ymax=0.75),
        detection_confidence=face.confidence, age_frames=1, age_s=0.0,
        landmarks=np.array([0.5, 0.5, 0.0], dtype=np.float32), landmarks_3d=np.array([], dtype=np.float32),
        yaw=face.yaw, pitch=math.nan, roll=math.nan,
        head_pose=types['geometry_msgs/msg/Pose'](position=point(x=0.0, y=0.0, z=0.5),
                                                  orientation=quaternion(x=0.0, y=0.0, z=0.0, w=1.0)),
        pose_valid=not math.isnan(face.yaw))


def faces_message(stamp_ns: int, faces: list[FakeFace], width: int = 64, height: int = 48) -> Any:
    """An attune/msg/Faces as the face node publishes it for one image."""
    types = attune_typestore().types
    return types[FACES_TYPE](header=header(stamp_ns), image_width=width, image_height=height,
                             faces=[face_message(f) for f in faces])


def expression_message(stamp_ns: int, face_id: str, label: str, confidence: float = 0.8, calibrated: bool = False,
                       source: str = 'ensemble') -> Any:
    """An attune/msg/Expression as the expression node publishes it for one face of one image."""
    types = attune_typestore().types
    return types[EXPRESSION_TYPE](
        header=header(stamp_ns), face_id=face_id, label=label, confidence=confidence, labels=[label],
        probabilities=np.array([confidence], dtype=np.float32), valence=math.nan, arousal=math.nan,
        action_units=[], au_intensities=np.array([], dtype=np.float32), source=source, calibrated=calibrated)


def random_frames(count: int, width: int = 64, height: int = 48, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]
