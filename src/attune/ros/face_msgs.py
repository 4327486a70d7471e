"""attune/Faces <-> FaceFrame, and sensor_msgs/Image <-> numpy, for rclpy messages."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from geometry_msgs.msg import Point32
from sensor_msgs.msg import CameraInfo, Image

from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox, CameraIntrinsics
from attune.imaging import array_to_fields
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import to_ns


def _points(array: np.ndarray | None) -> list[Point32]:
    if array is None:
        return []
    return [Point32(x=x, y=y, z=z) for x, y, z in array.tolist()]


def _array(points: Any) -> np.ndarray | None:
    if not points:
        return None
    return np.array([(p.x, p.y, p.z) for p in points], dtype=np.float32)


def faces_to_msg(frame: FaceFrame, header: Any, *, landmarks: bool = True,
                 landmarks_3d: bool = True) -> Any:
    """A Faces message for `frame`, carrying `header` (the source image's header)."""
    msgs = attune_msgs()
    out = msgs.Faces(header=header, image_width=frame.width, image_height=frame.height)
    for face in frame.faces:
        m = msgs.Face(id=face.id, age_frames=face.age_frames, age_s=float(face.age_s))
        box = face.box
        m.roi = msgs.NormalizedRoi(xmin=box.xmin, ymin=box.ymin, xmax=box.xmax, ymax=box.ymax)
        m.detection_confidence = float(face.observation.confidence)
        if landmarks:
            m.landmarks = _points(face.observation.landmarks)
        if landmarks_3d:
            m.landmarks_3d = _points(face.landmarks_3d)
        pose = face.head_pose
        if pose is None:
            m.yaw = m.pitch = m.roll = math.nan
        else:
            m.yaw, m.pitch, m.roll = float(pose.yaw), float(pose.pitch), float(pose.roll)
            m.pose_valid = True
            t = pose.translation
            m.head_pose.position.x, m.head_pose.position.y, m.head_pose.position.z = (
                float(t[0]), float(t[1]), float(t[2]))
            q = pose.quaternion()
            o = m.head_pose.orientation
            o.x, o.y, o.z, o.w = q
        out.faces.append(m)
    return out


def faces_from_msg(msg: Any) -> FaceFrame:
    """The FaceFrame carried by a Faces message (rotation matrices rebuilt from quaternions)."""
    faces = []
    for m in msg.faces:
        roi = m.roi
        observation = FaceObservation(box=BoundingBox(roi.xmin, roi.ymin, roi.xmax, roi.ymax),
                                      confidence=float(m.detection_confidence),
                                      landmarks=_array(m.landmarks))
        pose = None
        if m.pose_valid:
            o, p = m.head_pose.orientation, m.head_pose.position
            pose = HeadPose(yaw=m.yaw, pitch=m.pitch, roll=m.roll,
                            rotation=quaternion_to_rotation(o.x, o.y, o.z, o.w),
                            translation=np.array([p.x, p.y, p.z]))
        faces.append(TrackedFace(id=m.id, observation=observation, age_frames=m.age_frames,
                                 age_s=m.age_s, head_pose=pose, landmarks_3d=_array(m.landmarks_3d)))
    return FaceFrame(stamp_ns=to_ns(msg.header.stamp), width=msg.image_width,
                     height=msg.image_height, faces=tuple(faces))


def quaternion_to_rotation(x: float, y: float, z: float, w: float) -> np.ndarray:
    n = math.sqrt(x * x + y * y + z * z + w * w) or 1.0
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def image_msg(array: np.ndarray, encoding: str, header: Any) -> Image:
    """A sensor_msgs/Image of `array` with the given encoding and header."""
    fields = array_to_fields(array, encoding)
    return Image(header=header, height=fields.height, width=fields.width, encoding=fields.encoding,
                 is_bigendian=fields.is_bigendian, step=fields.step, data=fields.data)


def intrinsics_from_camera_info(info: CameraInfo) -> CameraIntrinsics | None:
    """Pinhole intrinsics from a CameraInfo, or None if it carries no calibration (K all zero)."""
    k = list(info.k)
    if info.width == 0 or info.height == 0 or k[0] <= 0 or k[4] <= 0:
        return None
    distortion = tuple(float(d) for d in info.d) if info.distortion_model in ('plumb_bob', 'rational_polynomial') else ()
    return CameraIntrinsics(width=info.width, height=info.height, fx=k[0], fy=k[4], cx=k[2], cy=k[5],
                            distortion=distortion)
