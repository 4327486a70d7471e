"""Hysteresis: one held sign is one event; flicker, changes and gaps; the continuous segmenter."""
from __future__ import annotations

import numpy as np
import pytest

from attune.errors import ConfigError
from attune.sign.hysteresis import ActivitySegmenter, HysteresisOptions, SegmenterOptions, SignHysteresis

GLOSSES = ('A', 'B', 'C')


def probs(best: int, p: float) -> np.ndarray:
    out = np.full(3, (1 - p) / 2)
    out[best] = p
    return out


def feed(h: SignHysteresis, frames: list) -> list:
    events = []
    for i, p in enumerate(frames):
        event = h.update(1000 + i, p)
        if event is not None:
            events.append(event)
    return events


def test_a_sign_held_for_thirty_frames_is_one_event_with_its_duration() -> None:
    h = SignHysteresis(GLOSSES, HysteresisOptions(smoothing=0.0), source='test')
    frames = [probs(0, 0.1)] * 3 + [probs(0, 0.95)] * 30 + [probs(2, 0.5)] * 6
    events = feed(h, frames)
    assert len(events) == 1
    (event,) = events
    assert (event.gloss, event.mode, event.source) == ('A', 'isolated', 'test')
    assert event.start_ns == 1003 and event.end_ns == 1032  # first and last frame of the hold
    assert event.stamp_ns == 1003 + 30 + 3  # decided when release_frames (4) frames fell below off
    assert event.confidence == pytest.approx(0.95)
    assert [g for g, _ in event.top] == ['A', 'B', 'C']


def test_flicker_around_the_on_threshold_stays_one_sign() -> None:
    # 0.75 / 0.5 alternating: above on (0.7) half the time, never below off (0.4).
    h = SignHysteresis(GLOSSES, HysteresisOptions(smoothing=0.0, min_frames=2))
    frames = [probs(1, 0.9)] * 3 + [probs(1, 0.75), probs(1, 0.5)] * 20 + [probs(0, 0.9)] * 10
    events = feed(h, frames)
    assert [e.gloss for e in events] == ['B']
    assert h.held == 'A'  # the next sign is being held
    assert [e.gloss for e in [h.flush(5000)]] == ['A']


def test_a_change_of_sign_gives_two_events_and_short_blips_none() -> None:
    h = SignHysteresis(GLOSSES, HysteresisOptions(smoothing=0.0))
    frames = ([probs(0, 0.9)] * 10 + [probs(2, 0.9)] * 2 + [probs(0, 0.9)] * 10  # 2-frame blip of C
              + [probs(1, 0.9)] * 10 + [None] * 10)
    events = feed(h, frames)
    assert [e.gloss for e in events] == ['A', 'B']


def test_short_hand_gaps_are_bridged_long_ones_end_the_sign() -> None:
    h = SignHysteresis(GLOSSES, HysteresisOptions(smoothing=0.0, max_gap_frames=5))
    events = feed(h, [probs(0, 0.9)] * 8 + [None] * 5 + [probs(0, 0.9)] * 8 + [None] * 6)
    assert [e.gloss for e in events] == ['A']
    assert events[0].end_ns == 1000 + 8 + 5 + 7


def test_onset_reporting_and_smoothing() -> None:
    h = SignHysteresis(GLOSSES, HysteresisOptions(report='onset', min_frames=3, smoothing=0.5))
    events = feed(h, [probs(2, 0.95)] * 20 + [None] * 10)
    assert [e.gloss for e in events] == ['C']
    assert events[0].stamp_ns < 1000 + 6  # early: smoothed p crosses 0.7 by frame 2, three frames later
    assert h.flush(2000) is None


def test_bad_probabilities_and_options_are_refused() -> None:
    h = SignHysteresis(GLOSSES)
    with pytest.raises(ValueError, match='finite'):
        h.update(0, np.array([0.5, np.nan, 0.5]))
    with pytest.raises(ValueError, match='shape'):
        h.update(0, np.ones(2) / 2)
    with pytest.raises(ConfigError):
        HysteresisOptions(on_threshold=0.3, off_threshold=0.5)
    with pytest.raises(ConfigError):
        HysteresisOptions(report='sometimes')


def test_segmenter_cuts_on_gaps_drops_short_runs_and_limits_length() -> None:
    s = ActivitySegmenter(SegmenterOptions(end_gap_frames=3, min_frames=4, max_frames=20))
    x = np.zeros(2)
    pattern = [True] * 6 + [False] + [True] * 2 + [False] * 3 + [True] * 2 + [False] * 3 + [True] * 25
    segments = []
    for i, present in enumerate(pattern):
        segment = s.update(i, x, present, 'right')
        if segment is not None:
            segments.append(segment)
    tail = s.flush()
    # 6 + gap 1 + 2 = 9 frames (one short gap inside); 2 frames: dropped; 25: cut at 20, rest 5.
    assert [len(seg.stamps_ns) for seg in segments] == [9, 20]
    assert segments[0].stamps_ns[0] == 0 and segments[0].hands == frozenset({'right'})
    assert tail is not None and len(tail.stamps_ns) == 5
    with pytest.raises(ConfigError):
        SegmenterOptions(min_frames=10, max_frames=5)
