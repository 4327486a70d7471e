"""attune/Faces <-> FaceFrame, and sensor_msgs/Image <-> numpy, for rclpy messages."""
from __future__ import annotations

import array
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from sensor_msgs.msg import CameraInfo, Image

from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox, CameraIntrinsics, quaternion_to_rotation
from attune.imaging import array_to_fields
from attune.ros.interfaces import attune_msgs
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.msg import Face, Faces


def flat_points(points: np.ndarray | None) -> array.array:
    """(N, 3) points -> the flat float32 array of a message field (x0, y0, z0, x1, ...)."""
    if points is None:
        return array.array('f')
    return array.array('f', np.ascontiguousarray(points, dtype=np.float32).tobytes())


def points_from_flat(values: Any) -> np.ndarray | None:
    """A flat x, y, z message field -> (N, 3) float32, or None when empty.

    Raises:
        ValueError: the length is not a multiple of 3.
    """
    points = np.asarray(values, dtype=np.float32)
    if points.size == 0:
        return None
    if points.size % 3:
        raise ValueError(f'a flat landmark array must hold x, y, z triplets; got {points.size} values')
    return points.reshape(-1, 3)


def faces_to_msg(frame: FaceFrame, header: Header, *, landmarks: bool = True,
                 landmarks_3d: bool = True) -> Faces:
    """A Faces message for `frame`, carrying `header` (the source image's header)."""
    msgs = attune_msgs()
    out: Faces = msgs.Faces(header=header, image_width=frame.width, image_height=frame.height)
    for face in frame.faces:
        m: Face = msgs.Face(id=face.id, age_frames=face.age_frames, age_s=float(face.age_s))
        box = face.box
        m.roi = msgs.NormalizedRoi(xmin=box.xmin, ymin=box.ymin, xmax=box.xmax, ymax=box.ymax)
        m.detection_confidence = float(face.observation.confidence)
        if landmarks:
            m.landmarks = flat_points(face.observation.landmarks)
        if landmarks_3d:
            m.landmarks_3d = flat_points(face.landmarks_3d)
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
    """The FaceFrame carried by a Faces message (rotation matrices rebuilt from quaternions): an rclpy
    attune/Faces, or one read from a bag with rosbags (hence Any)."""
    faces = []
    for m in msg.faces:
        roi = m.roi
        observation = FaceObservation(box=BoundingBox(roi.xmin, roi.ymin, roi.xmax, roi.ymax),
                                      confidence=float(m.detection_confidence),
                                      landmarks=points_from_flat(m.landmarks))
        pose = None
        if m.pose_valid:
            o, p = m.head_pose.orientation, m.head_pose.position
            pose = HeadPose(yaw=m.yaw, pitch=m.pitch, roll=m.roll,
                            rotation=quaternion_to_rotation(o.x, o.y, o.z, o.w),
                            translation=np.array([p.x, p.y, p.z]))
        faces.append(TrackedFace(id=m.id, observation=observation, age_frames=m.age_frames,
                                 age_s=m.age_s, head_pose=pose, landmarks_3d=points_from_flat(m.landmarks_3d)))
    return FaceFrame(stamp_ns=to_ns(msg.header.stamp), width=msg.image_width,
                     height=msg.image_height, faces=tuple(faces))


def image_msg(array: np.ndarray, encoding: str, header: Header) -> Image:
    """A sensor_msgs/Image of `array` with the given encoding and header."""
    fields = array_to_fields(array, encoding)
    return Image(header=header, height=fields.height, width=fields.width, encoding=fields.encoding,
                 is_bigendian=fields.is_bigendian, step=fields.step, data=fields.data)


def intrinsics_from_camera_info(info: CameraInfo) -> CameraIntrinsics | None:
    """Pinhole intrinsics from a CameraInfo, or None if it carries no calibration (K all zero)."""
    k = list(info.k)
    if info.width == 0 or info.height == 0 or k[0] <= 0 or k[4] <= 0:
        return None
    known_model = info.distortion_model in ('plumb_bob', 'rational_polynomial')
    distortion = tuple(float(d) for d in info.d) if known_model else ()
    return CameraIntrinsics(width=info.width, height=info.height, fx=k[0], fy=k[4], cx=k[2], cy=k[5],
                            distortion=distortion)
