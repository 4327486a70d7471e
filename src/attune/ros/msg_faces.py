"""attune/Faces <-> attune.face.types.FaceFrame (and its sub-message attune/Face <-> TrackedFace), plus
the fusion's view of a Faces message (attune.behavior.state.FaceSighting, the face track's head pose
and position: a view, not a second dataclass of the message)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import quaternion_to_rotation
from attune.ros import msg_normalized_roi
from attune.ros.interfaces import attune_msgs
from attune.ros.msg_fields import flat_points, points_from_flat
from attune.ros.stamps import to_ns

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from attune.behavior.state import FaceSighting
    from attune.msg import Face, Faces


def face_to_msg(face: TrackedFace, *, landmarks: bool = True, landmarks_3d: bool = True) -> Face:
    """The attune/Face of one tracked face (head pose NaN and pose_valid false when unknown)."""
    m: Face = attune_msgs().Face(id=face.id, age_frames=face.age_frames, age_s=float(face.age_s))
    m.roi = msg_normalized_roi.to_msg(face.box)
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
        m.head_pose.position.x, m.head_pose.position.y, m.head_pose.position.z = float(t[0]), float(t[1]), float(t[2])
        o = m.head_pose.orientation
        o.x, o.y, o.z, o.w = pose.quaternion()
    return m


def face_from_msg(m: Face) -> TrackedFace:
    """The TrackedFace of an attune/Face (rotation matrix rebuilt from the quaternion).

    Raises:
        ValueError: a landmark array is not x, y, z triplets.
    """
    observation = FaceObservation(box=msg_normalized_roi.from_msg(m.roi), confidence=float(m.detection_confidence),
                                  landmarks=points_from_flat(m.landmarks))
    pose = None
    if m.pose_valid:
        o, p = m.head_pose.orientation, m.head_pose.position
        pose = HeadPose(yaw=m.yaw, pitch=m.pitch, roll=m.roll, rotation=quaternion_to_rotation(o.x, o.y, o.z, o.w),
                        translation=np.array([p.x, p.y, p.z]))
    return TrackedFace(id=m.id, observation=observation, age_frames=m.age_frames, age_s=m.age_s, head_pose=pose,
                       landmarks_3d=points_from_flat(m.landmarks_3d))


def to_msg(frame: FaceFrame, header: Header, *, landmarks: bool = True, landmarks_3d: bool = True) -> Faces:
    """A Faces message for `frame`, carrying `header` (the source image's header)."""
    out: Faces = attune_msgs().Faces(header=header, image_width=frame.width, image_height=frame.height)
    out.faces = [face_to_msg(face, landmarks=landmarks, landmarks_3d=landmarks_3d) for face in frame.faces]
    return out


def from_msg(msg: Faces) -> FaceFrame:
    """The FaceFrame carried by a Faces message: an rclpy attune/Faces, or one read from a bag with
    rosbags (the same fields; read from a bag it arrives as Any)."""
    return FaceFrame(stamp_ns=to_ns(msg.header.stamp), width=msg.image_width, height=msg.image_height,
                     faces=tuple(face_from_msg(m) for m in msg.faces))


def face_point(face: Face, hfov_deg: float, aspect: float) -> tuple[float, float, float]:
    """Where a face is in the camera optical frame: the head-pose position when valid, else the
    ROI centre's direction at 1 m (from the field of view)."""
    if face.pose_valid:
        p = face.head_pose.position
        return float(p.x), float(p.y), float(p.z)
    cx = 0.5 * (face.roi.xmin + face.roi.xmax) - 0.5
    cy = 0.5 * (face.roi.ymin + face.roi.ymax) - 0.5
    tan_h = math.tan(math.radians(hfov_deg) / 2)
    return 2 * cx * tan_h, 2 * cy * tan_h / aspect, 1.0


def fusion_inputs(msg: Faces, hfov_deg: float = 60.0) -> list[FaceSighting]:
    """The faces of a Faces message as the interaction fusion takes them (head pose only when
    pose_valid; the position from the head pose, else from the ROI and `hfov_deg`)."""
    # Imported here: the behaviour layer is the interaction node's, not the face node's, to load.
    from attune.behavior.state import FaceSighting

    aspect = msg.image_width / msg.image_height if msg.image_width and msg.image_height else 4 / 3
    out = []
    for face in msg.faces:
        valid = bool(face.pose_valid)
        out.append(FaceSighting(id=face.id, yaw=float(face.yaw) if valid else math.nan,
                              pitch=float(face.pitch) if valid else math.nan,
                              confidence=float(face.detection_confidence),
                              position=face_point(face, hfov_deg, aspect)))
    return out
