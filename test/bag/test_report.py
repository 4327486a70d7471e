"""bag_report on synthetic Faces and Expression bags: exact counts, detection rate, per-id durations,
what was said of each face; JSON."""
from __future__ import annotations

import argparse
import json
import math

import pytest

from attune.bag import BagReport, bag_report, format_report, frames_to_bag, messages_to_bag
from attune.bag.report import ExpressionFaceStats, FaceTrackStats
from attune.errors import BagError
from test.bag.synthetic import (
    EXPRESSION_TYPE,
    FACES_TYPE,
    FakeFace,
    expression_message,
    faces_message,
    random_frames,
)

T0 = 1_000_000_000_000
STEP = 100_000_000  # 10 Hz


def scripted_faces() -> list[list[FakeFace]]:
    """10 frames: none, none, 'a' x6 (yaw +-10 deg), 'b' from frame 5 to 9 (no pose)."""
    frames: list[list[FakeFace]] = []
    for i in range(10):
        faces = []
        if 2 <= i <= 7:
            faces.append(FakeFace('a', confidence=0.8 + 0.02 * (i - 2), yaw=10.0 if i % 2 else -10.0))
        if i >= 5:
            faces.append(FakeFace('b', confidence=0.5))
        frames.append(faces)
    return frames


@pytest.fixture
def faces_bag(tmp_path):
    path = tmp_path / 'faces'
    messages = []
    for i, faces in enumerate(scripted_faces()):
        stamp = T0 + i * STEP
        # received 30 ms after the image was taken: bag time and header stamp differ
        messages.append(('/attune/faces', FACES_TYPE, stamp + 30_000_000, faces_message(stamp, faces)))
    messages.append(('/other/faces', FACES_TYPE, T0 + 5 * STEP, faces_message(T0, [])))
    messages_to_bag(messages, path)
    return path


def test_counts_detection_rate_and_tracks(faces_bag) -> None:
    report = bag_report(faces_bag)
    assert report.message_count == 11
    assert report.start_ns == T0 + 30_000_000
    assert report.end_ns == T0 + 9 * STEP + 30_000_000
    assert report.duration_s == pytest.approx(0.9)
    topics = {t.topic: t for t in report.topics}
    assert topics['/attune/faces'].count == 10
    assert topics['/attune/faces'].msgtype == FACES_TYPE
    assert topics['/attune/faces'].rate_hz == pytest.approx(10.0)
    assert topics['/other/faces'].rate_hz is None  # a single message has no rate

    faces = {f.topic: f for f in report.faces}
    main = faces['/attune/faces']
    assert (main.messages, main.messages_with_face) == (10, 8)
    assert main.detection_rate == pytest.approx(0.8)
    a, b = main.tracks
    assert a == FaceTrackStats(id='a', first_stamp_ns=T0 + 2 * STEP, last_stamp_ns=T0 + 7 * STEP, frames=6,
                               mean_confidence=pytest.approx(0.85, abs=1e-6), mean_abs_yaw_deg=10.0)
    assert a.duration_s == pytest.approx(0.5)
    assert (b.id, b.frames, b.first_stamp_ns, b.last_stamp_ns) == ('b', 5, T0 + 5 * STEP, T0 + 9 * STEP)
    assert b.duration_s == pytest.approx(0.4)
    assert b.mean_confidence == pytest.approx(0.5)
    assert b.mean_abs_yaw_deg is None  # never had a pose
    other = faces['/other/faces']
    assert (other.messages, other.messages_with_face, other.detection_rate, other.tracks) == (1, 0, 0.0, ())


def test_json_round_trip(faces_bag) -> None:
    report = bag_report(faces_bag)
    text = json.dumps(report.to_dict(), allow_nan=False)  # JSON proper: no NaN anywhere
    data = json.loads(text)
    assert BagReport.from_dict(data) == report
    assert data['faces'][0]['detection_rate'] == pytest.approx(0.8)
    assert data['faces'][0]['tracks'][0]['duration_s'] == pytest.approx(0.5)
    with pytest.raises(BagError, match='not a bag report'):
        BagReport.from_dict({'path': 'x'})


