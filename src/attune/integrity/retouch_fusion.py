"""Validation helpers for the retouch CNN: per-fold D-EER, and fusion with the classical features' score.

Fusion is a logistic regression over [CNN photo logit, classical MLP logit], scored person-wise: each
fold's rows by a regression fitted on the other folds' out-of-fold scores (so no person's own scores
fit the weights that score them).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity.retouch_metrics import d_eer


def per_fold_d_eer(scores: npt.NDArray[Any], label: npt.NDArray[Any], fold: npt.NDArray[Any],
                   folds: tuple[int, ...]) -> dict[str, float]:
    """D-EER of each fold's rows, with the mean and standard deviation over folds."""
    values = {str(k): d_eer(scores[(fold == k) & (label == 0)], scores[(fold == k) & (label == 1)]) for k in folds}
    numbers = np.array(list(values.values()))
    return {**{k: round(v, 4) for k, v in values.items()}, 'mean': round(float(numbers.mean()), 4),
            'sd': round(float(numbers.std(ddof=1)) if len(numbers) > 1 else 0.0, 4)}


def logit(p: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    q = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    out: npt.NDArray[np.float64] = np.log(q / (1 - q))
    return out


def fused_cross_validated(columns: npt.NDArray[Any], label: npt.NDArray[Any], fold: npt.NDArray[Any],
                          folds: tuple[int, ...]) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
    """Out-of-fold fused scores of (N, K) score columns, and the regression fitted on every fold (its
    weights, for the record and for shipping)."""
    from sklearn.linear_model import LogisticRegression

    def regression(rows: npt.NDArray[np.bool_]) -> Any:
        return LogisticRegression(class_weight='balanced', C=1.0).fit(columns[rows], label[rows])

    out = np.full(len(label), np.nan)
    for k in folds:
        test = fold == k
        train = np.isin(fold, folds) & ~test
        out[test] = regression(train).decision_function(columns[test])
    whole = regression(np.isin(fold, folds))
    return out, {'coef': whole.coef_[0].round(6).tolist(), 'intercept': round(float(whole.intercept_[0]), 6)}
