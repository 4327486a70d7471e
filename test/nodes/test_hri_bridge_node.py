"""hri_bridge_node through real rclpy and Fast DDS: a subscriber using the hri_msgs types checks the
REP-155 ids, ROIs, landmarks, expressions and action units against the attune messages it was fed
(MediaPipe's golden landmarks of a real portrait), and that a face's topics go when the face goes."""
from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter

from attune.face.rep155 import MEDIAPIPE_FOR_70
from test.conftest import wait_for
from test.face.test_rep155 import golden_landmarks

pytestmark = pytest.mark.ros
hri = pytest.importorskip('hri_msgs.msg')

TRACKS = ('abcde', 'f2', '3x-y')                 # the last is not a valid REP-155 id as it is
REP_IDS = ('abcde', 'f2', 'f_3x_y')
LEAVES = ('roi', 'landmarks', 'expression', 'facs')


class Probe:
    """Feeds attune messages and records what arrives on the REP-155 topics."""

    def __init__(self, spinner) -> None:
        from attune.msg import AffectState, Expression, Faces

        self.node = spinner.add(rclpy.create_node('hri_probe'))
        self.faces = self.node.create_publisher(Faces, '/attune/faces', 10)
        self.expression = self.node.create_publisher(Expression, '/attune/expression', 10)
        self.affect = self.node.create_publisher(AffectState, '/attune/affect', 10)
        self.lock = threading.Lock()
        self.received: dict[str, list] = {}
        kinds = {'roi': hri.NormalizedRegionOfInterest2D, 'landmarks': hri.FacialLandmarks,
                 'expression': hri.Expression, 'facs': hri.FacialActionUnits}
        topics = {'/humans/faces/tracked': hri.IdsList}
        topics.update({f'/humans/faces/{i}/{leaf}': kinds[leaf] for i in REP_IDS for leaf in LEAVES})
        self.subs = [self.node.create_subscription(kind, topic, self._keep(topic), 10)
                     for topic, kind in topics.items()]

    def _keep(self, topic: str):
        def keep(msg) -> None:
            with self.lock:
                self.received.setdefault(topic, []).append(msg)
        return keep

    def last(self, topic: str):
        with self.lock:
            return (self.received.get(topic) or [None])[-1]

    def publish_until(self, publisher, msg, topic: str, check=lambda m: True, timeout: float = 20.0):
        """Publish `msg` again until a message on `topic` passes `check` (discovery takes a moment)."""
        def arrived() -> bool:
            last = self.last(topic)
            if last is not None and check(last):
                return True
            publisher.publish(msg)
            return False
        assert wait_for(arrived, timeout, interval=0.2), f'nothing on {topic}'
        return self.last(topic)


def faces_msg(stamp_s: int, tracks, landmarks: np.ndarray):
    from attune.msg import Face, Faces

    msg = Faces(image_width=820, image_height=1024)
    msg.header.stamp.sec, msg.header.frame_id = stamp_s, 'camera'
    for k, track in enumerate(tracks):
        face = Face(id=track, detection_confidence=0.9 - 0.1 * k, landmarks=landmarks.ravel().tolist())
        face.roi.xmin, face.roi.ymin, face.roi.xmax, face.roi.ymax = 0.1 * k, 0.2, 0.1 * k + 0.3, 0.7
        msg.faces.append(face)
    return msg


def expression_msg(track: str, stamp_s: int):
    from attune.msg import Expression

    msg = Expression(face_id=track, label='surprise', confidence=0.7, valence=0.3, arousal=math.nan,
                     action_units=['AU01', 'AU12', 'AU26'], au_intensities=[0.2, 0.8, 0.5], source='ensemble')
    msg.header.stamp.sec = stamp_s
    return msg


def affect_msg(track: str, stamp_s: int):
    from attune.msg import AffectState

    msg = AffectState(face_id=track, source='asd_emotion', emotions=['happy', 'neutral'],
                      probabilities=[0.6, 0.4], dominant_emotion='happy', valence=0.5, arousal=0.6, engagement=0.5)
    msg.header.stamp.sec = stamp_s
    return msg


