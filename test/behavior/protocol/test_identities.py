"""The name call follows the person, not the track (attune.behavior.identities with the runner): a
child who leaves mid-call and comes back under a new track still answers the call; a bound participant
is the only face the protocol measures."""
from __future__ import annotations

from attune.behavior.identities import InteractionIdentities
from attune.behavior.protocol import FaceSample, NameCallRunner, PendingCall, ProtocolStatus
from attune.identity.face_people import FaceMatch

S = 1_000_000_000
FPS = 30
ADA = dict(person_id='person-ada1', name='Ada', known=True, confidence=0.92)


def frame(people: InteractionIdentities, runner: NameCallRunner, i: int, faces: list[FaceSample]) -> list:
    stamp = i * S // FPS
    return runner.faces(stamp, people.protocol_samples(faces), wall_s=i / FPS)


def test_a_call_continues_on_the_returning_persons_new_track() -> None:
    people, runner = InteractionIdentities(), NameCallRunner()
    people.matches([FaceMatch('t1', **ADA)], 0.0)
    results = []
    for i in range(2 * FPS):                       # Ada looks away (yaw 40) for 2 s
        results += frame(people, runner, i, [FaceSample('t1', 40.0)])
    target, replaced = people.protocol_target('t1')
    assert (target, replaced) == ('person:person-ada1', False)
    results += runner.command(PendingCall(2 * S, 2 * S, target, 'Ada'), False, wall_s=2.0)
    for i in range(2 * FPS, 2 * FPS + 10):         # a third of a second of her, then the track is lost
        results += frame(people, runner, i, [FaceSample('t1', 40.0)])
    for i in range(2 * FPS + 10, 2 * FPS + 25):    # nobody for half a second
        results += frame(people, runner, i, [])
    people.matches([FaceMatch('t7', **ADA)], 3.0)  # the tracker's new id for her, identified at once
    for i in range(2 * FPS + 25, 8 * FPS):         # she turns to the robot on the new track
        results += frame(people, runner, i, [FaceSample('t7', 2.0)])
    final = [r for r in results if r.final]
    assert len(final) == 1 and final[0].status == ProtocolStatus.RESPONDED
    reported, person = people.report(final[0])
    assert (reported.target_id, person) == ('t7', 'person-ada1')   # on her latest track, by id
    # The turn happened between her last frame on t1 and her first on t7 (interpolated in between).
    assert 10 / FPS < reported.latency_s <= 25 / FPS


def test_a_bound_participant_is_the_only_face_measured() -> None:
    people, runner = InteractionIdentities(participant='ada'), NameCallRunner()
    people.matches([FaceMatch('t1', **ADA), FaceMatch('t2', confidence=0.5)], 0.0)
    assert people.bound and people.participant_id == 'person-ada1'
    results = []
    def both(i: int, ada_yaw: float, other_yaw: float) -> None:
        # The stranger t2 is at the image centre (the 'most central' face without a bound participant).
        results.extend(frame(people, runner, i, [FaceSample('t1', ada_yaw, 0.9), FaceSample('t2', other_yaw, 0.5)]))
    for i in range(2 * FPS):
        both(i, 40.0, 40.0)
    target, replaced = people.protocol_target('t2')            # the policy asked for the stranger
    assert (target, replaced) == ('person:person-ada1', True)  # measured on the participant instead
    results += runner.command(PendingCall(2 * S, 2 * S, target, 'Ada'), False, wall_s=2.0)
    for i in range(2 * FPS, 8 * FPS):
        both(i, 40.0, 0.0)                          # only the stranger turns to the robot
    (final,) = [r for r in results if r.final]
    assert final.status == ProtocolStatus.NO_RESPONSE
    assert people.report(final)[0].target_id == 't1'


def test_without_identities_the_protocol_works_per_track() -> None:
    people = InteractionIdentities()
    assert people.protocol_target('f1') == ('f1', False) and people.protocol_target('') == ('', False)
    samples = people.protocol_samples([FaceSample('f1', 10.0)])
    assert samples == [FaceSample('f1', 10.0)]
    bound = InteractionIdentities(participant='ada')
    assert bound.protocol_samples([FaceSample('f1', 10.0)]) == []   # nobody identified as Ada yet
    assert bound.protocol_target('f1') == ('', True)