def test_format_report_is_a_readable_table(faces_bag) -> None:
    text = format_report(bag_report(faces_bag))
    assert '/attune/faces  attune/msg/Faces     10      10.00' in text
    assert 'faces on /attune/faces: 10 messages, 8 with a face (detection rate 80.0 %), 2 face id(s)' in text
    rows = [line.split() for line in text.splitlines() if line.startswith('  ')]
    lines = {row[0]: row for row in rows if row}
    assert lines['a'][1:] == ['0.000', '0.500', '0.500', '6', '0.850', '10.0']
    assert lines['b'][1:] == ['0.300', '0.700', '0.400', '5', '0.500', '-']


@pytest.fixture
def expressions_bag(tmp_path):
    """Face 'a': neutral x3 (the first uncalibrated, conf 0.6) then happy x2; 'b': sad once; a spiking
    recognizer on its own topic."""
    said = [('a', 'neutral', 0.6, False), ('a', 'neutral', 0.8, True), ('a', 'neutral', 0.8, True),
            ('a', 'happy', 0.9, True), ('a', 'happy', 0.9, True), ('b', 'sad', 0.5, False)]
    messages = [('/attune/expression', EXPRESSION_TYPE, T0 + i * STEP,
                 expression_message(T0 + i * STEP, face, label, confidence, calibrated))
                for i, (face, label, confidence, calibrated) in enumerate(said)]
    messages.append(('/attune/spiking_fer/expression', EXPRESSION_TYPE, T0,
                     expression_message(T0, 'a', 'happy', source='cs3d')))
    messages_to_bag(messages, tmp_path / 'said')
    return tmp_path / 'said'


def test_what_was_said_of_each_face(expressions_bag) -> None:
    report = bag_report(expressions_bag)
    main, spiking = report.expressions
    assert (main.topic, main.messages, main.sources) == ('/attune/expression', 6, ('ensemble',))
    a, b = main.faces
    assert a == ExpressionFaceStats(id='a', messages=5, labels=(('neutral', 3), ('happy', 2)), calibrated=4,
                                    mean_confidence=pytest.approx(0.8))
    assert a.shares == {'neutral': 0.6, 'happy': 0.4}
    assert (b.id, b.messages, b.labels, b.calibrated) == ('b', 1, (('sad', 1),), 0)
    assert (spiking.sources, [f.id for f in spiking.faces]) == (('cs3d',), ['a'])
    assert report.faces == ()  # no Faces topic in this bag


def test_expressions_in_json_and_the_table(expressions_bag) -> None:
    report = bag_report(expressions_bag)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert BagReport.from_dict(data) == report
    face = data['expressions'][0]['faces'][0]
    assert face['labels'] == {'neutral': 3, 'happy': 2} and face['calibrated_share'] == pytest.approx(0.8)
    text = format_report(report)
    assert 'expressions on /attune/expression: 6 messages (source ensemble), 2 face id(s)' in text
    row = next(line.split() for line in text.splitlines() if line.startswith('  a '))
    assert row == ['a', '5', 'neutral', '60%', 'happy', '40%', '80%', '0.800']
    # A report written before expressions were summarized still loads.
    del data['expressions']
    assert BagReport.from_dict(data).expressions == ()


def test_image_bag_has_no_face_section(tmp_path) -> None:
    bag = frames_to_bag(random_frames(5), tmp_path / 'images', fps=5, start_ns=T0).path
    report = bag_report(bag)
    assert report.faces == () and report.expressions == ()
    assert [(t.topic, t.count, t.rate_hz) for t in report.topics] == [
        ('/camera/image_raw', 5, pytest.approx(5.0)), ('/camera/camera_info', 5, pytest.approx(5.0))]
    assert 'faces on' not in format_report(report)
    assert math.isclose(report.duration_s, 0.8)


def test_cli_report_json_on_the_last_line(faces_bag, capsys) -> None:
    from attune.cli import report

    parser = argparse.ArgumentParser(prog='attune')
    report.add_parser(parser.add_subparsers())
    args = parser.parse_args(['report', str(faces_bag), '--json'])
    assert args.handler(args) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out.strip().splitlines()[-1])
    assert data['faces'][0]['messages_with_face'] == 8
    assert 'detection rate 80.0 %' in captured.err
    args = parser.parse_args(['report', str(faces_bag)])
    assert args.handler(args) == 0
    assert 'detection rate 80.0 %' in capsys.readouterr().out