def test_rep155_topics_match_the_attune_messages_they_come_from(spinner) -> None:
    from attune.nodes.hri_bridge_node import HriBridgeNode

    bridge = spinner.add(HriBridgeNode(cli_args=['--ros-args', '-r', '__node:=hri_bridge_test'],
                                       parameter_overrides=[Parameter('publish_cropped', value=False)]))
    probe = Probe(spinner)
    landmarks = golden_landmarks().astype(np.float32)

    # Faces -> tracked ids, ROIs, landmarks
    faces = faces_msg(7, TRACKS, landmarks)
    tracked = probe.publish_until(probe.faces, faces, '/humans/faces/tracked')
    assert list(tracked.ids) == list(REP_IDS)
    assert (tracked.header.stamp.sec, tracked.header.frame_id) == (7, 'camera')
    for k, rep in enumerate(REP_IDS):
        roi = probe.publish_until(probe.faces, faces, f'/humans/faces/{rep}/roi')
        assert (roi.xmin, roi.ymin, roi.xmax, roi.ymax) == pytest.approx((0.1 * k, 0.2, 0.1 * k + 0.3, 0.7))
        assert roi.c == pytest.approx(0.9 - 0.1 * k) and roi.header.stamp.sec == 7
        marks = probe.publish_until(probe.faces, faces, f'/humans/faces/{rep}/landmarks')
        assert (marks.width, marks.height) == (820, 1024) and len(marks.landmarks) == 70
        got = np.array([[p.x, p.y] for p in marks.landmarks])
        np.testing.assert_allclose(got, landmarks[list(MEDIAPIPE_FOR_70), :2], atol=1e-6)
        assert all(p.c == pytest.approx(0.9 - 0.1 * k) for p in marks.landmarks)
        assert got[hri.FacialLandmarks.RIGHT_EYE_OUTSIDE, 0] < got[hri.FacialLandmarks.LEFT_EYE_OUTSIDE, 0]

    # AffectState then Expression of one face -> expression (valence from Expression, arousal from
    # AffectState, where the Expression has none) and facs. Before any Expression, the AffectState
    # alone gives the face's expression: that shows it arrived.
    probe.publish_until(probe.affect, affect_msg('abcde', 7), '/humans/faces/abcde/expression',
                        check=lambda m: m.expression == 'happy')
    expression = probe.publish_until(probe.expression, expression_msg('abcde', 7), '/humans/faces/abcde/expression',
                                     check=lambda m: m.expression == 'surprised')
    assert expression.confidence == pytest.approx(0.7) and expression.valence == pytest.approx(0.3)
    assert expression.arousal == pytest.approx(0.6)
    facs = probe.publish_until(probe.expression, expression_msg('abcde', 7), '/humans/faces/abcde/facs')
    intensity, confidence = np.asarray(facs.intensity), np.asarray(facs.confidence)
    assert len(intensity) == len(confidence) == 99
    assert intensity[hri.FacialActionUnits.LIP_CORNER_PULLER] == pytest.approx(0.8)
    assert intensity[hri.FacialActionUnits.INNER_BROW_RAISER] == pytest.approx(0.2)
    assert intensity[hri.FacialActionUnits.JAW_DROP] == pytest.approx(0.5)
    assert set(np.flatnonzero(confidence)) == {1, 12, 26}

    # A face only an AffectState covers gets its expression from it
    affect = probe.publish_until(probe.affect, affect_msg('f2', 7), '/humans/faces/f2/expression')
    assert (affect.expression, affect.valence, affect.arousal) == ('happy', pytest.approx(0.5), pytest.approx(0.6))
    assert affect.confidence == pytest.approx(0.6)

    # An Expression of a face that is not tracked is dropped: the node shell's screening refuses a
    # message about a track its Faces input never carried, before the bridge sees it
    before = bridge.bad_input.counts.get('unknown_track', 0)
    probe.expression.publish(expression_msg('zzzzz', 8))
    assert wait_for(lambda: bridge.bad_input.counts.get('unknown_track', 0) > before, 30)

    # The face 'abcde' leaves: it leaves the tracked list and its topics are withdrawn
    later = faces_msg(9, TRACKS[1:], landmarks)
    tracked = probe.publish_until(probe.faces, later, '/humans/faces/tracked', check=lambda m: m.header.stamp.sec == 9)
    assert list(tracked.ids) == list(REP_IDS[1:])
    assert wait_for(lambda: probe.node.count_publishers('/humans/faces/abcde/roi') == 0, 30)
    assert probe.node.count_publishers('/humans/faces/f2/roi') == 1


def test_without_iris_the_pupils_have_no_confidence(spinner) -> None:
    from attune.nodes.hri_bridge_node import HriBridgeNode

    spinner.add(HriBridgeNode(cli_args=['--ros-args', '-r', '__node:=hri_bridge_468']))
    probe = Probe(spinner)
    marks = probe.publish_until(probe.faces, faces_msg(3, ['abcde'], golden_landmarks()[:468].astype(np.float32)),
                                '/humans/faces/abcde/landmarks')
    c = [p.c for p in marks.landmarks]
    assert c[hri.FacialLandmarks.RIGHT_PUPIL] == c[hri.FacialLandmarks.LEFT_PUPIL] == 0.0
    assert min(c[:68]) == pytest.approx(0.9)


