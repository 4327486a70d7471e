"""Detection error rates of the retouch check (ISO/IEC 30107-3 style: attack = retouched photo).

d_eer: the detection equal error rate, where the rate of originals flagged (BPCER) equals the rate
of retouched photos passed (APCER); tpr_at_fpr: the fraction of retouched photos caught when at most
`fpr` of originals are flagged (the threshold is the (1 - fpr) quantile of the originals' scores).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def d_eer(original: npt.NDArray[Any], retouched: npt.NDArray[Any]) -> float:
    """Equal error rate of scores where higher means retouched (NaN when a class is empty)."""
    original, retouched = np.asarray(original, float), np.asarray(retouched, float)
    if not len(original) or not len(retouched):
        return float('nan')
    best_gap, best = np.inf, 0.5
    for t in np.unique(np.concatenate([original, retouched, [np.inf]])):
        flagged = float(np.mean(original >= t))     # originals wrongly flagged
        passed = float(np.mean(retouched < t))      # retouched photos let through
        if abs(flagged - passed) < best_gap:
            best_gap, best = abs(flagged - passed), (flagged + passed) / 2
    return best


def threshold_at_fpr(original: npt.NDArray[Any], fpr: float) -> float:
    """The lowest score threshold (score >= t flags) at which at most `fpr` of `original` are flagged."""
    ranked = np.sort(np.asarray(original, float))[::-1]
    allowed = int(np.floor(fpr * len(ranked)))
    if allowed >= len(ranked):
        return float('-inf')
    return float(np.nextafter(ranked[allowed], np.inf))


def tpr_at_fpr(original: npt.NDArray[Any], retouched: npt.NDArray[Any], fpr: float = 0.05) -> float:
    if not len(original) or not len(retouched):
        return float('nan')
    return float(np.mean(np.asarray(retouched, float) >= threshold_at_fpr(original, fpr)))


def auc(original: npt.NDArray[Any], retouched: npt.NDArray[Any]) -> float:
    """Probability that a retouched photo scores above an original (ties count half)."""
    o, r = np.asarray(original, float)[None, :], np.asarray(retouched, float)[:, None]
    if not o.size or not r.size:
        return float('nan')
    return float(np.mean((r > o) + 0.5 * (r == o)))


def summary(original: npt.NDArray[Any], retouched: npt.NDArray[Any], fpr: float = 0.05) -> dict[str, float]:
    return {'d_eer': round(d_eer(original, retouched), 4),
            f'tpr_at_fpr_{fpr:g}': round(tpr_at_fpr(original, retouched, fpr), 4),
            'auc': round(auc(original, retouched), 4), 'original': int(len(original)),
            'retouched': int(len(retouched))}


def report(scores: npt.NDArray[Any], operation: npt.NDArray[Any], strength: npt.NDArray[Any],
           original_name: str = 'original', fpr: float = 0.05, threshold: float | None = None) -> dict[str, Any]:
    """Headline and per-operation (and per-strength) results of scores over a sample set."""
    scores = np.asarray(scores, float)
    is_original = operation == original_name
    base = scores[is_original]
    out: dict[str, Any] = dict(summary(base, scores[~is_original], fpr))
    if threshold is not None:
        out['threshold'] = round(float(threshold), 4)
        out['originals_flagged'] = round(float(np.mean(base >= threshold)), 4) if len(base) else float('nan')
        out['retouched_caught'] = round(float(np.mean(scores[~is_original] >= threshold)), 4)
    ops = {}
    for op in dict.fromkeys(operation[~is_original].tolist()):
        this = operation == op
        entry: dict[str, Any] = dict(summary(base, scores[this], fpr))
        if threshold is not None:
            entry['caught'] = round(float(np.mean(scores[this] >= threshold)), 4)
        entry['strengths'] = {}
        for s in sorted(set(strength[this].tolist())):
            sub = summary(base, scores[this & (strength == s)], fpr)
            if threshold is not None:
                sub['caught'] = round(float(np.mean(scores[this & (strength == s)] >= threshold)), 4)
            entry['strengths'][str(s)] = sub
        ops[op] = entry
    out['operations'] = ops
    # Every operation at one strength against all originals: how detection falls off with edit size.
    retouched = ~is_original
    by_strength: dict[str, dict[str, float]] = {}
    for s in sorted(set(strength[retouched].tolist())):
        picked = retouched & (strength == s)
        by_strength[str(s)] = summary(base, scores[picked], fpr)
        if threshold is not None:
            by_strength[str(s)]['caught'] = round(float(np.mean(scores[picked] >= threshold)), 4)
    out['strengths'] = by_strength
    return out
