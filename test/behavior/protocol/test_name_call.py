"""The name-call protocol on synthetic head-turn sequences: latency, statuses, bad input, ordering."""
from __future__ import annotations

import math

import numpy as np
import pytest

from attune.behavior.protocol import (
    FaceSample,
    NameCallOptions,
    NameCallProtocol,
    PendingCall,
    ProtocolStatus,
    SpeechOnset,
)
from attune.emotions import EMOTIONS
from attune.errors import ConfigError

FPS = 30
T0 = 1_000_000_000_000  # ns
PERIOD = 1_000_000_000 // FPS
S = 1_000_000_000


def stamp(i: int) -> int:
    return T0 + i * PERIOD


def ramp_yaw(t: float, start: float, turn_at: float, speed: float, end: float = 0.0) -> float:
    """yaw(t): `start` until turn_at, then moving toward `end` at `speed` deg/s."""
    if t <= turn_at:
        return start
    moved = speed * (t - turn_at)
    if start > end:
        return max(end, start - moved)
    return min(end, start + moved)


def run(protocol: NameCallProtocol, yaws, *, faces_fn=None, call_frame: int = 30, target: str = 'f1',
        call_after_frames: bool = False, affect=None) -> list:
    """Feed frames (one face 'f1' with the given yaws; None = face absent); call at call_frame."""
    results = []
    if call_after_frames:
        for i, yaw in enumerate(yaws):
            results += _frame(protocol, i, yaw, faces_fn, affect)
        results += protocol.start(stamp(call_frame), target, 'Sam')
        return results
    for i, yaw in enumerate(yaws):
        if i == call_frame:
            results += protocol.start(stamp(call_frame), target, 'Sam')
        results += _frame(protocol, i, yaw, faces_fn, affect)
    return results


def _frame(protocol, i, yaw, faces_fn, affect):
    faces = [] if yaw is None else [FaceSample('f1', yaw, 0.5)]
    if faces_fn is not None:
        faces = faces_fn(i, yaw)
    if affect is not None and faces:
        protocol.observe_affect('f1', stamp(i), affect(i), 0.5)
    return protocol.observe_faces(stamp(i), faces)


def finals(results):
    return [r for r in results if r.final]


@pytest.mark.parametrize('sign', [1.0, -1.0])
def test_latency_of_a_head_turn_toward_the_camera(sign: float) -> None:
    # 40 deg away, the call at frame 30 (1 s), the turn starts 0.6 s later at 80 deg/s: the turn reaches
    # the 15 deg threshold at yaw 25, 15 / 80 s after it started: latency 0.6 + 0.1875 s.
    yaws = [sign * ramp_yaw(i / FPS, 40.0, 1.6, 80.0) for i in range(300)]
    results = run(NameCallProtocol(), yaws)
    assert results[0].status == ProtocolStatus.WAITING and results[0].stimulus_ns == stamp(30)
    (result,) = finals(results)
    assert result.status == ProtocolStatus.RESPONDED and result.reason == 'head_turn'
    assert result.latency_s == pytest.approx(0.7875, abs=1e-3)
    assert result.yaw_before_deg == pytest.approx(sign * 40.0)
    assert result.head_turn_deg == pytest.approx(40.0)
    assert result.target_id == 'f1' and result.name == 'Sam'
    # decided when the affect window (3 s) closed, not before
    assert result.decided_ns >= stamp(30) + 3_000_000_000


def test_turning_past_the_camera_still_counts() -> None:
    yaws = [ramp_yaw(i / FPS, 30.0, 1.5, 120.0, end=-30.0) for i in range(250)]
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.RESPONDED
    assert result.latency_s == pytest.approx(0.5 + 15 / 120, abs=1e-3)
    assert result.head_turn_deg == pytest.approx(60.0)


def test_the_same_result_when_the_command_arrives_after_the_frames() -> None:
    yaws = [ramp_yaw(i / FPS, -35.0, 2.0, 60.0) for i in range(250)]
    live = finals(run(NameCallProtocol(), yaws))
    late = finals(run(NameCallProtocol(), yaws, call_after_frames=True))
    assert len(live) == len(late) == 1
    assert late[0].status == live[0].status == ProtocolStatus.RESPONDED
    assert late[0].latency_s == pytest.approx(live[0].latency_s)


