"""NameCallRunner: commands, speech onsets, faces, affect and stalls in; WAITING states and results out."""
from __future__ import annotations

import numpy as np
import pytest

from attune.behavior.protocol import (
    FaceSample,
    NameCallOptions,
    NameCallRunner,
    PendingCall,
    ProtocolStatus,
    over_emotions,
)
from attune.emotions import EMOTIONS

S = 1_000_000_000
FRAME = S // 30


def test_over_emotions_reorders_and_renormalizes() -> None:
    happy, sad = EMOTIONS.index('happy'), EMOTIONS.index('sad')
    out = over_emotions(('sad', 'banana', 'happy'), (0.2, 0.5, 0.3))
    assert out is not None and out[happy] == pytest.approx(0.6) and out[sad] == pytest.approx(0.4)
    assert over_emotions(('banana',), (1.0,)) is None


def test_a_call_measures_the_turn_and_the_affect_after_it() -> None:
    runner = NameCallRunner(NameCallOptions(response_window_s=2.0, affect_window_s=1.0))
    call_ns = 10 * S
    out = []
    for i in range(60):  # 2 s at 30 fps: facing away (yaw 40), turning at the call + 0.5 s
        stamp = call_ns - S + i * FRAME
        yaw = 40.0 if stamp < call_ns + S // 2 else 0.0
        if i == 30:
            out += runner.command(PendingCall(call_ns, 0, 'f1', 'Sam'), False, wall_s=float(i))
        out += runner.faces(stamp, [FaceSample('f1', yaw, 0.5)], wall_s=float(i))
        happy = tuple(1.0 if e == 'happy' else 0.0 for e in EMOTIONS)
        assert runner.affect('f1', stamp, EMOTIONS, happy, 0.7)
    for i in range(60, 100):
        out += runner.faces(call_ns - S + i * FRAME, [FaceSample('f1', 0.0, 0.5)], wall_s=float(i))
    statuses = [r.status for r in out]
    assert statuses == [ProtocolStatus.WAITING, ProtocolStatus.RESPONDED]
    result = out[-1]
    assert result.target_id == 'f1' and result.name == 'Sam' and result.response_emotion == 'happy'
    assert 0.45 < result.latency_s < 0.55 and result.response_valence == pytest.approx(0.7)
    assert runner.calls == 1 and runner.running == 0


def test_a_call_waits_for_the_speech_onset_and_stop_aborts_it() -> None:
    runner = NameCallRunner(speaking_wait_s=2.0, stimulus_delay_s=0.25)
    assert runner.command(PendingCall(5 * S, 5 * S, 'f1', 'Sam'), True, wall_s=0.0) == []
    (waiting,) = runner.speaking(True, 6 * S, wall_s=1.0)
    assert waiting.status == ProtocolStatus.WAITING and waiting.stimulus_ns == 6 * S + S // 4
    (stopped,) = runner.stop('f1')
    assert stopped.status == ProtocolStatus.ABORTED and stopped.reason == 'stopped' and runner.running == 0


def test_without_frames_a_call_ends_no_face_after_the_time_out_of_wall_time() -> None:
    runner = NameCallRunner(frame_timeout_s=2.0)
    runner.command(PendingCall(5 * S, 5 * S, '', 'Sam'), False, wall_s=100.0)
    for i in range(1, 10):  # the node's timer, every 0.2 s
        assert runner.tick(0, wall_s=100.0 + 0.2 * i) == []
    (result,) = runner.tick(0, wall_s=102.1)
    assert result.status == ProtocolStatus.NO_FACE and result.reason == 'no_frames'
    assert np.isnan(result.latency_s)


def test_a_call_waiting_for_its_speech_onset_follows_a_rekey() -> None:
    # The participant is identified between the command and the robot's speech onset.
    runner = NameCallRunner(speaking_wait_s=2.0)
    assert runner.command(PendingCall(5 * S, 5 * S, 'participant?', 'Sam', awaited=True), True, wall_s=0.0) == []
    assert runner.rekey('participant?', 'person:p1') == []
    (waiting,) = runner.speaking(True, 6 * S, wall_s=1.0)
    assert waiting.target_id == 'person:p1' and waiting.stimulus_ns == 6 * S
