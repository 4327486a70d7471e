"""Annotated images of face results: boxes, ids, landmarks and head-pose axes (debug image, demo)."""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.face.types import FaceFrame, HeadPose, TrackedFace

_PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
            (70, 240, 240), (240, 50, 230), (210, 245, 60)]


def colour_for(face_id: str) -> tuple[int, int, int]:
    """A stable RGB colour per id (same id, same colour, across runs)."""
    return _PALETTE[sum(face_id.encode()) % len(_PALETTE)]


def draw_faces(rgb: npt.NDArray[Any], frame: FaceFrame, *, landmarks: bool = True) -> npt.NDArray[Any]:
    """A copy of the RGB image with every face of `frame` drawn on it."""
    out = np.array(rgb, copy=True)
    for face in frame.faces:
        _draw_face(out, face, landmarks=landmarks)
    return out


def _draw_face(out: npt.NDArray[Any], face: TrackedFace, *, landmarks: bool) -> None:
    height, width = out.shape[:2]
    colour = colour_for(face.id)
    x0, y0, x1, y1 = face.box.to_pixels(width, height)
    thickness = max(1, round(min(width, height) / 300))
    cv2.rectangle(out, (x0, y0), (x1, y1), colour, thickness)
    label = face.id
    if face.head_pose is not None:
        p = face.head_pose
        label += f' y{p.yaw:+.0f} p{p.pitch:+.0f} r{p.roll:+.0f}'
    scale = max(0.4, min(width, height) / 900)
    cv2.putText(out, label, (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour,
                thickness, cv2.LINE_AA)
    points = face.observation.landmarks
    if landmarks and points is not None:
        for x, y in (points[:, :2] * (width, height)).astype(np.int32)[::3]:
            cv2.circle(out, (int(x), int(y)), 1, colour, -1, cv2.LINE_AA)
    if face.head_pose is not None and points is not None:
        _draw_axes(out, points[1, :2], face.head_pose, face.box.width, thickness)


def _draw_axes(out: npt.NDArray[Any], nose_xy: npt.NDArray[Any], pose: HeadPose, box_width: float,
               thickness: int) -> None:
    """The head's facing direction as an arrow from the nose tip (nose_xy and box_width normalized)."""
    height, width = out.shape[:2]
    nose = nose_xy * (width, height)
    yaw, pitch = math.radians(pose.yaw), math.radians(pose.pitch)
    length = 0.6 * box_width * width
    tip = nose + length * np.array([math.sin(yaw) * math.cos(pitch), -math.sin(pitch)])
    cv2.arrowedLine(out, tuple(int(v) for v in nose), tuple(int(v) for v in tip), (255, 255, 255),
                    thickness + 1, cv2.LINE_AA, tipLength=0.25)