def test_a_single_noisy_frame_is_not_a_response() -> None:
    yaws = [30.0] * 250
    yaws[45] = 5.0  # one outlier frame past the threshold
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.NO_RESPONSE and result.reason == 'no_head_turn'
    assert result.head_turn_deg == pytest.approx(25.0)
    assert math.isnan(result.latency_s)


def test_no_response_is_decided_when_the_window_ends() -> None:
    protocol = NameCallProtocol(NameCallOptions(response_window_s=2.0, affect_window_s=1.0))
    yaws = [25.0 + 2 * math.sin(i / 5) for i in range(200)]
    results = run(protocol, yaws)
    (result,) = finals(results)
    assert result.status == ProtocolStatus.NO_RESPONSE
    end = stamp(30) + 2_000_000_000
    assert end <= result.decided_ns < end + 2 * PERIOD


def test_a_turn_away_from_the_camera_is_not_a_response() -> None:
    yaws = [ramp_yaw(i / FPS, 20.0, 1.5, 60.0, end=70.0) for i in range(250)]
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.NO_RESPONSE
    assert result.head_turn_deg == pytest.approx(0.0)  # the largest turn toward the camera: none


def test_a_child_already_facing_the_robot_cannot_orient() -> None:
    (result,) = finals(run(NameCallProtocol(), [5.0] * 200))
    assert result.status == ProtocolStatus.ABORTED and result.reason == 'already_facing'
    assert result.yaw_before_deg == pytest.approx(5.0)


def test_a_call_with_no_face_present() -> None:
    protocol = NameCallProtocol()
    results = run(protocol, [None] * 100)
    (result,) = finals(results)
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'no_face_at_call'
    # decided once presence_s (0.5 s) after the call has passed, not at the end of the window
    assert result.decided_ns <= stamp(30) + 500_000_000 + PERIOD


def test_a_call_for_a_face_that_is_not_there() -> None:
    results = run(NameCallProtocol(), [30.0] * 100, target='someone_else')
    (result,) = finals(results)
    assert result.status == ProtocolStatus.NO_FACE and result.target_id == 'someone_else'


def test_no_target_means_the_most_central_face() -> None:
    def faces(i, yaw):
        return [FaceSample('left', 30.0, 0.1), FaceSample('centre', yaw, 0.55), FaceSample('right', 30.0, 0.9)]

    yaws = [ramp_yaw(i / FPS, 30.0, 1.5, 90.0) for i in range(250)]
    (result,) = finals(run(NameCallProtocol(), yaws, faces_fn=faces, target=''))
    assert result.target_id == 'centre' and result.status == ProtocolStatus.RESPONDED


def test_missing_head_pose_at_the_call() -> None:
    (result,) = finals(run(NameCallProtocol(), [math.nan] * 100))
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'no_head_pose_at_call'


def test_frames_without_head_pose_in_the_window_are_skipped() -> None:
    yaws = [ramp_yaw(i / FPS, 40.0, 1.6, 80.0) for i in range(250)]
    for i in range(40, 60, 3):
        yaws[i] = math.nan
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.RESPONDED
    assert result.latency_s == pytest.approx(0.7875, abs=1e-3)


def test_a_face_that_leaves_mid_protocol_and_does_not_return() -> None:
    yaws = [30.0] * 45 + [None] * 200
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.ABORTED and result.reason == 'face_lost'


def test_a_face_that_leaves_and_comes_back_is_still_measured() -> None:
    yaws = [30.0] * 40 + [None] * 20 + [ramp_yaw(i / FPS, 30.0, 2.3, 90.0) for i in range(60, 250)]
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.RESPONDED
    assert result.latency_s == pytest.approx(1.3 + 15 / 90, abs=1e-3)


def test_a_face_present_at_the_call_but_never_again() -> None:
    yaws = [30.0] * 31 + [None] * 200
    (result,) = finals(run(NameCallProtocol(), yaws))
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'face_lost_whole_window'


