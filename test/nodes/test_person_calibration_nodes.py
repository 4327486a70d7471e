"""Per-person calibration across track loss, through real rclpy and Fast DDS: the expression and ASD
emotion nodes read identity_node's PersonMatches, and a known person's new track reuses their neutral
calibration (expression) or baseline (ASD affect) from its first frame; an unknown face starts afresh."""
from __future__ import annotations

import pytest

from test.conftest import wait_for
from test.nodes.test_asd_emotion_node import portrait  # noqa: F401 (fixture)
from test.nodes.test_expression_node import RELIABLE, SIZE, Harness, faces_frame, header, london  # noqa: F401

pytestmark = pytest.mark.ros


def test_a_returning_person_reuses_their_expression_calibration(spinner, london) -> None:  # noqa: F811
    from attune.msg import PersonMatch, PersonMatches

    h = Harness(spinner, 'expr_people', calibration_min_frames=3, person_matches_topic='/expr_people/matches')
    matches = h.probe.create_publisher(PersonMatches, '/expr_people/matches', RELIABLE)
    assert wait_for(lambda: matches.get_subscription_count() >= 1, 30)
    neutral = next(p for p in london if p.person == '001' and not p.smiling)
    smiling = next(p for p in london if p.person == '001' and p.smiling)
    ns = 30_000_000_000

    def send(track: str, photo) -> None:
        nonlocal ns
        h.send(ns, photo.rgb, faces_frame([track], [photo.landmarks], SIZE, SIZE), expect=1)
        ns += 100_000_000

    def identify(track: str, known: bool) -> None:
        who = PersonMatch(face_id=track, person_id='person-ada1' if known else '', name='Ada' if known else '',
                          known=known, confidence=0.9 if known else 0.5)
        matches.publish(PersonMatches(header=header(ns), matches=[who]))
        assert wait_for(lambda: h.node._people.match(track) is not None, 30)

    for _ in range(3):                     # Ada's first track calibrates on her resting face ...
        send('a1', neutral)
    assert h.expressions[-1].calibrated
    identify('a1', known=True)             # ... and is identified: the calibration becomes hers
    assert h.node._analyzer.calibrator.reference('person:person-ada1') is not None
    identify('a2', known=True)             # she comes back under a new track, identified at once
    send('a2', smiling)
    assert h.expressions[-1].face_id == 'a2' and h.expressions[-1].calibrated   # from its first frame
    assert h.expressions[-1].label == 'happy'
    identify('b1', known=False)            # a stranger starts from scratch
    send('b1', smiling)
    assert not h.expressions[-1].calibrated
    assert not h.errors


def test_a_returning_child_reuses_their_asd_baseline(spinner, portrait, tmp_path) -> None:  # noqa: F811
    import time

    from attune.jsonl_log import read_log
    from attune.msg import PersonMatch, PersonMatches
    from attune.ros.images import image_msg
    from test.nodes import test_asd_emotion_node as asd

    rgb, landmarks = portrait
    h = asd.Harness(spinner, 'asd_people', rate_hz=30.0, calibration_s=0.2, session_log_dir=str(tmp_path),
                    session_name='kid', person_matches_topic='/asd_people/matches')
    matches = h.probe.create_publisher(PersonMatches, '/asd_people/matches', RELIABLE)
    assert wait_for(lambda: matches.get_subscription_count() >= 1, 30)
    (log,) = tmp_path.glob('asd_calibration_*_kid.jsonl')
    base = time.time_ns()

    def frames(track: str, start: int, count: int) -> None:
        for i in range(start, start + count):
            ns = base + i * asd.S // 30
            h.faces.publish(asd.faces_msg(ns, [asd.tracked(track, landmarks, 0.0)]))
            h.images.publish(image_msg(rgb, 'rgb8', asd.header(ns)))

    def identify(track: str) -> None:
        who = PersonMatch(face_id=track, person_id='person-kid7', name='Kim', known=True, confidence=0.9)
        matches.publish(PersonMatches(header=asd.header(base), matches=[who]))

    frames('f1', 0, 12)                    # the first track's baseline completes ...
    assert wait_for(lambda: any(r['type'] == 'calibration' for r in read_log(log)), 20), read_log(log)
    identify('f1')                         # ... and becomes the child's when the track is identified
    identify('f2')                         # the child returns under a new track: it adopts the baseline
    links = lambda: [r for r in read_log(log) if r['type'] == 'calibration_link']  # noqa: E731
    assert wait_for(lambda: len(links()) == 2, 30), read_log(log)
    assert [(r['face_id'], r['person_id'], r['baseline_shared']) for r in links()] == [
        ('f1', 'person-kid7', True), ('f2', 'person-kid7', True)]
    assert h.node._estimator.calibration.status('f2') == 'calibrated'   # before a single frame of f2
    frames('f2', 12, 3)
    assert wait_for(lambda: any(m.face_id == 'f2' for m in h.affect), 20)
    assert not any(r['type'] == 'calibration' and r['face_id'] == 'f2' for r in read_log(log))  # no new one
    assert 'Kim' not in log.read_text()    # the log names the child by id only
    assert not h.errors
