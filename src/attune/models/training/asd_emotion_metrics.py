"""Scores of the ASD emotion model against hard labels and its teacher (training, bench, quality test).

Macro-F1 averages the F1 of the classes present in the hard labels (a class nobody shows cannot be
scored); predictions may still fall in any of the seven classes.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS


def softmax(logits: npt.NDArray[Any]) -> npt.NDArray[Any]:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[Any] = e / e.sum(axis=-1, keepdims=True)
    return out


def metrics(probabilities: npt.NDArray[Any], soft: npt.NDArray[Any], hard: npt.NDArray[Any]) -> dict[str, Any]:
    """accuracy and macro-F1 against the hard labels (classes present in them), mean KL(teacher || model)
    in nats, and the counts they rest on."""
    p = np.clip(probabilities, 1e-7, 1.0)
    q = np.clip(soft, 1e-7, 1.0)
    kl = float(np.mean(np.sum(q * (np.log(q) - np.log(p)), axis=1))) if len(p) else math.nan
    labelled = hard >= 0
    y, pred = hard[labelled], probabilities[labelled].argmax(axis=1) if labelled.any() else np.zeros(0, int)
    result: dict[str, Any] = {'faces': len(p), 'hard_labelled': int(labelled.sum()), 'kl_teacher': _r(kl)}
    result.update(classification(pred, y))
    return result


def classification(pred: npt.NDArray[Any], y: npt.NDArray[Any]) -> dict[str, Any]:
    """accuracy, macro-F1 over the classes present in y, per-class F1 and the confusion matrix."""
    if len(y) == 0:
        return {'accuracy': None, 'macro_f1': None, 'f1': {}, 'confusion': []}
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=int)
    for t, p in zip(y, pred):
        confusion[t, p] += 1
    f1 = {}
    for c in sorted(set(y.tolist())):
        tp = confusion[c, c]
        precision = tp / confusion[:, c].sum() if confusion[:, c].sum() else 0.0
        recall = tp / confusion[c].sum()
        f1[EMOTIONS[c]] = _r(2 * precision * recall / (precision + recall)) if precision + recall else 0.0
    return {'accuracy': _r(float((pred == y).mean())), 'macro_f1': _r(float(np.mean([v or 0.0 for v in f1.values()]))),
            'f1': f1, 'confusion': confusion.tolist()}


def _r(x: float) -> float | None:
    return round(float(x), 4) if x is not None and math.isfinite(x) else None




def tune_biases(logits: npt.NDArray[Any], y: npt.NDArray[Any], limit: float = 1.5, step: float = 0.25,
                rounds: int = 3) -> npt.NDArray[Any]:
    """(7,) offsets added to the logits that raise macro-F1 on (logits, y): coordinate ascent, one class at a
    time, over offsets in [-limit, limit]. Used on the validation people only: a rare class whose logit sits
    a little low everywhere is never predicted although the network ranks its faces well.

    An offset changes only when it gains at least one hundredth of macro-F1, so noise in a handful of
    validation faces does not move the thresholds."""
    offsets = np.zeros(logits.shape[1])
    if not len(y):
        return offsets
    grid = np.arange(-limit, limit + 1e-9, step)

    def macro(o: npt.NDArray[Any]) -> float:
        return classification((logits + o).argmax(axis=1), y)['macro_f1'] or 0.0

    best = macro(offsets)
    for _ in range(rounds):
        changed = False
        for c in range(logits.shape[1]):
            for value in grid:
                trial = offsets.copy()
                trial[c] = value
                score = macro(trial)
                if score >= best + 0.01:
                    best, offsets, changed = score, trial, True
        if not changed:
            break
    return offsets


def big_classes(y: npt.NDArray[Any], min_faces: int = 10) -> list[str]:
    """The classes with at least `min_faces` faces in y: the ones whose F1 a decision may rest on (with 2
    fear faces, one face moves 7-class macro-F1 by 0.05)."""
    counts = np.bincount(y, minlength=len(EMOTIONS))
    return [EMOTIONS[c] for c in range(len(EMOTIONS)) if counts[c] >= min_faces]


def person_bootstrap(predictions: dict[str, npt.NDArray[Any]], y: npt.NDArray[Any], people: npt.NDArray[Any], base: str,
                     resamples: int = 400, seed: int = 0,
                     min_faces: int = 10) -> dict[str, dict[str, dict[str, float]]]:
    """Paired person-wise bootstrap of each model's scores minus `base`'s on the same faces: people are
    drawn with replacement (all faces of a person together, so one person's several photos are not
    counted as independent evidence) and every model is scored on the same draw. Returns, per model other
    than `base`, for accuracy, macro_f1, macro_f1_big (over `big_classes(y, min_faces)`, fixed on all of y)
    and f1.<class> (classes present in y): the observed difference (`diff`) and the standard deviation of
    the resampled differences (`se`)."""
    names = [n for n in predictions if n != base]
    index = {p: np.flatnonzero(people == p) for p in np.unique(people)}
    keys = ['accuracy', 'macro_f1', 'macro_f1_big', *(f'f1.{EMOTIONS[c]}' for c in sorted(set(y.tolist())))]
    big = big_classes(y, min_faces)

    def scores(pred: npt.NDArray[Any], truth: npt.NDArray[Any]) -> npt.NDArray[Any]:
        c = classification(pred, truth)
        f1 = [c['f1'].get(k[3:], 0.0) for k in keys[3:]]
        return np.array([c['accuracy'], c['macro_f1'], np.mean([c['f1'].get(k, 0.0) for k in big]), *f1], float)

    observed = {n: scores(predictions[n], y) - scores(predictions[base], y) for n in names}
    draws: dict[str, list[npt.NDArray[Any]]] = {n: [] for n in names}
    rng = np.random.default_rng(seed)
    groups = list(index.values())
    for _ in range(resamples):
        sample = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        reference = scores(predictions[base][sample], y[sample])
        for n in names:
            draws[n].append(scores(predictions[n][sample], y[sample]) - reference)
    return {n: {k: {'diff': round(float(observed[n][i]), 4), 'se': round(float(np.std([d[i] for d in draws[n]])), 4)}
                for i, k in enumerate(keys)} for n in names}
