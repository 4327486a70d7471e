"""CTC decoding (greedy and prefix beam search) and error rates, on numpy log-probabilities.

Conventions: `log_probs` is (T, C + 1) log-softmax output of a ContinuousSignRecognizer; index 0 is
the CTC blank and index k >= 1 is gloss k - 1 of the model's vocabulary.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

BLANK = 0


@dataclass(frozen=True)
class Decoded:
    """A decoded label sequence (gloss indices, blank excluded, 0-based into the vocabulary).

    log_prob: log-probability of the sequence (beam: summed over its alignments; greedy: the best
    path's). spans: (first, last) frame of each label in the best alignment found.
    """

    labels: tuple[int, ...]
    log_prob: float
    spans: tuple[tuple[int, int], ...] = ()


def log_softmax(logits: npt.NDArray[Any]) -> npt.NDArray[Any]:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: npt.NDArray[Any] = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


def greedy_decode(log_probs: npt.NDArray[Any]) -> Decoded:
    """Best path: argmax per frame, merge repeats, drop blanks."""
    log_probs = np.asarray(log_probs)
    if log_probs.ndim != 2 or log_probs.shape[0] == 0:
        return Decoded((), 0.0)
    best = log_probs.argmax(axis=1)
    labels, spans = [], []
    previous = BLANK
    for t, k in enumerate(best):
        k = int(k)
        if k != BLANK and k != previous:
            labels.append(k - 1)
            spans.append([t, t])
        elif k != BLANK and k == previous:
            spans[-1][1] = t
        previous = k
    score = float(log_probs[np.arange(len(best)), best].sum())
    return Decoded(tuple(labels), score, tuple((a, b) for a, b in spans))


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def beam_decode(log_probs: npt.NDArray[Any], beam_width: int = 8, prune: float = -8.0) -> list[Decoded]:
    """CTC prefix beam search; up to `beam_width` label sequences, most probable first.

    Each prefix keeps the log-probability of its alignments ending in a blank and ending in its
    last label; extending by the same label needs a blank in between. Labels whose frame
    log-probability is more than -prune below that frame's best are not tried at that frame
    (e^-8: 0.03 % of the best; -inf tries every label). The best sequence's spans come from its
    forced (Viterbi) alignment; the others have none (`align` gives them when needed).
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if beam_width < 1:
        raise ValueError(f'beam_width must be >= 1, got {beam_width}')
    if log_probs.ndim != 2 or log_probs.shape[0] == 0:
        return [Decoded((), 0.0)]
    ninf = -math.inf
    # prefix -> (log p of its alignments ending in a blank, ... ending in its last label)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, ninf)}
    for t in range(log_probs.shape[0]):
        row = log_probs[t]
        candidates = [int(k) for k in np.flatnonzero(row >= row.max() + prune)]
        nxt: dict[tuple[int, ...], list[float]] = {}

        def add(prefix: tuple[int, ...], blank: float, label: float,
                nxt: dict[tuple[int, ...], list[float]] = nxt) -> None:
            entry = nxt.setdefault(prefix, [ninf, ninf])
            entry[0] = _logsumexp(entry[0], blank)
            entry[1] = _logsumexp(entry[1], label)

        for prefix, (p_blank, p_label) in beams.items():
            total = _logsumexp(p_blank, p_label)
            for k in candidates:
                p = float(row[k])
                if k == BLANK:
                    add(prefix, total + p, ninf)
                elif prefix and prefix[-1] == k - 1:
                    add(prefix, ninf, p_label + p)            # the same label continues
                    add(prefix + (k - 1,), ninf, p_blank + p)  # a new one after a blank
                else:
                    add(prefix + (k - 1,), ninf, total + p)
        ranked = sorted(((prefix, _logsumexp(b, n), (b, n)) for prefix, (b, n) in nxt.items()),
                        key=lambda item: item[1], reverse=True)
        beams = {prefix: parts for prefix, score, parts in ranked[:beam_width] if score > ninf}
    best_first = sorted(beams.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
    return [Decoded(prefix, _logsumexp(*parts), align(log_probs, prefix) if i == 0 else ())
            for i, (prefix, parts) in enumerate(best_first)]


def align(log_probs: npt.NDArray[Any], labels: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """(first, last) frame of each label in the most probable alignment of `labels` (Viterbi over
    the blank-interleaved label sequence); () when no alignment fits in the frames."""
    if not labels:
        return ()
    log_probs = np.asarray(log_probs, dtype=np.float64)
    states = [BLANK]
    for label in labels:
        states += [label + 1, BLANK]
    states_arr = np.array(states)
    frames, count = log_probs.shape[0], len(states)
    emit = log_probs[:, states_arr]  # (T, S)
    # a label state may be entered from two states back unless that is the same label (needs a blank)
    skip = np.zeros(count, dtype=bool)
    skip[2:] = (states_arr[2:] != BLANK) & (states_arr[2:] != states_arr[:-2])
    score = np.full((frames, count), -np.inf)
    back = np.zeros((frames, count), dtype=np.int64)
    score[0, :2] = emit[0, :2]
    index = np.arange(count)
    for t in range(1, frames):
        stay = score[t - 1]
        step = np.r_[-np.inf, score[t - 1, :-1]]
        jump = np.where(skip, np.r_[-np.inf, -np.inf, score[t - 1, :-2]], -np.inf)
        options = np.stack([stay, step, jump])
        choice = options.argmax(axis=0)
        score[t] = options[choice, index] + emit[t]
        back[t] = index - choice
    end = count - 1 if score[-1, count - 1] >= score[-1, count - 2] else count - 2
    if not np.isfinite(score[-1, end]):
        return ()
    path = [end]
    for t in range(frames - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    spans: list[list[int]] = [[-1, -1] for _ in labels]
    for t, s in enumerate(path):
        if s % 2 == 1:
            i = s // 2
            spans[i][0] = t if spans[i][0] < 0 else spans[i][0]
            spans[i][1] = t
    return tuple((a, b) for a, b in spans)


def edit_distance(reference: Sequence[Any], hypothesis: Sequence[Any]) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, r in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, h in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


def error_rate(references: Sequence[Sequence[Any]], hypotheses: Sequence[Sequence[Any]]) -> float:
    """Total edit distance over total reference length (character / gloss error rate)."""
    if len(references) != len(hypotheses):
        raise ValueError('references and hypotheses differ in number')
    total = sum(len(r) for r in references)
    if total == 0:
        return 0.0
    return sum(edit_distance(r, h) for r, h in zip(references, hypotheses)) / total
