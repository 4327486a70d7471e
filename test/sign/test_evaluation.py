"""Scoring sign models: window and block accuracy, the robustness check, and reading a video's hands
through the recognizer (frames from a recorded block, no MediaPipe)."""
from __future__ import annotations

import numpy as np

from attune.hands.types import HandFrame, HandObservation
from attune.sign.augment import SignerVariation
from attune.sign.evaluation import block_vote, robustness, window_scores
from attune.sign.model import SignModel
from attune.sign.segments import LandmarkDataset, Segment
from attune.sign.video import read_signs
from test.hands.test_normalize import hand


def toy() -> LandmarkDataset:
    segments = tuple(Segment(g, b, 'image', np.stack([hand(b)[:, :2]] * 20), rows=np.arange(20))
                     for b, g in enumerate('ABAB'))
    return LandmarkDataset('toy', ('A', 'B'), segments, groups=('shape', 'presence'))


def test_window_scores_and_block_vote() -> None:
    dataset = toy()
    always_a = lambda x: np.zeros(len(x), dtype=np.int64)  # noqa: E731
    scores = window_scores(always_a, dataset, 16)
    assert scores['windows'] == 4 * 5 and scores['window_accuracy'] == 0.5 and scores['block_accuracy'] == 0.5
    assert scores['per_gloss'] == {'A': 1.0, 'B': 0.0}
    assert block_vote(np.array([0, 0, 1, 1, 1]), np.array([0, 0, 1, 1, 1]), np.array([0, 0, 1, 1, 2])) == 1.0


def test_robustness_reports_each_component_and_all_deterministically() -> None:
    dataset = toy()
    calls = []

    def shape_sum(x: np.ndarray) -> np.ndarray:  # a "model" whose answer moves with the shape
        calls.append(len(x))
        return (x[:, -1, :42].sum(axis=1) > np.median(x[:, -1, :42].sum(axis=1))).astype(np.int64)

    variation = SignerVariation(roll_deg=10.0, tilt_deg=20.0, jitter=0.02)
    first = robustness(shape_sum, dataset, 16, variation, seed=1)
    assert set(first) == {'roll', 'tilt', 'jitter', 'all'}
    assert robustness(shape_sum, dataset, 16, variation, seed=1) == first
    assert all(0.0 <= v <= 1.0 for v in first.values()) and calls


def test_read_signs_reports_events_and_frame_tops_of_a_held_letter() -> None:
    model = SignModel('asl_alphabet')
    from attune.sign.datasets import load_builtin, split_blocks
    from test.conftest import shared_data

    split = split_blocks(load_builtin('asl_alphabet', shared_data('hands')))
    block = next(s for s in split.test.segments if s.gloss == 'B' and len(s) >= 30)
    frames = [HandFrame(i * 33_333_333, 640, 480, (HandObservation('right', 0.9, np.c_[p, np.zeros(21)]
                                                                   .astype(np.float32)),))
              for i, p in enumerate(block.points[:30])] + [HandFrame((30 + i) * 33_333_333, 640, 480, ())
                                                            for i in range(10)]
    readings = read_signs(frames, [model], mirrored=True)
    assert readings['frames'] == 40 and readings['frames_with_hands'] == 30 and readings['hands_seen'] == {'right': 30}
    entry = readings['asl_alphabet']
    assert [e['gloss'] for e in entry['events']] == ['B']
    assert next(iter(entry['frame_top']['glosses'])) == 'B' and entry['frame_top']['frames'] >= 30
