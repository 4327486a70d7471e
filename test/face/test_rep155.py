"""attune.face.rep155: REP-155 face ids, the 70-point landmark layout (checked for anatomy on MediaPipe's
own golden landmarks of a real portrait), expression names, FACS codes and cropped faces."""
from __future__ import annotations

import re

import numpy as np
import pytest

from attune.face.rep155 import (
    MEDIAPIPE_FOR_70,
    PUPILS,
    cropped_face,
    expression_name,
    face_id,
    facs_code,
    landmarks_70,
    person_id,
)
from test.conftest import shared_data

#: A REP-155 id must work as one token of a ROS topic name (/humans/faces/<id>/roi).
ROS_NAME_TOKEN = re.compile(r'[A-Za-z][A-Za-z0-9_]*')


def golden_landmarks() -> np.ndarray:
    """MediaPipe's golden 478 landmarks of portrait.jpg (x, y normalized)."""
    text = shared_data('mediapipe', 'mediapipe_golden', 'portrait_expected_face_landmarks.pbtxt').read_text()
    xs = [float(v) for v in re.findall(r'\bx: (-?[\d.e+-]+)', text)]
    ys = [float(v) for v in re.findall(r'\by: (-?[\d.e+-]+)', text)]
    return np.stack([xs, ys, np.zeros(len(xs))], axis=1)


@pytest.mark.parametrize('track_id', ['abcde', 'f1', 'f12', 'Xy_z9'])
def test_valid_track_ids_are_kept(track_id: str) -> None:
    assert face_id(track_id) == track_id


@pytest.mark.parametrize('track_id', ['1abc', 'a-b', 'a__b', '', '  ', 'x/y', 'é', 'ab_'])
def test_other_ids_become_valid_name_tokens_the_same_way_every_time(track_id: str) -> None:
    rep = face_id(track_id)
    assert ROS_NAME_TOKEN.fullmatch(rep) and '__' not in rep, rep
    assert face_id(track_id) == rep


def test_person_ids_of_identity_become_valid_tokens() -> None:
    assert person_id('person-1a2b3c4d') == 'p_person_1a2b3c4d'
    assert person_id('ada') == 'ada'


def test_distinct_track_ids_stay_distinct() -> None:
    ids = ['abcde', 'f1', 'f2', '1abc', '2abc', 'a-b', 'a_b', 'x/y']
    assert len({face_id(i) for i in ids}) == len(ids)


def test_layout_has_70_distinct_mesh_points() -> None:
    assert len(MEDIAPIPE_FOR_70) == 70
    assert len(set(MEDIAPIPE_FOR_70)) == 70
    assert max(MEDIAPIPE_FOR_70[:68]) < 468 and MEDIAPIPE_FOR_70[68:] == (468, 473)


def test_points_follow_the_70_point_anatomy_on_a_real_face() -> None:
    points, present = landmarks_70(golden_landmarks())
    assert present.all()
    x, y = points[:, 0], points[:, 1]
    # The person's right is the image's left for a frontal face.
    assert x[0] < x[8] < x[16]                       # jaw: right ear, menton, left ear
    assert y[8] == max(y[:17])                       # the menton is the lowest jaw point
    assert x[36] < x[39] < x[42] < x[45]             # eye corners: right outside/inside, left inside/outside
    assert x[17] < x[21] < x[22] < x[26]             # brows, right outside -> left outside
    assert max(y[17:27]) < min(y[36:48])             # brows above the eyes
    assert y[27] < y[30] and x[36] < x[30] < x[45]   # nose: sellion above the tip, between the eyes
    assert x[31] < x[33] < x[35]                     # nostrils right -> left
    assert x[48] < x[51] < x[54] and y[51] < y[57]   # mouth: corners, top above bottom
    assert y[62] < y[66]                             # inner lip: top above bottom
    for pupil, (outside, inside) in zip(PUPILS, ((36, 39), (42, 45))):
        lo, hi = sorted((x[outside], x[inside]))
        assert lo < x[pupil] < hi                    # each pupil between its eye's corners


def test_without_iris_refinement_the_pupils_are_missing() -> None:
    _points, present = landmarks_70(golden_landmarks()[:468])
    assert not present[list(PUPILS)].any() and present.sum() == 68
    with pytest.raises(ValueError, match='468 or 478'):
        landmarks_70(np.zeros((10, 3)))


def test_expression_names_and_facs_codes() -> None:
    assert [expression_name(n) for n in ('surprise', 'fear', 'disgust', 'anger', 'Happy', 'contempt')] == \
        ['surprised', 'scared', 'disgusted', 'angry', 'happy', 'contempt']
    assert [facs_code(n) for n in ('AU12', 'au06', 'AU1', 'AU99', 'smile', 'AU4x')] == [12, 6, 1, None, None, None]


def test_cropped_face_is_scaled_centred_and_padded() -> None:
    rgb = np.zeros((100, 200, 3), dtype=np.uint8)
    rgb[20:60, 50:70] = 255                                       # a 20 x 40 px "face"
    out = cropped_face(rgb, (50 / 200, 20 / 100, 70 / 200, 60 / 100), 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out[:, 16:48].min() == 255                             # 32 x 64 after scaling, centred
    assert out[:, :15].max() == 0 and out[:, 49:].max() == 0      # 0-padded at the sides
    assert cropped_face(rgb, (0.5, 0.5, 0.5, 0.9), 32).max() == 0  # an empty box: all padding
