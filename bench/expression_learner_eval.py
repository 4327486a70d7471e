"""The continual learner on held-out people (imported by bench/expression_accuracy.py).

Features: the learner's input, [AUs, CNN embedding, CNN log-probabilities] (attune.expression.analyzer
.learner_features). Folds: people dealt round-robin into folds (attune.models.training.expression_head_training
.person_folds); no person is in both a fold's training and its test rows.
"""
from __future__ import annotations

import numpy as np

OLD, NEW = ('neutral', 'happy'), ('sad', 'surprise', 'anger')


def _learner_matrix(items: list, features):
    from attune.expression.analyzer import learner_features

    rows = np.flatnonzero(features.found)
    x = np.stack([learner_features(features.au[i], features.embedding[i], features.cnn_probabilities[i])
                  for i in rows])
    return rows, x, np.array([items[i].label for i in rows]), np.array([items[i].person for i in rows])


def learner_predictions(items: list, features, folds: int) -> list:
    """Out-of-fold learner distributions (person-wise), one per item (None without a face)."""
    from attune.expression.ensemble import Distribution
    from attune.expression.learner import ContinualLearner
    from attune.models.training.expression_head_training import person_folds

    rows, x, y, person = _learner_matrix(items, features)
    fold = person_folds(person, folds, seed=0)
    out = [None] * len(items)
    for k in range(folds):
        learner = ContinualLearner()
        for label in dict.fromkeys(y[fold != k]):
            if np.sum((fold != k) & (y == label)) >= 2:
                learner.learn(label, x[(fold != k) & (y == label)])
        test = np.flatnonzero(fold == k)
        for j, p in zip(test, learner.predict_proba(x[test])):
            out[rows[j]] = Distribution(learner.labels, p.astype(np.float32))
    return out


def forgetting(items: list, features, folds: int) -> dict:
    """muxspace photos: learn neutral and happy, then sad, surprise and anger (training people of each
    fold); accuracy on the old classes' held-out photos before (2-way) and after (5-way)."""
    from attune.expression.learner import ContinualLearner
    from attune.models.training.expression_head_training import person_folds

    rows, x, y, person = _learner_matrix(items, features)
    mux = np.array([items[i].source == 'mux' for i in rows])
    fold = person_folds(person, folds, seed=0)
    before, after, all_after = [], [], []
    for k in range(folds):
        train, test = mux & (fold != k), mux & (fold == k)
        learner = ContinualLearner()
        for label in OLD:
            learner.learn(label, x[train & (y == label)])
        old_test = test & np.isin(y, OLD)
        before.append(learner.accuracy(x[old_test], y[old_test]))
        for label in NEW:
            learner.learn(label, x[train & (y == label)])
        after.append(learner.accuracy(x[old_test], y[old_test]))
        five = test & np.isin(y, OLD + NEW)
        all_after.append(learner.accuracy(x[five], y[five]))
    b, a = float(np.mean(before)), float(np.mean(after))
    return {'old_classes': list(OLD), 'new_classes': list(NEW), 'old_accuracy_before': round(b, 4),
            'old_accuracy_after': round(a, 4), 'forgetting': round(b - a, 4),
            'all_classes_accuracy_after': round(float(np.mean(all_after)), 4), 'folds': folds,
            'note': 'person-wise folds; old classes 2-way before, 5-way after: the drop is the new classes competing'}