def test_cropped_faces_only_when_switched_on(spinner) -> None:
    from sensor_msgs.msg import Image

    from attune.face.rep155 import cropped_face
    from attune.nodes.hri_bridge_node import HriBridgeNode
    from attune.ros.images import image_msg

    spinner.add(HriBridgeNode(cli_args=['--ros-args', '-r', '__node:=hri_bridge_cropped'],
                              parameter_overrides=[Parameter('publish_cropped', value=True),
                                                   Parameter('image_topic', value='/hri_test/image'),
                                                   Parameter('cropped_size', value=64)]))
    probe = Probe(spinner)
    cropped = []
    probe.node.create_subscription(Image, '/humans/faces/abcde/cropped', cropped.append, 10)
    camera = probe.node.create_publisher(Image, '/hri_test/image', 10)
    rgb = np.random.default_rng(1).integers(0, 256, (1024, 820, 3), dtype=np.uint8)
    faces = faces_msg(11, ['abcde'], golden_landmarks().astype(np.float32))
    image = image_msg(rgb, 'rgb8', faces.header)

    def arrived() -> bool:
        camera.publish(image)
        probe.faces.publish(faces)
        return bool(cropped)
    assert wait_for(arrived, 20, interval=0.2)
    out = cropped[-1]
    assert (out.width, out.height, out.encoding, out.header.stamp.sec) == (64, 64, 'rgb8', 11)
    expected = cropped_face(rgb, (0.0, 0.2, 0.3, 0.7), 64)
    np.testing.assert_array_equal(np.frombuffer(bytes(out.data), np.uint8).reshape(64, 64, 3), expected)


def test_identified_faces_become_persons(spinner) -> None:
    from std_msgs.msg import String

    from attune.msg import PersonMatch, PersonMatches
    from attune.nodes.hri_bridge_node import HriBridgeNode
    from attune.ros import qos

    spinner.add(HriBridgeNode(cli_args=['--ros-args', '-r', '__node:=hri_bridge_persons']))
    probe = Probe(spinner)
    person = 'p_person_1a2b3c4d'                       # REP-155 id of identity's 'person-1a2b3c4d'
    got: dict[str, list] = {'tracked': [], 'known': [], 'face_id': [], 'name': [], 'matches': []}
    node = probe.node
    node.create_subscription(hri.IdsList, '/humans/persons/tracked', got['tracked'].append, 10)
    node.create_subscription(hri.IdsList, '/humans/persons/known', got['known'].append, qos.LATCHED)
    node.create_subscription(String, f'/humans/persons/{person}/face_id', got['face_id'].append, qos.LATCHED)
    node.create_subscription(String, f'/humans/persons/{person}/name', got['name'].append, qos.LATCHED)
    node.create_subscription(hri.IdsMatch, '/humans/candidate_matches', got['matches'].append, 10)
    matches_pub = node.create_publisher(PersonMatches, '/attune/person_matches', 10)
    landmarks = golden_landmarks().astype(np.float32)
    probe.publish_until(probe.faces, faces_msg(5, ['abcde', 'f2'], landmarks), '/humans/faces/tracked')
    matches = PersonMatches(matches=[
        PersonMatch(face_id='abcde', person_id='person-1a2b3c4d', name='Ada', known=True, confidence=0.91),
        PersonMatch(face_id='f2', known=False, confidence=0.55)])
    matches.header.stamp.sec = 5

    def arrived() -> bool:
        matches_pub.publish(matches)
        return (bool(got['face_id']) and bool(got['name']) and bool(got['matches'])
                and list(got['tracked'][-1].ids) == [person])
    assert wait_for(arrived, 20, interval=0.2)
    assert got['face_id'][-1].data == 'abcde' and got['name'][-1].data == 'Ada'
    assert wait_for(lambda: got['known'] and list(got['known'][-1].ids) == [person], 30)
    match = got['matches'][-1]
    assert (match.id1, match.id1_type, match.id2, match.id2_type) == \
        ('abcde', hri.IdsMatch.FACE, person, hri.IdsMatch.PERSON)
    assert match.confidence == pytest.approx(0.91)
    # The face leaves: the person is no longer tracked, keeps being known, has no face
    probe.publish_until(probe.faces, faces_msg(6, ['f2'], landmarks), '/humans/faces/tracked',
                        check=lambda m: m.header.stamp.sec == 6)
    assert wait_for(lambda: got['face_id'][-1].data == '' and list(got['tracked'][-1].ids) == [], 20)
    assert list(got['known'][-1].ids) == [person]
    assert wait_for(lambda: got['matches'][-1].confidence == 0.0, 20)
