"""Per-person neutral calibration (ROS-free): which frames become a key's neutral reference, the
operator's "neutral now", keys that can later be person ids, and the head's calibrated output."""
from __future__ import annotations

import numpy as np
import pytest

from attune.emotions import EMOTIONS
from attune.errors import ConfigError
from attune.expression.action_units import AU_INDEX, AU_NAMES
from attune.expression.calibration import CalibrationOptions, NeutralCalibrator

S = 1_000_000_000
RESTING = np.array([1.0, -1.0, 0.5, -1.0, -2.0, -2.0, -0.5], np.float32)   # reads a little sad
SMILE = RESTING + np.eye(len(EMOTIONS), dtype=np.float32)[EMOTIONS.index('happy')] * 4.0
CLOSED = np.zeros(len(AU_NAMES), np.float32)


def feed(calibrator: NeutralCalibrator, key: str, logits: np.ndarray, start_s: float, frames: int,
         aus: np.ndarray = CLOSED, frontal: bool = True, step_s: float = 0.1) -> float:
    for i in range(frames):
        calibrator.observe(key, int((start_s + i * step_s) * S), logits, aus, frontal)
    return start_s + frames * step_s


def test_neutral_frontal_frames_of_the_first_seconds_become_the_reference() -> None:
    c = NeutralCalibrator(CalibrationOptions(warmup_s=3.0, min_frames=5))
    rng = np.random.default_rng(0)
    t = 0.0
    for _ in range(4):
        t = feed(c, 'a', RESTING + rng.normal(0, 0.05, 7).astype(np.float32), t, 1)
    assert c.reference('a') is None   # 4 < min_frames
    t = feed(c, 'a', SMILE, t, 5)     # a smile is not neutral: not taken
    t = feed(c, 'a', RESTING, t, 3, frontal=False)   # nor are turned heads
    assert c.reference('a') is None and c.frames('a') == 4
    t = feed(c, 'a', RESTING, t, 1)
    np.testing.assert_allclose(c.reference('a'), RESTING, atol=0.06)
    feed(c, 'a', RESTING + 3.0 * np.eye(7, dtype=np.float32)[2], 10.0, 20)   # after the warm-up: frozen
    np.testing.assert_allclose(c.reference('a'), RESTING, atol=0.06)
    assert c.calibrated_keys() == 1 and len(c) == 1


def test_open_lips_and_a_late_start_are_handled() -> None:
    c = NeutralCalibrator(CalibrationOptions(warmup_s=1.0, min_frames=3))
    talking = CLOSED.copy()
    talking[AU_INDEX['AU25']] = 0.9
    feed(c, 'b', RESTING, 0.0, 10, aus=talking)   # talking through the warm-up: nothing taken
    assert c.reference('b') is None
    feed(c, 'b', RESTING, 5.0, 3)                 # too few by the end of the warm-up: keeps collecting
    assert c.reference('b') is not None
    feed(c, 'b', SMILE, 9.0, 50)                  # ... then stops
    np.testing.assert_allclose(c.reference('b'), RESTING)


#: A resting face the head reads as smiling: p(happy) ~0.5, above the gate's 0.4 in every frame.
BEAMING = np.array([1.0, 1.0, -1.0, -1.0, -2.0, -2.0, -1.0], np.float32)


def expressiveness(logits: np.ndarray) -> float:
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return float(p[[EMOTIONS.index(e) for e in ('happy', 'surprise', 'fear')]].sum())


def test_a_greeting_smile_through_the_gate_gives_way_to_the_resting_face_within_the_recheck() -> None:
    slight = RESTING + np.eye(7, dtype=np.float32)[EMOTIONS.index('happy')] * 1.2   # a closed-mouth smile
    assert expressiveness(RESTING) < 0.8 * expressiveness(slight) < 0.4            # ... that the gate lets through
    options = CalibrationOptions(warmup_s=3.0, min_frames=5, recheck_s=12.0, recheck_frames=30)
    c = NeutralCalibrator(options)
    feed(c, 'g', slight, 0.0, 31)           # greets with it through the warm-up (0-3 s): the first reference
    np.testing.assert_allclose(c.reference('g'), slight)
    t = feed(c, 'g', RESTING, 3.1, 29)      # at rest: one frame short of the recheck window
    np.testing.assert_allclose(c.reference('g'), slight)
    t = feed(c, 'g', RESTING, t, 1)         # the window's median is clearly less expressive: it takes over
    np.testing.assert_allclose(c.reference('g'), RESTING)
    feed(c, 'g', slight, t, 40)             # smiling again does not move it back
    np.testing.assert_allclose(c.reference('g'), RESTING)
    rested = NeutralCalibrator(options)     # at rest first, a little noisier later, then a subtle smile
    rng = np.random.default_rng(1)
    t = feed(rested, 'h', RESTING, 0.0, 30)
    for _ in range(60):
        t = feed(rested, 'h', RESTING + rng.normal(0, 0.1, 7).astype(np.float32), t, 1)
    t = feed(rested, 'h', slight, t, 30)
    np.testing.assert_allclose(rested.reference('h'), RESTING)
    late = NeutralCalibrator(options)       # past recheck_s nothing moves it
    feed(late, 'i', slight, 0.0, 31)
    feed(late, 'i', RESTING, 12.5, 40)
    np.testing.assert_allclose(late.reference('i'), slight)
    off = NeutralCalibrator(CalibrationOptions(warmup_s=3.0, recheck_s=0.0))
    feed(off, 'j', slight, 0.0, 31)
    feed(off, 'j', RESTING, 3.1, 40)
    np.testing.assert_allclose(off.reference('j'), slight)


