"""The continual learner: classes are added without retraining the others; save/load without pickle."""
from __future__ import annotations

import numpy as np
import pytest

from attune.expression.learner import ContinualLearner, LearnerFileError


def blobs(seed: int = 0, n: int = 60, dim: int = 12) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = {'neutral': 0.0, 'happy': 1.5, 'sad': -1.5, 'surprise': 3.0}
    out = {}
    for i, (label, c) in enumerate(centres.items()):
        mean = np.zeros(dim)
        mean[i] = c + 2.0
        mean[(i + 3) % dim] = -c
        out[label] = rng.normal(mean, 0.6, (n, dim))
    return out


def test_learning_new_classes_keeps_old_ones_within_bound() -> None:
    train, test = blobs(0), blobs(1)
    learner = ContinualLearner(seed=0)
    learner.learn('neutral', train['neutral'])
    learner.learn('happy', train['happy'])
    old_x = np.vstack([test['neutral'], test['happy']])
    old_y = ['neutral'] * 60 + ['happy'] * 60
    before = learner.accuracy(old_x, old_y)
    frozen = {k: v.means.copy() for k, v in learner._classes.items()}
    learner.learn('sad', train['sad'])
    learner.learn('surprise', train['surprise'])
    after = learner.accuracy(old_x, old_y)
    assert learner.labels == ('neutral', 'happy', 'sad', 'surprise')
    for label, means in frozen.items():        # the old classes' mixtures are untouched
        np.testing.assert_array_equal(learner._classes[label].means, means)
    assert before >= 0.95
    assert before - after <= 0.05, (before, after)   # the stated bound: at most 5 points lost
    all_x = np.vstack(list(test.values()))
    all_y = [k for k in test for _ in range(60)]
    assert learner.accuracy(all_x, all_y) >= 0.9


def test_extending_a_class_refits_only_that_class() -> None:
    data = blobs(2)
    learner = ContinualLearner(seed=0, max_samples=50)
    learner.learn('neutral', data['neutral'][:30])
    learner.learn('happy', data['happy'])
    happy = learner._classes['happy'].means.copy()
    learner.learn('neutral', data['neutral'][30:])
    assert learner.samples('neutral') == 60 and len(learner._classes['neutral'].memory) == 50
    np.testing.assert_array_equal(learner._classes['happy'].means, happy)


def test_save_load_round_trip_without_pickle(tmp_path) -> None:
    data = blobs(3)
    learner = ContinualLearner(seed=0)
    for label in ('neutral', 'happy', 'sad'):
        learner.learn(label, data[label])
    path = learner.save(tmp_path / 'learner.npz')
    loaded = ContinualLearner.load(path)
    x = np.vstack(list(data.values()))
    np.testing.assert_allclose(loaded.predict_proba(x), learner.predict_proba(x), atol=1e-12)
    assert loaded.labels == learner.labels
    with np.load(path, allow_pickle=False) as raw:   # plain arrays only
        assert all(raw[k].dtype != object for k in raw.files)
    loaded.learn('surprise', data['surprise'])     # a loaded learner keeps learning
    assert loaded.labels[-1] == 'surprise'


def test_bad_input_and_files(tmp_path) -> None:
    learner = ContinualLearner()
    with pytest.raises(ValueError, match='at least 2'):
        learner.learn('happy', np.ones((1, 4)))
    with pytest.raises(ValueError, match='NaN'):
        learner.learn('happy', np.full((5, 4), np.nan))
    learner.learn('happy', np.random.default_rng(0).normal(size=(10, 4)))
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        learner.learn('sad', np.ones((5, 3)))
    (tmp_path / 'junk.npz').write_bytes(b'not a zip')
    with pytest.raises(LearnerFileError, match=r'junk\.npz'):
        ContinualLearner.load(tmp_path / 'junk.npz')
