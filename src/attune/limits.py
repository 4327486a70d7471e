"""Physical ranges of what attune/Faces may carry, so consumers drop input no camera could produce.

The face node's Faces come from a camera: normalized boxes and landmarks near [0, 1], at most a few
hundred points, ids of a few letters. Anyone on the network can publish Faces with 200 faces,
landmarks of 1e30 or ids of a megabyte; fed on, they cost a CNN run each and come out as confident
results. face_problem() names what is outside the ranges ('' when nothing is); Faces consumers drop
such faces, keep at most FaceLimits.max_faces per message and count both (attune.ros.screen).
Works on message-shaped objects (rclpy or rosbags attune/Face); no rclpy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: Faces a consumer analyses per message by default (the face node follows at most 20).
DEFAULT_MAX_FACES = 20


@dataclass(frozen=True)
class FaceLimits:
    """max_faces: faces per message kept; coordinate_margin: how far (in image widths/heights)
    boxes and landmarks may lie outside the image; max_points: landmarks per face (478 refined);
    max_depth: |z| of normalized landmarks; max_id_chars: length of a track id."""

    max_faces: int = DEFAULT_MAX_FACES
    coordinate_margin: float = 1.0
    max_points: int = 478
    max_depth: float = 10.0
    max_id_chars: int = 64
    max_image_side: int = 65_536


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def image_size_problem(width: int, height: int, limits: FaceLimits = FaceLimits()) -> str:
    if not (0 < width <= limits.max_image_side and 0 < height <= limits.max_image_side):
        return f'image size {width}x{height} is outside 1..{limits.max_image_side}'
    return ''


def id_problem(track_id: str, limits: FaceLimits = FaceLimits()) -> str:
    if not track_id:
        return 'empty track id'
    if len(track_id) > limits.max_id_chars:
        return f'track id of {len(track_id)} characters (at most {limits.max_id_chars})'
    if not (track_id.isascii() and track_id.isprintable()) or ' ' in track_id:
        return 'track id with spaces or characters outside printable ASCII'
    return ''


def face_problem(face: Any, limits: FaceLimits = FaceLimits()) -> str:
    """Why one attune/Face is outside physical ranges, or '' when it is not."""
    problem = id_problem(str(face.id), limits)
    if problem:
        return problem
    lo, hi = -limits.coordinate_margin, 1.0 + limits.coordinate_margin
    roi = face.roi
    box = (float(roi.xmin), float(roi.ymin), float(roi.xmax), float(roi.ymax))
    if not _finite(*box) or not (lo <= min(box) and max(box) <= hi) or box[0] >= box[2] or box[1] >= box[3]:
        return f'box {tuple(round(v, 3) for v in box)} is zero-size, not finite or far outside the image'
    confidence = float(face.detection_confidence)
    if not (0.0 <= confidence <= 1.0):
        return f'detection confidence {confidence} is outside 0..1'
    if not (math.isfinite(float(face.age_s)) and float(face.age_s) >= 0.0):
        return f'age_s {face.age_s} is negative or not finite'
    for name in ('landmarks', 'landmarks_3d'):
        problem = _points_problem(name, face, getattr(face, name), lo, hi, limits)
        if problem:
            return problem
    if face.pose_valid:
        angles = (float(face.yaw), float(face.pitch), float(face.roll))
        p, o = face.head_pose.position, face.head_pose.orientation
        if not _finite(p.x, p.y, p.z, o.x, o.y, o.z, o.w) or any(abs(a) > 180.0 for a in angles):
            return 'head pose not finite or angles beyond 180 degrees (NaN: unknown, allowed)'
        if not 0.5 < math.sqrt(o.x * o.x + o.y * o.y + o.z * o.z + o.w * o.w) < 1.5:
            return 'head pose orientation is not a unit quaternion'
    return ''


def _points_problem(name: str, face: Any, values: Any, lo: float, hi: float, limits: FaceLimits) -> str:
    import numpy as np

    points = np.asarray(values, dtype=np.float64)
    if points.size == 0:
        return ''
    if points.size % 3 or points.size > 3 * limits.max_points:
        return f'{name} has {points.size} values (x, y, z triplets, at most {limits.max_points} points)'
    if name == 'landmarks_3d':  # metric, camera frame: finite and within 100 m is all physics says
        return '' if np.isfinite(points).all() and np.abs(points).max() < 100.0 else f'{name} beyond 100 m'
    xyz = points.reshape(-1, 3)
    if not np.isfinite(xyz).all():
        return f'{name} hold NaN or infinite values'
    if xyz[:, :2].min() < lo or xyz[:, :2].max() > hi or np.abs(xyz[:, 2]).max() > limits.max_depth:
        return f'{name} lie far outside the image (normalized x, y in {lo:g}..{hi:g})'
    return ''
