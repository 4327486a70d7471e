"""Identification on real faces (dlib descriptor aligned by FaceMesh points), the shipped operating
point, and the per-track schedule: bounded work per frame, new tracks first, re-identification."""
from __future__ import annotations

import numpy as np
import pytest

from attune.identity.embedder import MESH_FIVE_POINTS, FaceEmbedder, five_points_from_mesh, mesh_face_rectangle
from attune.identity.matcher import Identifier, operating_point
from attune.identity.store import PeopleDatabase
from attune.identity.tracks import TrackIdentities
from test.identity.faces import by_person, london_faces

KEY = bytes(range(32))


@pytest.fixture(scope='module')
def faces():
    return london_faces()


def enrolled_database(tmp_path, faces, people) -> PeopleDatabase:
    db = PeopleDatabase.create(tmp_path / 'people.db', KEY)
    neutral = by_person(faces, smiling=False)
    for person in people:
        db.enroll(person, neutral[person].embedding[None], consent='CC BY London set', source='test')
    return db


def test_enrolled_people_are_identified_and_the_others_are_unknown(tmp_path, faces) -> None:
    people = sorted(by_person(faces, smiling=False))
    enrolled, strangers = people[0::2], people[1::2]
    identifier = Identifier(enrolled_database(tmp_path, faces, enrolled), operating_point()['threshold'])
    smiling, neutral = by_person(faces, smiling=True), by_person(faces, smiling=False)
    for person in enrolled:
        result = identifier.identify(smiling[person].embedding)
        assert result.known and result.name == person, (person, result)
    for person in strangers:
        for face in (neutral[person], smiling[person]):
            result = identifier.identify(face.embedding)
            assert not result.known and result.person_id == '' and result.score < identifier.threshold


def test_two_deployments_templates_of_the_same_person_do_not_match(tmp_path, faces) -> None:
    """Unlinkability, measured: the same embeddings enrolled in two databases (independent seeds)."""
    threshold = operating_point()['threshold']
    a, b = (PeopleDatabase.create(tmp_path / f'{n}.db', KEY) for n in 'ab')
    sims = []
    for face in faces:
        ta, tb = a.protector.protect(face.embedding), b.protector.protect(face.embedding)
        sims.append(a.protector.similarity(ta, tb[None])[0])
    sims = np.array(sims)
    assert np.mean(sims >= threshold) == 0.0
    assert abs(sims.mean() - 0.5) < 0.05  # as unrelated as two strangers' templates


def test_mesh_points_land_where_dlibs_predictor_puts_them(faces) -> None:
    embedder = FaceEmbedder()
    distances = []
    for face in faces[:6]:
        (dlib_points,) = embedder.dlib_five_points(face.rgb)
        mesh_points = five_points_from_mesh(face.landmarks, face.rgb.shape[1], face.rgb.shape[0])
        eye_distance = np.linalg.norm(dlib_points[0] - dlib_points[2])
        distances.append(np.linalg.norm(mesh_points - dlib_points, axis=1) / eye_distance)
    assert len(MESH_FIVE_POINTS) == 5 and np.mean(distances) < 0.05


def test_the_predictor_in_the_mesh_rectangle_finds_the_points_of_dlibs_own_pipeline(faces) -> None:
    """The default alignment: dlib's 5-point predictor in the FaceMesh face rectangle lands where it
    does in dlib's HOG box (closer than the FaceMesh points themselves do)."""
    embedder = FaceEmbedder()
    distances = []
    for face in faces[:6]:
        (dlib_points,) = embedder.dlib_five_points(face.rgb)
        rectangle = mesh_face_rectangle(face.landmarks, face.rgb.shape[1], face.rgb.shape[0])
        points = embedder.predictor_five_points(face.rgb, rectangle)
        distances.append(np.linalg.norm(points - dlib_points, axis=1) / np.linalg.norm(dlib_points[0] - dlib_points[2]))
    assert embedder.alignment == 'predictor' and np.mean(distances) < 0.015


def test_alignment_and_landmarks_are_checked() -> None:
    with pytest.raises(ValueError, match='alignment'):
        FaceEmbedder(alignment='hog')
    with pytest.raises(ValueError, match='landmarks'):
        mesh_face_rectangle(np.full((478, 3), np.nan), 640, 480)
    square = np.zeros((468, 3))
    square[:, :2] = np.random.default_rng(0).uniform(0.25, 0.75, (468, 2))
    left, top, right, bottom = mesh_face_rectangle(square, 400, 200)
    assert right - left == bottom - top and abs((left + right) / 2 - 200) <= 2 and abs((top + bottom) / 2 - 100) <= 2


class FixedIdentifier(Identifier):
    """An Identifier over made-up per-person scores (the schedule does not depend on embeddings)."""

    def __init__(self) -> None:  # no database: the "embedding" is the score vector itself
        from attune.identity.store import Person

        self.threshold = 0.7
        self.people = [Person('person-a', 'ada', 'yes', '', 't', [b'x']),
                       Person('person-b', 'bob', 'yes', '', 't', [b'y'])]

    def scores(self, embedding: np.ndarray) -> np.ndarray:
        return np.asarray(embedding, dtype=float)


def test_new_tracks_first_at_most_max_per_frame_then_a_low_rate() -> None:
    tracks = TrackIdentities(FixedIdentifier(), refresh_s=2.0, max_per_frame=1)
    assert tracks.due(['t1', 't2'], 0.0) == ['t1']
    tracks.update('t1', np.array([0.9, 0.5]), 0.0)
    assert tracks.due(['t1', 't2'], 0.1) == ['t2']  # the new track before the known one
    tracks.update('t2', np.array([0.5, 0.55]), 0.1)
    assert tracks.due(['t1', 't2'], 1.0) == []        # both checked recently: no work
    assert tracks.due(['t1', 't2'], 2.05) == ['t1']   # the longest unchecked first
    assert tracks.identity('t1').name == 'ada' and not tracks.identity('t2').known
    tracks.mark_failed('t3', 2.1)
    assert tracks.due(['t3'], 2.2) == []              # a failed face waits like a checked one


def test_evidence_accumulates_and_a_returning_person_keeps_their_id() -> None:
    tracks = TrackIdentities(FixedIdentifier(), history=3, forget_after_s=5.0)
    tracks.update('t1', np.array([0.65, 0.5]), 0.0)
    assert not tracks.identity('t1').known
    tracks.update('t1', np.array([0.8, 0.5]), 2.0)
    assert tracks.identity('t1').person_id == 'person-a'  # mean 0.725 >= 0.7
    tracks.due([], 20.0)                                  # t1 left the view long ago: forgotten
    assert tracks.identity('t1') is None and len(tracks) == 0
    assert tracks.due(['t9'], 20.1) == ['t9']             # back under a new track id ...
    assert tracks.update('t9', np.array([0.8, 0.5]), 20.1).person_id == 'person-a'  # ... same person
