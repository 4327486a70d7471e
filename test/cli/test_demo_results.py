"""The demo's per-face results read the expression node's output (as attune report summarizes it): label
shares, calibrated share, the label drawn under each face (attune.demo.results, no ROS graph)."""
from __future__ import annotations

import numpy as np

from attune.bag.report import ExpressionFaceStats
from attune.demo.results import draw_expressions, format_summary, summarize
from attune.expression.observation import ExpressionObservation
from attune.face.types import FaceFrame, FaceObservation, TrackedFace
from attune.geometry import BoundingBox


def frame(stamp_ns: int, *ids: str) -> FaceFrame:
    box = BoundingBox(0.3, 0.2, 0.6, 0.6)
    faces = tuple(TrackedFace(i, FaceObservation(box, 0.9), age_frames=1, age_s=0.0) for i in ids)
    return FaceFrame(stamp_ns, 640, 480, faces)


def said(face_id: str, label: str, calibrated: bool = True) -> ExpressionObservation:
    return ExpressionObservation(face_id=face_id, source='head', label=label, confidence=0.8, calibrated=calibrated)


def test_each_face_gets_the_shares_of_its_labels_and_how_many_were_calibrated() -> None:
    frames = [frame(t, 'f1', 'f2') for t in range(1, 5)] + [frame(5, 'f1')]
    stats = {'f1': ExpressionFaceStats('f1', 5, (('happy', 3), ('neutral', 2)), calibrated=4, mean_confidence=0.8),
             'f2': ExpressionFaceStats('f2', 1, (('sad', 1),), calibrated=1, mean_confidence=0.8)}
    summary = summarize(frames, images=5, said=stats)  # f2's other frames had no Expression (dropped, or no CNN)
    f1, f2 = summary['faces']
    assert f1['expressions'] == 5 and f1['expression_shares'] == {'happy': 0.6, 'neutral': 0.4}
    assert f1['calibrated_share'] == 0.8
    assert f2['frames'] == 4 and f2['expressions'] == 1 and f2['expression_shares'] == {'sad': 1.0}
    text = format_summary(summary)
    assert 'happy 60% neutral 40%' in text and '80%' in text and 'sad 100%' in text


def test_without_expressions_the_columns_say_so() -> None:
    summary = summarize([frame(1, 'f1')], images=1)
    assert summary['faces'][0]['expressions'] == 0 and summary['faces'][0]['calibrated_share'] is None
    assert format_summary(summary).splitlines()[-1].rstrip().endswith('-')


def test_the_label_is_drawn_under_its_face_only() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    draw_expressions(image, frame(1, 'f1'), {(1, 'f1'): said('f1', 'happy')})
    rows = np.flatnonzero(image.any(axis=(1, 2)))
    assert rows.size and rows.min() >= int(0.6 * 480)  # below the box's lower edge
    untouched = np.zeros_like(image)
    draw_expressions(untouched, frame(2, 'f1'), {(1, 'f1'): said('f1', 'happy')})  # another image's label
    assert not untouched.any()