def test_time_passing_without_frames_decides_the_call() -> None:
    protocol = NameCallProtocol()
    run(protocol, [30.0] * 31)  # the camera stops right after the call
    assert protocol.waiting() and not finals(protocol.advance(stamp(31) + 1_000_000_000))
    (result,) = finals(protocol.advance(stamp(31) + 10_000_000_000))
    assert result.status == ProtocolStatus.NO_FACE
    assert not protocol.waiting()


def test_a_call_with_no_frames_at_all() -> None:
    protocol = NameCallProtocol()
    assert protocol.start(stamp(0), 'f1', 'Sam')[0].status == ProtocolStatus.WAITING
    (result,) = finals(protocol.advance(stamp(0) + 1_000_000_000))
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'no_frames'


def test_a_new_call_supersedes_the_running_one() -> None:
    protocol = NameCallProtocol()
    run(protocol, [30.0] * 40)
    out = protocol.start(stamp(40), 'f1', 'Sam')
    assert [r.status for r in out] == [ProtocolStatus.ABORTED, ProtocolStatus.WAITING]
    assert out[0].reason == 'superseded' and out[0].stimulus_ns == stamp(30)


def test_the_affect_in_the_window_after_the_call() -> None:
    happy = np.eye(len(EMOTIONS))[EMOTIONS.index('happy')]
    sad = np.eye(len(EMOTIONS))[EMOTIONS.index('sad')]
    yaws = [ramp_yaw(i / FPS, 40.0, 1.6, 80.0) for i in range(300)]
    (result,) = finals(run(NameCallProtocol(), yaws, affect=lambda i: sad if i < 30 else happy))
    assert result.response_emotion == 'happy'
    assert result.affect_samples == 91  # frames 30..120: the 3 s window, both ends included
    assert result.response_valence == pytest.approx(0.5)
    record = result.record()
    assert record['status'] == 'responded' and record['response_probabilities']['happy'] == 1.0


def test_options_are_checked() -> None:
    with pytest.raises(ConfigError, match='turn_threshold_deg'):
        NameCallOptions(turn_threshold_deg=0.0)
    with pytest.raises(ConfigError, match='history_s'):
        NameCallOptions(history_s=1.0)


def test_time_going_backwards_ends_running_calls_and_starts_afresh() -> None:
    protocol = NameCallProtocol()
    run(protocol, [30.0] * 40)
    (ended,) = protocol.observe_faces(stamp(0) - 10_000_000_000, [FaceSample('f1', 30.0)])
    assert ended.status == ProtocolStatus.ABORTED and ended.reason == 'time_jump'
    assert not protocol.waiting()
    yaws = [ramp_yaw(i / FPS, 40.0, 1.6, 80.0) for i in range(300)]
    (result,) = finals(run(protocol, yaws))  # the replay's second loop is measured like the first
    assert result.status == ProtocolStatus.RESPONDED and result.latency_s == pytest.approx(0.7875, abs=1e-3)


def test_stop_aborts_running_calls() -> None:
    protocol = NameCallProtocol()
    run(protocol, [30.0] * 40)
    protocol.start(stamp(35), 'f2', 'Kim')
    (stopped,) = protocol.abort('f2')
    assert stopped.status == ProtocolStatus.ABORTED and stopped.reason == 'stopped' and stopped.target_id == 'f2'
    (other,) = protocol.abort()
    assert other.target_id == 'f1' and not protocol.waiting()


def test_the_stimulus_is_the_speech_onset_after_the_command_else_its_stamp() -> None:
    onset = SpeechOnset(wait_s=2.0)
    call = PendingCall(stamp_ns=10 * S, received_ns=10 * S + 1000, target_id='f1', name='Sam')
    assert onset.command(call, robot_reports_speaking=False) == [(10 * S, call)]  # no speaking signal: at once
    assert onset.command(call, robot_reports_speaking=True) == []
    assert onset.speaking(False, 10 * S + 2000) == []
    assert onset.speaking(True, 11 * S) == [(11 * S, call)]  # the rising edge within 2 s
    assert onset.speaking(True, 11 * S + 10) == []  # still speaking: no new edge
    late = PendingCall(stamp_ns=20 * S, received_ns=20 * S, target_id='f1', name='Sam')
    onset.command(late, robot_reports_speaking=True)
    assert onset.tick(21 * S) == [] and onset.tick(22 * S + 1) == [(20 * S, late)]  # no edge: the command stamp
    onset.command(late, robot_reports_speaking=True)
    assert onset.cancel('f1') == [late] and not onset.pending


