"""attune/Faces and attune/Face <-> FaceFrame and TrackedFace (attune.ros.msg_faces), and
NormalizedRoi <-> BoundingBox (attune.ros.msg_normalized_roi)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune.face.types import FaceFrame, FaceObservation, HeadPose, TrackedFace
from attune.geometry import BoundingBox
from attune.ros import msg_faces, msg_normalized_roi
from test.ros.round_trip import assert_same, boxes, header, points, stamps, words

pytestmark = pytest.mark.ros


def rotation(yaw_deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@st.composite
def tracked_faces(draw: st.DrawFn) -> TrackedFace:
    pose = None
    if draw(st.booleans()):
        yaw = draw(st.floats(-80, 80, width=32))
        pose = HeadPose(yaw=yaw, pitch=draw(st.floats(-60, 60, width=32)), roll=draw(st.floats(-60, 60, width=32)),
                        rotation=rotation(yaw), translation=draw(points(1))[0].astype(np.float64))
    observation = FaceObservation(draw(boxes()), draw(st.floats(0, 1, width=32)), draw(st.none() | points()))
    return TrackedFace(id=draw(words), observation=observation, age_frames=draw(st.integers(0, 2**32 - 1)),
                       age_s=draw(st.floats(0, 1e5, width=32)), head_pose=pose,
                       landmarks_3d=draw(st.none() | points()))


@st.composite
def face_frames(draw: st.DrawFn) -> FaceFrame:
    return FaceFrame(stamp_ns=draw(stamps), width=draw(st.integers(1, 4096)), height=draw(st.integers(1, 4096)),
                     faces=tuple(draw(st.lists(tracked_faces(), max_size=3))))


@settings(max_examples=40, deadline=None)
@given(face_frames())
def test_faces_round_trip(frame: FaceFrame) -> None:
    assert_same(msg_faces.from_msg(msg_faces.to_msg(frame, header(frame.stamp_ns))), frame)


@settings(max_examples=40, deadline=None)
@given(boxes())
def test_normalized_roi_round_trip(box: BoundingBox) -> None:
    assert msg_normalized_roi.from_msg(msg_normalized_roi.to_msg(box)) == box


def test_faces_without_landmarks_carry_none() -> None:
    face = TrackedFace('t1', FaceObservation(BoundingBox(0.1, 0.2, 0.3, 0.4), 0.9, np.zeros((478, 3), np.float32)),
                       3, 0.1, landmarks_3d=np.ones((468, 3), np.float32))
    frame = FaceFrame(5, 640, 480, (face,))
    back = msg_faces.from_msg(msg_faces.to_msg(frame, header(5), landmarks=False, landmarks_3d=False)).faces[0]
    assert back.observation.landmarks is None and back.landmarks_3d is None and back.head_pose is None


def test_a_malformed_landmark_array_is_refused() -> None:
    msg = msg_faces.to_msg(FaceFrame(5, 640, 480, (TrackedFace('t1', FaceObservation(
        BoundingBox(0.1, 0.2, 0.3, 0.4), 0.9, None), 1, 0.0),)), header(5))
    msg.faces[0].landmarks = [0.1, 0.2]
    with pytest.raises(ValueError, match='triplets'):
        msg_faces.from_msg(msg)


def test_fusion_inputs_place_a_face_without_pose_from_its_roi() -> None:
    frame = FaceFrame(5, 640, 480, (TrackedFace('t1', FaceObservation(BoundingBox(0.5, 0.5, 0.5, 0.5), 0.9, None),
                                                1, 0.0),))
    (face,) = msg_faces.fusion_inputs(msg_faces.to_msg(frame, header(5)))
    assert (face.id, face.confidence, face.position) == ('t1', pytest.approx(0.9), (0.0, 0.0, 1.0))
    assert math.isnan(face.yaw) and math.isnan(face.pitch)