def test_a_face_that_never_passes_the_gate_is_calibrated_on_its_least_expressive_frames() -> None:
    assert expressiveness(BEAMING) >= 0.4 > expressiveness(RESTING)
    c = NeutralCalibrator(CalibrationOptions(warmup_s=3.0, min_frames=5, max_frames=20, fallback_s=10.0))
    t = feed(c, 'd', SMILE, 0.0, 30)        # greets with a broad smile for 3 s
    t = feed(c, 'd', BEAMING, t, 40)        # then rests, with a face that reads as smiling
    assert t < 10.0 and c.reference('d') is None and c.frames('d') == 0
    t = feed(c, 'd', BEAMING, t, 31)        # 10 s after the face appeared: its least expressive frames
    np.testing.assert_allclose(c.reference('d'), BEAMING)
    feed(c, 'd', SMILE, t, 50)              # and later smiles do not move it
    np.testing.assert_allclose(c.reference('d'), BEAMING)
    off = NeutralCalibrator(CalibrationOptions(min_frames=5, fallback_s=0.0))   # 0: no fallback
    feed(off, 'd', BEAMING, 0.0, 200)
    assert off.reference('d') is None


def test_frames_through_the_gate_replace_a_fallback_reference_but_never_the_reverse() -> None:
    c = NeutralCalibrator(CalibrationOptions(warmup_s=1.0, min_frames=5, fallback_s=2.0))
    t = feed(c, 'e', SMILE, 0.0, 25)        # smiles for 2.5 s: the fallback takes it, for want of better
    np.testing.assert_allclose(c.reference('e'), SMILE)
    t = feed(c, 'e', RESTING, t, 4)
    np.testing.assert_allclose(c.reference('e'), SMILE)   # fewer than min_frames through the gate
    t = feed(c, 'e', RESTING, t, 1)
    np.testing.assert_allclose(c.reference('e'), RESTING)  # the gate's reference wins
    feed(c, 'e', BEAMING, t, 50)            # and no fallback replaces it afterwards
    np.testing.assert_allclose(c.reference('e'), RESTING)
    taught = NeutralCalibrator(CalibrationOptions(min_frames=5, fallback_s=1.0))
    taught.teach('f', start_ns=0, duration_ns=int(0.5 * S))
    t = feed(taught, 'f', BEAMING, 0.0, 6)
    t = feed(taught, 'f', SMILE, t, 30)     # the operator's reference is never the fallback's
    np.testing.assert_allclose(taught.reference('f'), BEAMING)
    for bad in ({'fallback_s': -1.0}, {'recheck_s': -1.0}, {'recheck_ratio': 0.0}, {'recheck_frames': 0}):
        with pytest.raises(ConfigError):
            CalibrationOptions(**bad)


def test_operator_neutral_now_replaces_the_reference_with_its_window() -> None:
    c = NeutralCalibrator(CalibrationOptions(min_frames=3))
    feed(c, 'c', RESTING, 0.0, 5)
    assert c.reference('c') is not None
    other = RESTING + 1.0
    c.teach('c', start_ns=0, duration_ns=int(0.5 * S))   # 0: from the next frame
    feed(c, 'c', SMILE, 10.0, 6)            # the operator vouches for these frames, smile or not
    assert c.reference('c') is not None and not np.allclose(c.reference('c'), SMILE)   # window not over yet
    feed(c, 'c', other, 10.6, 1)            # past the window: the taught frames take over
    np.testing.assert_allclose(c.reference('c'), SMILE)
    feed(c, 'c', other, 11.0, 10)           # and automatic calibration no longer moves it
    np.testing.assert_allclose(c.reference('c'), SMILE)
    c.teach('new', start_ns=int(20 * S), duration_ns=S)   # a key never seen before works too
    feed(c, 'new', other, 19.0, 3)          # before the window: automatic frames only
    feed(c, 'new', RESTING, 20.0, 5)
    feed(c, 'new', RESTING, 21.5, 1)
    np.testing.assert_allclose(c.reference('new'), RESTING)


def test_keys_can_move_to_a_person_id_and_are_bounded() -> None:
    c = NeutralCalibrator(CalibrationOptions(min_frames=1, max_keys=3))
    feed(c, 'track7', RESTING, 0.0, 1)
    c.rekey('track7', 'person:ada')
    assert c.reference('track7') is None
    np.testing.assert_allclose(c.reference('person:ada'), RESTING)
    c.set_reference('person:bob', SMILE)
    np.testing.assert_allclose(c.reference('person:bob'), SMILE)
    for k in range(3):
        feed(c, f't{k}', RESTING, 1.0 + k, 1)
    assert len(c) == 3 and c.reference('person:ada') is None   # least recently seen forgotten
    c.forget('t0')
    c.forget()
    assert len(c) == 0
    with pytest.raises(ConfigError):
        CalibrationOptions(min_frames=0)


def test_head_calibration_reads_expression_relative_to_the_persons_neutral() -> None:
    from attune.expression.head import ExpressionHead

    head = ExpressionHead()
    assert head.margin >= 0
    resting = head.calibrated(RESTING, RESTING)
    assert EMOTIONS[int(resting.argmax())] == 'neutral' and abs(float(resting.sum()) - 1) < 1e-5
    assert EMOTIONS[int(head.calibrated(SMILE, RESTING).argmax())] == 'happy'

