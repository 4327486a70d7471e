"""Face tracks -> enrolled people (attune.identity.face_people): person keys that survive track loss,
and the calibration of a returning person (expression: rekey; ASD affect: link)."""
from __future__ import annotations

import numpy as np

from attune.affect.calibration import NeutralCalibration
from attune.expression.calibration import CalibrationOptions, NeutralCalibrator
from attune.identity.face_people import FaceMatch, FacePeople, person_key, selects

ADA = dict(person_id='person-ada1', name='Ada', known=True, confidence=0.93)


def test_a_known_face_is_keyed_by_its_person_and_moves_once() -> None:
    people = FacePeople(forget_after_s=10.0)
    assert people.key('t1') == 't1' and people.match('t1') is None
    assert people.update([FaceMatch('t1', confidence=0.55)], 0.0) == []   # unknown: keyed by the track
    assert people.key('t1') == 't1' and people.match('t1').known is False
    assert people.update([FaceMatch('t1', **ADA)], 1.0) == [('t1', 'person:person-ada1')]
    assert people.update([FaceMatch('t1', **ADA)], 2.0) == []             # already moved
    assert people.key('t1') == person_key('person-ada1') == 'person:person-ada1'
    # Ada leaves and comes back under a new track: same key, and the latest track reports for her.
    assert people.update([FaceMatch('t9', **ADA)], 5.0) == [('t9', 'person:person-ada1')]
    assert people.track_of('person:person-ada1') == 't9' and people.track_of('t3') == 't3'
    assert people.is_person('t9', 'ada') and people.is_person('t9', 'person-ada1') and not people.is_person('t9', 'bob')
    people.update([], 20.0)                                                # forgotten after 10 s without matches
    assert len(people) == 0 and people.track_of('person:person-ada1') == ''


def test_selectors() -> None:
    assert selects(' Ada ', 'person-ada1', 'ada') and selects('person-ada1', 'person-ada1', 'Ada')
    assert not selects('', 'person-ada1', 'Ada') and not selects('person-ada', 'person-ada1', 'Ada')


RESTING = np.array([2.0, 0.5, 0.0, 0.2, 0.1, 0.0, 0.0], np.float32)
OTHER = np.array([0.5, 2.0, 0.0, 0.2, 0.1, 0.0, 0.0], np.float32)


def feed(c: NeutralCalibrator, key: str, logits: np.ndarray, start_s: float, n: int) -> None:
    for i in range(n):
        c.observe(key, int((start_s + i / 30) * 1e9), logits)


def test_a_returning_person_reuses_their_expression_calibration() -> None:
    c = NeutralCalibrator(CalibrationOptions(min_frames=3, warmup_s=1.0))
    feed(c, 't1', RESTING, 0.0, 5)                 # Ada's first track calibrates ...
    c.rekey('t1', 'person:ada')                    # ... and is identified: her calibration
    np.testing.assert_allclose(c.reference('person:ada'), RESTING)
    feed(c, 't2', OTHER, 10.0, 5)                  # she returns as t2, which gathers its own frames first
    c.rekey('t2', 'person:ada')                    # identified: her calibration is kept, t2's dropped
    np.testing.assert_allclose(c.reference('person:ada'), RESTING)
    assert c.reference('t2') is None
    c.rekey('t3', 'person:bob')                    # a track with nothing yet: nothing moves
    assert c.reference('person:bob') is None


def test_a_returning_child_reuses_their_asd_baseline() -> None:
    reference = np.full(7, 1 / 7)
    cal = NeutralCalibration(reference, duration_s=0.5, min_samples=3)
    sad = np.array([0.1, 0.1, 0.4, 0.1, 0.1, 0.1, 0.1])
    for i in range(4):
        cal.observe('t1', int(i * 0.2e9), sad)
    assert cal.status('t1') == 'calibrated'
    assert cal.link('t1', 'person:kid') is not None          # the first track gives the child its baseline
    assert cal.link('t2', 'person:kid') is cal.baseline('t1')  # the returning track adopts it at once
    assert cal.status('t2') == 'calibrated'
    np.testing.assert_allclose(cal.apply('t2', sad), cal.apply('t1', sad))
