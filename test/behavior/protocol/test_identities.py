"""The name call follows the person, not the track (attune.behavior.identities with the runner): a
child who leaves mid-call and comes back under a new track still answers the call; a face identified
only after the call keeps its history; a bound participant is the only person the protocol measures."""
from __future__ import annotations

import pytest

from attune.behavior.identities import AWAITED_PARTICIPANT, InteractionIdentities
from attune.behavior.protocol import FaceSample, NameCallRunner, PendingCall, ProtocolStatus
from attune.identity.face_people import FaceMatch

S = 1_000_000_000
FPS = 30
ADA = dict(person_id='person-ada1', name='Ada', known=True, confidence=0.92)


def frame(people: InteractionIdentities, runner: NameCallRunner, i: int, faces: list[FaceSample]) -> list:
    stamp = i * S // FPS
    return runner.faces(stamp, people.protocol_samples(faces), wall_s=i / FPS)


def identify(people: InteractionIdentities, runner: NameCallRunner, matches: list[FaceMatch], now_s: float) -> list:
    """One PersonMatches message, as the interaction node applies it."""
    results = []
    for old, new in people.matches(matches, now_s).rekeys:
        results += runner.rekey(old, new)
    return results


def call(people: InteractionIdentities, runner: NameCallRunner, at_s: float, track: str = '') -> list:
    target, _ = people.protocol_target(track)
    stamp = int(at_s * S)
    return runner.command(PendingCall(stamp, stamp, target, 'Ada', people.awaited(target)), False, wall_s=at_s)


def turning_child(people: InteractionIdentities, runner: NameCallRunner, *, call_at: int, identified_at: int,
                  stranger: FaceSample | None = None, matches: list[FaceMatch] | None = None) -> list:
    """8 s of one child on track t1: yaw 40 until the call, then 35 (a small turn, under the protocol's
    15 degrees, that a baseline taken after the call would hide), then facing the robot (yaw 2) from
    3 s; the name is called at frame call_at and the identity node identifies the faces at frame
    identified_at."""
    results: list = []
    for i in range(8 * FPS):
        if i == call_at:
            results += call(people, runner, i / FPS)
        if i == identified_at:
            results += identify(people, runner, matches or [FaceMatch('t1', **ADA)], i / FPS)
        yaw = 40.0 if i < call_at else 35.0 if i < 3 * FPS else 2.0
        faces = [FaceSample('t1', yaw, 0.9)] + ([stranger] if stranger else [])
        results += frame(people, runner, i, faces)
    return [r for r in results if r.final]


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
    assert bound.protocol_samples([FaceSample('f1', 10.0)]) == [FaceSample('f1', 10.0)]  # could be Ada
    assert bound.protocol_target('f1') == (AWAITED_PARTICIPANT, True) and bound.awaited(AWAITED_PARTICIPANT)


def test_a_face_identified_after_the_call_keeps_its_baseline_and_its_call() -> None:
    # The call (1 s) comes before the identity node's first match for the face (1.5 s). The call is
    # measured on the track until then and on the person after; it must not read as the face lost.
    people, runner = InteractionIdentities(), NameCallRunner()
    (final,) = turning_child(people, runner, call_at=FPS, identified_at=FPS + 15)
    assert final.status == ProtocolStatus.RESPONDED, final
    assert final.yaw_before_deg == 40.0          # the baseline from before the call, gathered as 't1'
    assert people.report(final) == (final.__class__(**{**final.__dict__, 'target_id': 't1'}), 'person-ada1')
    assert final.latency_s == pytest.approx(2.0, abs=1.5 / FPS)   # 40 -> 35 is no turn; 35 -> 2 at 3 s


def test_a_call_for_the_participant_waits_until_they_are_identified() -> None:
    # Bound to Ada; the name is called at 1 s, she is identified 1.5 s later. A stranger (Bob, known)
    # at the image centre turns to the robot throughout and is never measured.
    bob = dict(person_id='person-bob2', name='Bob', known=True, confidence=0.9)
    people, runner = InteractionIdentities(participant='Ada'), NameCallRunner()
    (final,) = turning_child(people, runner, call_at=FPS, identified_at=int(2.5 * FPS),
                             stranger=FaceSample('t2', 0.0, 0.5),
                             matches=[FaceMatch('t1', **ADA), FaceMatch('t2', **bob)])
    assert final.status == ProtocolStatus.RESPONDED and final.yaw_before_deg == 40.0, final
    assert people.report(final)[0].target_id == 't1'
    assert final.latency_s == pytest.approx(2.0, abs=1.5 / FPS)


def test_a_participant_never_identified_ends_the_call_without_a_face() -> None:
    people, runner = InteractionIdentities(participant='Ada'), NameCallRunner()
    (final,) = turning_child(people, runner, call_at=FPS, identified_at=-1)
    assert (final.status, final.reason) == (ProtocolStatus.NO_FACE, 'target_not_identified')
    assert final.decided_ns >= final.stimulus_ns + 5 * S     # it waited for the whole response window
    assert people.report(final) == (final.__class__(**{**final.__dict__, 'target_id': ''}), '')
