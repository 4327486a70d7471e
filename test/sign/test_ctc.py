"""CTC decoding on known sequences: greedy, prefix beam search (checked against brute force), error rates."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from attune.sign.ctc import beam_decode, edit_distance, error_rate, greedy_decode, log_softmax


def one_hot_path(path: list[int], classes: int, p: float = 0.9) -> np.ndarray:
    """Log-probabilities whose best path is `path` (each frame p on its class, the rest shared)."""
    probs = np.full((len(path), classes), (1 - p) / (classes - 1))
    probs[np.arange(len(path)), path] = p
    return np.log(probs)


@pytest.mark.parametrize(('path', 'expected'), [
    ([0, 1, 1, 0, 2, 2, 2, 0], (0, 1)),       # blanks and repeats merge
    ([1, 1, 0, 1, 1], (0, 0)),                # a blank separates a doubled label
    ([1, 1, 1, 1], (0,)),                     # without a blank it is one label
    ([0, 0, 0], ()),                          # all blank
    ([3, 1, 2, 3], (2, 0, 1, 2)),             # no blank between different labels
])
def test_greedy_decodes_known_paths(path, expected) -> None:
    assert greedy_decode(one_hot_path(path, 4)).labels == expected


def test_greedy_reports_the_frames_of_each_label() -> None:
    decoded = greedy_decode(one_hot_path([0, 1, 1, 0, 2, 2, 2, 0], 3))
    assert decoded.spans == ((1, 2), (4, 6))
    assert decoded.log_prob == pytest.approx(8 * math.log(0.9))


def brute_force(log_probs: np.ndarray) -> dict[tuple[int, ...], float]:
    """p(labels) summed over every alignment (the CTC definition), for tiny inputs."""
    totals: dict[tuple[int, ...], float] = {}
    t, c = log_probs.shape
    for path in itertools.product(range(c), repeat=t):
        collapsed = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        labels = tuple(k - 1 for k in collapsed if k != 0)
        totals[labels] = totals.get(labels, 0.0) + math.exp(sum(log_probs[i, k] for i, k in enumerate(path)))
    return totals


def test_beam_search_sums_alignments_exactly() -> None:
    rng = np.random.default_rng(3)
    log_probs = log_softmax(rng.normal(size=(5, 3)) * 2)
    truth = brute_force(log_probs)
    beams = beam_decode(log_probs, beam_width=50, prune=-math.inf)
    for decoded in beams:
        assert math.exp(decoded.log_prob) == pytest.approx(truth[decoded.labels], rel=1e-9)
    assert beams[0].labels == max(truth, key=truth.get)


def test_beam_finds_the_most_probable_sequence_where_greedy_does_not() -> None:
    # Per frame: blank 0.4, label 'a' 0.35 (x2 frames), 'b' 0.25. The best path is blank-blank
    # (0.16) but "a" collects a+a, a+blank, blank+a = 0.1225 + 0.14 + 0.14 = 0.4025.
    probs = np.array([[0.4, 0.35, 0.25], [0.4, 0.35, 0.25]])
    log_probs = np.log(probs)
    assert greedy_decode(log_probs).labels == ()
    best = beam_decode(log_probs, beam_width=4)[0]
    assert best.labels == (0,)
    assert math.exp(best.log_prob) == pytest.approx(0.4025)


def test_beam_and_greedy_agree_on_confident_paths_and_handle_empty_input() -> None:
    log_probs = one_hot_path([0, 2, 2, 0, 2, 0, 1, 1], 3, p=0.98)
    assert beam_decode(log_probs)[0].labels == greedy_decode(log_probs).labels == (1, 1, 0)
    assert beam_decode(log_probs)[0].spans == ((1, 2), (4, 4), (6, 7))
    assert beam_decode(np.zeros((0, 3)))[0].labels == ()
    assert greedy_decode(np.zeros((0, 3))).labels == ()
    with pytest.raises(ValueError, match='beam_width'):
        beam_decode(log_probs, beam_width=0)


def test_edit_distance_and_error_rate() -> None:
    assert edit_distance('kitten', 'sitting') == 3
    assert edit_distance((), (1, 2)) == 2
    assert edit_distance((1, 2, 3), (1, 2, 3)) == 0
    assert error_rate([(1, 2, 3, 4), (5,)], [(1, 3, 4), (5, 6)]) == pytest.approx(2 / 5)
    assert error_rate([()], [()]) == 0.0
    with pytest.raises(ValueError, match='differ'):
        error_rate([(1,)], [])
