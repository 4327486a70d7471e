"""Regressions (issue 14): Faces no camera could produce cost nothing and yield nothing.

A probe found that a Faces message with 200 faces ran the CNN 200 times, and that landmarks of
+-1e30 or never-published track ids gave confident Expressions. Every node's subscriptions are
screened by the shell (attune.ros.screen); here through a real expression node and the core checks.
"""
from __future__ import annotations

import copy
from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest

from attune.face.types import FaceFrame
from attune.limits import FaceLimits, face_problem
from attune.ros import msg_faces
from attune.ros.screen import MAX_STRING_CHARS, MessageScreen
from test.conftest import shared_data
from test.nodes.test_expression_node import Harness, faces_frame, header

pytestmark = pytest.mark.ros


@cache
def one_photo() -> SimpleNamespace:
    """A real face (London set, person 001 neutral, at half size) and its FaceMesh landmarks."""
    import cv2

    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    rgb = cv2.cvtColor(cv2.imread(str(shared_data('faces', 'london_ccby', 'neutral', '001_03.jpg'))),
                       cv2.COLOR_BGR2RGB)
    rgb = np.ascontiguousarray(cv2.resize(rgb, (675, 675), interpolation=cv2.INTER_AREA))
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        (face,) = analyzer.process(rgb)
    return SimpleNamespace(rgb=rgb, landmarks=face.landmarks)


def one_face_frame(n: int, landmarks: np.ndarray, size: int) -> FaceFrame:
    return faces_frame([f'f{i}' for i in range(n)], [landmarks] * n, size, size)


def test_core_screen_caps_faces_and_drops_impossible_ones(rclpy_session) -> None:
    photo = one_photo()
    size = photo.rgb.shape[1]
    msg = msg_faces.to_msg(one_face_frame(200, photo.landmarks, size), header(1_700_000_000_000_000_000))
    far = copy.deepcopy(msg.faces[0])
    far.id = 'far'
    far.landmarks = (np.asarray(far.landmarks) * 1e30).astype(np.float32)
    msg.faces.insert(0, far)
    screen = MessageScreen(limits=FaceLimits(max_faces=20))
    rejections = screen.rejections(msg, 1_700_000_000_000_000_000)
    assert [r.kind for r in rejections] == ['face_out_of_range', 'faces_over_limit']
    assert rejections[1].n == 180 and [f.id for f in msg.faces] == [f'f{i}' for i in range(20)]
    assert not screen.drops_message(rejections)
    assert face_problem(far) and 'far outside the image' in face_problem(far)
    nan = copy.deepcopy(msg.faces[0])
    nan.landmarks[5] = float('nan')
    assert 'NaN' in face_problem(nan)
    huge_id = copy.deepcopy(msg.faces[0])
    huge_id.id = 'x' * 100_000
    assert 'characters' in face_problem(huge_id)


def test_stamps_strings_and_unknown_tracks_are_dropped(rclpy_session) -> None:
    from attune.msg import Expression, Face, Faces

    now = 1_700_000_000_000_000_000
    screen = MessageScreen(has_faces_input=True)
    assert screen.rejections(Faces(header=header(now), image_width=640, image_height=480), now) == []
    future = Expression(header=header(now + 3 * 86_400 * 10**9), face_id='')
    assert [r.kind for r in screen.rejections(future, now)] == ['absurd_stamp']
    bad_ns = Expression(header=header(now), face_id='')
    bad_ns.header.stamp.nanosec = 1_500_000_000
    assert [r.kind for r in screen.rejections(bad_ns, now)] == ['absurd_stamp']
    long_label = Expression(header=header(now), label='x' * (MAX_STRING_CHARS + 1))
    assert [r.kind for r in screen.rejections(long_label, now)] == ['oversized']
    ghost = Expression(header=header(now), face_id='never_seen')
    assert [r.kind for r in screen.rejections(ghost, now)] == ['unknown_track']
    no_size = Faces(header=header(now), image_width=0, image_height=480)
    assert screen.rejections(no_size, now) == []  # nothing seen: no size needed
    no_size.faces.append(Face(id='f1'))
    assert [r.kind for r in screen.rejections(no_size, now)] == ['bad_faces']


def test_expression_node_answers_at_most_max_faces_and_nothing_far_outside(spinner) -> None:
    photo = one_photo()
    rgb = np.ascontiguousarray(photo.rgb)
    size = rgb.shape[1]
    h = Harness(spinner, 'expr_hostile', max_faces_per_message=20)
    ns = 1_700_000_000_000_000_000
    h.send(ns, rgb, one_face_frame(200, photo.landmarks, size), expect=20)
    far = photo.landmarks.copy()
    far[:, :2] *= 1e30
    ns += 33_333_333
    h.send(ns, rgb, faces_frame(['real', 'ghost'], [photo.landmarks, far], size, size), expect=1)
    # a valid frame after the hostile ones is still answered
    ns += 33_333_333
    h.send(ns, rgb, one_face_frame(1, photo.landmarks, size), expect=1)
    counts = h.node.bad_input.counts
    assert counts.get('faces_over_limit') == 180 and counts.get('face_out_of_range') == 1
    assert len(h.expressions) == 22
    assert [m.face_id for m in h.expressions[20:]] == ['real', 'f0']
    assert 'ghost' not in {m.face_id for m in h.expressions}
    values = {v.key: v.value for v in h.node.diagnostics().status[0].values}
    assert values['dropped_faces_over_limit'] == '180' and values['dropped_face_out_of_range'] == '1'
