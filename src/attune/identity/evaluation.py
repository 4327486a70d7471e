"""The identification protocol of bench/identity.py and tools/fit_identity_threshold.py.

Enrol half of the people (one neutral photo each), identify their smiling photos, and reject every
photo of the other half as unknown. Scores come as a matrix (probes x enrolled people) of per-person
similarities, so the same code measures raw embeddings (cosine) and protected templates.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

#: The threshold rule: a false accept costs this many false rejects.
FALSE_ACCEPT_COST = 5.0


@dataclass(frozen=True)
class Probe:
    person: str
    index: int  # row in the embedding matrix


@dataclass(frozen=True)
class Protocol:
    enrolled: tuple[str, ...]          # people enrolled, in gallery order
    gallery: tuple[int, ...]           # embedding row of each enrolled person's neutral photo
    genuine: tuple[Probe, ...]         # smiling photos of enrolled people
    impostor: tuple[Probe, ...]        # every photo of people not enrolled


def split_protocol(neutral: dict[str, int], smiling: dict[str, int], enrolled: Sequence[str]) -> Protocol:
    """Enrol `enrolled` (their neutral photo); probes as in the module docstring."""
    enrolled = tuple(p for p in enrolled if p in neutral)
    others = sorted((set(neutral) | set(smiling)) - set(enrolled))
    genuine = tuple(Probe(p, smiling[p]) for p in enrolled if p in smiling)
    impostor = tuple(Probe(p, rows[p]) for p in others for rows in (neutral, smiling) if p in rows)
    return Protocol(enrolled, tuple(neutral[p] for p in enrolled), genuine, impostor)


def alternate_halves(people: Sequence[str]) -> tuple[list[str], list[str]]:
    """Every other person (sorted): a deterministic person-wise split."""
    ordered = sorted(people)
    return ordered[0::2], ordered[1::2]


#: (probe rows, gallery rows) -> (n_probe, n_gallery) scores
Scorer = Callable[[npt.NDArray[Any], npt.NDArray[Any]], npt.NDArray[Any]]


@dataclass(frozen=True)
class Scores:
    genuine: npt.NDArray[Any]   # (n_genuine, n_enrolled)
    impostor: npt.NDArray[Any]  # (n_impostor, n_enrolled)
    truth: npt.NDArray[Any]     # (n_genuine,) gallery column of each genuine probe's person


def protocol_scores(protocol: Protocol, score: Scorer) -> Scores:
    gallery = np.array(protocol.gallery)
    column = {p: i for i, p in enumerate(protocol.enrolled)}
    genuine = score(np.array([q.index for q in protocol.genuine]), gallery)
    impostor = score(np.array([q.index for q in protocol.impostor], dtype=np.int64), gallery)
    return Scores(genuine, impostor, np.array([column[q.person] for q in protocol.genuine]))


def rank1(scores: Scores) -> float:
    return float(np.mean(np.argmax(scores.genuine, axis=1) == scores.truth))


def far_frr(scores: Scores, threshold: float) -> tuple[float, float]:
    """FAR: impostor photos accepted as anyone; FRR: genuine photos not accepted as their person."""
    far = float(np.mean(scores.impostor.max(axis=1) >= threshold)) if len(scores.impostor) else 0.0
    best = np.argmax(scores.genuine, axis=1)
    accepted = (best == scores.truth) & (scores.genuine.max(axis=1) >= threshold)
    return far, float(1.0 - np.mean(accepted))


def choose_threshold(folds: Sequence[Scores], grid: int = 2001) -> float:
    """The threshold minimizing FRR + FALSE_ACCEPT_COST * FAR pooled over `folds` (on a grid of
    thresholds); the middle of the best range, so it sits between the score populations rather than on
    the edge of one of them."""
    lo = min(min(f.genuine.min(), f.impostor.min(initial=1.0)) for f in folds)
    hi = max(max(f.genuine.max(), f.impostor.max(initial=0.0)) for f in folds)
    thresholds = np.linspace(lo, hi, grid)
    costs = np.zeros(grid)
    for f in folds:
        impostor = np.sort(f.impostor.max(axis=1)) if len(f.impostor) else np.zeros(0)
        accepted = np.sort(f.genuine.max(axis=1)[np.argmax(f.genuine, axis=1) == f.truth])
        far = (len(impostor) - np.searchsorted(impostor, thresholds, side='left')) / max(len(impostor), 1)
        frr = 1 - (len(accepted) - np.searchsorted(accepted, thresholds, side='left')) / len(f.truth)
        costs += frr + FALSE_ACCEPT_COST * far
    best = np.flatnonzero(costs <= costs.min() + 1e-9)
    return float((thresholds[best[0]] + thresholds[best[-1]]) / 2)


def random_folds(neutral: dict[str, int], smiling: dict[str, int], score: Scorer, n: int,
                 seed: int = 0) -> list[Scores]:
    """`n` random enrol/impostor halves of these people (for choosing a threshold)."""
    rng = np.random.default_rng(seed)
    people = sorted(set(neutral) & set(smiling))
    folds = []
    for _ in range(n):
        shuffled = list(rng.permutation(people))
        folds.append(protocol_scores(split_protocol(neutral, smiling, shuffled[:len(people) // 2]), score))
    return folds


def cosine_scorer(embeddings: npt.NDArray[Any]) -> Scorer:
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    return lambda probes, gallery: unit[probes] @ unit[gallery].T if len(probes) else np.zeros((0, len(gallery)))


def protected_scorer(templates: npt.NDArray[Any], bits: int) -> Scorer:
    """Similarity of packed-bit templates (rows of `templates`): fraction of equal bits."""
    unpacked = np.unpackbits(templates, axis=1).astype(np.float32) * 2 - 1  # +-1 per bit

    def score(probes: npt.NDArray[Any], gallery: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if not len(probes):
            return np.zeros((0, len(gallery)))
        out: npt.NDArray[Any] = (unpacked[probes] @ unpacked[gallery].T / bits + 1) / 2
        return out
    return score
