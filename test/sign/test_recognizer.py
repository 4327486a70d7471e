"""The streaming recognizer with the shipped models on held-out recordings: one event per held sign,
bad input (a hand lost mid-sign, NaN landmarks, too few frames), continuous decoding."""
from __future__ import annotations

import numpy as np
import pytest

from attune.errors import ConfigError, ModelFileError
from attune.hands.types import HandFrame, HandObservation
from attune.sign.compose import SequenceComposer
from attune.sign.ctc import error_rate
from attune.sign.datasets import load_builtin, split_blocks
from attune.sign.features import pad_window
from attune.sign.model import SignModel
from attune.sign.recognizer import RecognizerOptions, SignRecognizer, StreamOptions
from test.conftest import shared_data

FRAME_NS = 33_333_333


@pytest.fixture(scope='module')
def asl_split():
    return split_blocks(load_builtin('asl_alphabet', shared_data('hands')))


@pytest.fixture(scope='module')
def isolated() -> SignModel:
    return SignModel('asl_alphabet')


def held_out_block(split, gloss: str, frames: int = 30) -> np.ndarray:
    """Consecutive frames (image coordinates) of one held-out block of `gloss`."""
    segment = max((s for s in split.test.segments if s.gloss == gloss), key=len)
    assert len(segment) >= frames
    return segment.points[:frames]


def to_frames(points: np.ndarray, start: int = 0) -> list[HandFrame]:
    """ASL data are a right hand in a mirrored view: 640 x 480 images (the assumed 4:3)."""
    frames = []
    for i, p in enumerate(points):
        hands = ()
        if p is not None:
            hands = (HandObservation('right', 0.95, np.c_[p, np.zeros(21)].astype(np.float32)),)
        frames.append(HandFrame((start + i) * FRAME_NS, 640, 480, hands))
    return frames


def run(recognizer: SignRecognizer, frames: list[HandFrame]) -> tuple[list, list]:
    events, problems = [], []
    for frame in frames:
        result = recognizer.update(frame)
        events += result.events
        problems += result.problems
    return events + recognizer.flush(), problems


def recognizer(isolated: SignModel, **options) -> SignRecognizer:
    return SignRecognizer(RecognizerOptions(mode='isolated', stream=StreamOptions(mirrored_input=True), **options),
                          isolated=isolated)


def test_a_held_sign_is_one_event_with_its_stamps(asl_split, isolated) -> None:
    points = held_out_block(asl_split, 'B', 30)
    frames = to_frames(list(points) + [None] * 10)
    events, problems = run(recognizer(isolated), frames)
    assert not problems
    assert [(e.gloss, e.mode, e.handedness) for e in events] == [('B', 'isolated', 'right')]
    event = events[0]
    assert 0 <= event.start_ns < event.end_ns <= 29 * FRAME_NS < event.stamp_ns
    assert event.confidence > 0.7 and event.top[0][0] == 'B' and len(event.top) == 3
    assert event.source == 'asl_alphabet'


def test_two_letters_in_a_row_are_two_events(asl_split, isolated) -> None:
    points = list(held_out_block(asl_split, 'L', 25)) + list(held_out_block(asl_split, 'Y', 25)) + [None] * 10
    events, _ = run(recognizer(isolated), to_frames(points))
    assert [e.gloss for e in events] == ['L', 'Y']


def test_bad_input_is_survived_and_reported(asl_split, isolated) -> None:
    points = list(held_out_block(asl_split, 'V', 30))
    frames = to_frames(points + [None] * 10)
    frames[10] = HandFrame(frames[10].stamp_ns, 640, 480, ())  # the hand lost mid-sign, 2 frames
    frames[11] = HandFrame(frames[11].stamp_ns, 640, 480, ())
    nan = np.c_[points[15], np.zeros(21)].astype(np.float32)
    nan[4, 0] = np.nan
    frames[15] = HandFrame(frames[15].stamp_ns, 640, 480, (HandObservation('right', 0.9, nan),))
    short = np.zeros((20, 3), np.float32)  # a malformed message: 20 landmarks
    frames[18] = HandFrame(frames[18].stamp_ns, 640, 480, (HandObservation('right', 0.9, short),))
    frames[20] = HandFrame(frames[20].stamp_ns, 0, 0, frames[20].hands)  # unknown image size
    events, problems = run(recognizer(isolated), frames)
    assert [e.gloss for e in events] == ['V']  # still one sign
    assert len(problems) == 2 and 'NaN' in problems[0] and 'shape (20, 3)' in problems[1]


def test_sequences_shorter_than_the_window(asl_split, isolated) -> None:
    points = held_out_block(asl_split, 'W', 30)
    window = isolated.info.window
    stream = recognizer(isolated).stream
    short = np.stack([stream.step(f).features for f in to_frames(points[:5])])
    probabilities = isolated.probabilities(pad_window(short, window).features)
    assert isolated.glosses[int(probabilities.argmax())] == 'W'  # padded in front, still W
    events, problems = run(recognizer(isolated), to_frames(list(points[:3]) + [None] * 5))
    assert events == [] and problems == []  # too short for a decision: nothing, and no error


def test_continuous_decoding_of_held_out_composed_sequences(asl_split) -> None:
    continuous = SignModel('asl_fingerspelling_ctc')
    composer = SequenceComposer(asl_split.test)
    rng = np.random.default_rng(7)
    references, hypotheses = [], []
    options = RecognizerOptions(mode='continuous', stream=StreamOptions(mirrored_input=True), decoder='beam')
    for _ in range(6):
        sequence = composer.sample(rng)
        rec = SignRecognizer(options, continuous=continuous)
        points = [None if not np.isfinite(p).all() else p for p in sequence.points]
        events, _ = run(rec, to_frames(points + [None] * 10))
        assert len(events) <= 1 and all(e.mode == 'continuous' for e in events)
        references.append([asl_split.test.glosses[k] for k in sequence.labels])
        hypotheses.append(list(events[0].sequence) if events else [])
        if events:
            assert events[0].gloss == events[0].sequence[-1] and events[0].start_ns <= events[0].end_ns
    assert error_rate(references, hypotheses) <= 0.35, (references, hypotheses)


def test_models_must_fit_their_role(isolated) -> None:
    with pytest.raises(ConfigError, match='continuous'):
        SignRecognizer(RecognizerOptions(mode='both'), isolated=isolated)
    with pytest.raises(ConfigError, match='isolated'):
        SignRecognizer(RecognizerOptions(mode='isolated'), isolated=SignModel('asl_fingerspelling_ctc'))
    with pytest.raises(ModelFileError, match='no_such_model'):
        SignModel('no_such_model.onnx')
