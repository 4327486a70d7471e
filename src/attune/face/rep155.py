"""attune's face results in REP-155 (ROS4HRI) terms, without ROS: ids, the 70-point landmark layout,
expression names and FACS codes. attune.ros.hri_msgs builds the messages from these.

REP-155 face ids: unique, short, not persistent (valid while the face is tracked), and usable as a
topic name token (/humans/faces/<id>/roi), so only letters, digits and '_' and no leading digit.
attune's track ids (5 random letters, or f1, f2, ... with deterministic_ids) already are; anything
else is made valid the same way every time, so one track keeps one REP-155 id.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt

#: The 70-point layout of hri_msgs/FacialLandmarks (dlib/iBUG 68 points, then right and left pupil),
#: as MediaPipe FaceMesh indices. "Right" is the person's right (the image's left for a frontal face).
#: Jaw 0-16 from the person's right ear to the left; brows 17-26; nose 27-35; eyes 36-47; mouth 48-67.
MEDIAPIPE_FOR_70: tuple[int, ...] = (
    # 0-16 jaw contour
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
    # 17-21 right brow (outside -> inside), 22-26 left brow (inside -> outside)
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    # 27-30 nose bridge (sellion -> tip), 31-35 nostrils (right -> left)
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    # 36-41 right eye (outside, top 1, top 2, inside, bottom 2, bottom 1), 42-47 left eye
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    # 48-59 outer lip (right corner, top, left corner, bottom), 60-67 inner lip
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181, 78, 82, 13, 312, 308, 317, 14, 87,
    # 68 right pupil, 69 left pupil (iris centres; only with refined, 478-point landmarks)
    468, 473,
)
PUPILS = (68, 69)

#: attune expression labels -> hri_msgs/Expression names (labels without a match are passed as they are).
EXPRESSION_NAMES = {
    'neutral': 'neutral', 'happy': 'happy', 'sad': 'sad', 'surprise': 'surprised', 'fear': 'scared',
    'disgust': 'disgusted', 'anger': 'angry', 'angry': 'angry', 'surprised': 'surprised', 'scared': 'scared',
    'disgusted': 'disgusted', 'fearful': 'scared',
}

#: Size of hri_msgs/FacialActionUnits' intensity and confidence arrays (one slot per FACS code).
FACS_SLOTS = 99

_VALID_ID = re.compile(r'[A-Za-z][A-Za-z0-9_]*')
_AU_NAME = re.compile(r'AU0*([0-9]{1,2})', re.IGNORECASE)


def _rep155_id(raw: str, prefix: str) -> str:
    if _VALID_ID.fullmatch(raw) and '__' not in raw and not raw.endswith('_'):
        return raw
    cleaned = re.sub(r'[^A-Za-z0-9]+', '_', raw).strip('_')
    return f'{prefix}_{cleaned}' if cleaned else prefix


def face_id(track_id: str) -> str:
    """The REP-155 face id of an attune track id (the same id when it is already valid)."""
    return _rep155_id(track_id, 'f')


def person_id(attune_person_id: str) -> str:
    """The REP-155 person id of an enrolled person's id ('person-1a2b3c4d' -> 'p_person_1a2b3c4d')."""
    return _rep155_id(attune_person_id, 'p')


def landmarks_70(landmarks: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """MediaPipe landmarks (N, >=2; x, y normalized) -> the 70 REP-155 points (70, 2) and a mask of
    the points that exist (the pupils need the 478-point refined mesh; without it they are False)."""
    points = np.asarray(landmarks, dtype=np.float32)
    if points.ndim != 2 or points.shape[1] < 2 or len(points) < 468:
        raise ValueError(f'expected MediaPipe FaceMesh landmarks (468 or 478, x y ...), got shape {points.shape}')
    index = np.asarray(MEDIAPIPE_FOR_70)
    present = index < len(points)
    out = np.zeros((70, 2), dtype=np.float32)
    out[present] = points[index[present], :2]
    return out, present


def expression_name(label: str) -> str:
    """hri_msgs/Expression's name for an attune label ('' stays '')."""
    return EXPRESSION_NAMES.get(label.lower(), label.lower())


def facs_code(name: str) -> int | None:
    """The FACS code of an action unit name like 'AU12' or 'au06' (None if it is not one)."""
    match = _AU_NAME.fullmatch(name.strip())
    if not match:
        return None
    code = int(match.group(1))
    return code if 0 <= code < FACS_SLOTS else None


def cropped_face(rgb: npt.NDArray[Any], box: tuple[float, float, float, float], size: int) -> npt.NDArray[Any]:
    """The face in `box` (xmin, ymin, xmax, ymax, normalized) as a size x size RGB image: scaled to
    fit, centred and 0-padded (REP-155's /humans/faces/<id>/cropped)."""
    import cv2

    height, width = rgb.shape[:2]
    x0, x1 = (int(round(min(max(v, 0.0), 1.0) * width)) for v in (box[0], box[2]))
    y0, y1 = (int(round(min(max(v, 0.0), 1.0) * height)) for v in (box[1], box[3]))
    out = np.zeros((size, size, 3), dtype=np.uint8)
    if x1 <= x0 or y1 <= y0:
        return out
    crop = rgb[y0:y1, x0:x1]
    scale = size / max(crop.shape[0], crop.shape[1])
    w, h = max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))
    resized = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (size - h) // 2, (size - w) // 2
    out[top:top + h, left:left + w] = resized
    return out