def test_the_onset_is_the_edges_stamp_whenever_the_signal_or_the_command_arrives() -> None:
    # The bridge stamps the edge where it sees it; the signal and the command come from two publishers
    # and reach the interaction node late and in either order.
    onset = SpeechOnset(wait_s=2.0)
    call = PendingCall(stamp_ns=10 * S, received_ns=11 * S, target_id='f1', name='Sam')  # delivered 1 s late
    assert onset.command(call, robot_reports_speaking=True) == []
    assert onset.speaking(True, 10 * S + S // 10) == [(10 * S + S // 10, call)]  # before its receive time
    onset.speaking(False, 12 * S)
    # the speech began before the command was issued: another utterance, not the name
    early = PendingCall(stamp_ns=20 * S, received_ns=20 * S, target_id='f1', name='Sam')
    assert onset.speaking(True, 19 * S) == []
    assert onset.command(early, robot_reports_speaking=True) == []
    onset.speaking(False, 21 * S)
    assert onset.speaking(True, 21 * S + 1) == [(21 * S + 1, early)]
    onset.speaking(False, 23 * S)
    # the signal first, then its command: the edge already seen starts the call at once
    assert onset.speaking(True, 30 * S + S // 5) == []
    first = PendingCall(stamp_ns=30 * S, received_ns=30 * S + S // 2, target_id='f1', name='Sam')
    assert onset.command(first, robot_reports_speaking=True) == [(30 * S + S // 5, first)]
    # ... but not once the robot has stopped speaking, nor when the edge came after the wait
    onset.speaking(False, 31 * S)
    again = PendingCall(stamp_ns=30 * S, received_ns=31 * S, target_id='f1', name='Sam')
    assert onset.command(again, robot_reports_speaking=True) == []
    onset.cancel()
    assert onset.speaking(True, 40 * S) == []
    stale = PendingCall(stamp_ns=37 * S, received_ns=37 * S, target_id='f1', name='Sam')
    assert onset.command(stale, robot_reports_speaking=True) == []  # the edge came after the 2 s wait
    assert onset.tick(40 * S) == [(37 * S, stale)]  # so the command's stamp is the stimulus



def test_a_rekey_moves_a_tracks_samples_and_affect_to_its_person() -> None:
    # The face is identified as person p1 after the call: its samples and affect before that, kept
    # under 'f1', count for the call as p1's; the frames after come as p1's.
    happy = np.eye(len(EMOTIONS))[EMOTIONS.index('happy')]
    protocol = NameCallProtocol()
    yaws = [ramp_yaw(i / FPS, 40.0, 1.6, 80.0) for i in range(300)]
    results = protocol.start(stamp(30), 'f1', 'Sam')
    for i, yaw in enumerate(yaws):
        key = 'f1' if i < 45 else 'person:p1'
        if i == 45:
            results += protocol.rekey('f1', 'person:p1')
        protocol.observe_affect(key, stamp(i), happy, 0.5)
        results += protocol.observe_faces(stamp(i), [FaceSample(key, yaw, 0.5)])
    (result,) = finals(results)
    assert result.status == ProtocolStatus.RESPONDED and result.target_id == 'person:p1'
    assert result.yaw_before_deg == 40.0 and result.affect_samples == 91
    assert result.latency_s == pytest.approx(0.6 + 15 / 80, abs=1e-6)


def test_an_awaited_target_waits_for_its_rekey_until_the_window_ends() -> None:
    protocol = NameCallProtocol()
    results = protocol.start(stamp(30), 'who?', 'Sam', awaited=True)
    for i in range(30 + 5 * FPS):       # the window (5 s) has not ended: still waiting
        results += protocol.observe_faces(stamp(i), [FaceSample('f1', 40.0, 0.5)])
    assert finals(results) == [] and protocol.waiting()[0].target_id == 'who?'
    results += protocol.observe_faces(stamp(31 + 5 * FPS), [FaceSample('f1', 40.0, 0.5)])
    (result,) = finals(results)
    assert (result.status, result.reason) == (ProtocolStatus.NO_FACE, 'target_not_identified')
