"""The continual learner (streaming LDA): classes are added from per-class statistics without touching the
others; extending a class equals learning it at once; save/load without pickle."""
from __future__ import annotations

import numpy as np
import pytest

from attune.errors import ConfigError
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
    learner = ContinualLearner()
    learner.learn('neutral', train['neutral'])
    learner.learn('happy', train['happy'])
    old_x = np.vstack([test['neutral'], test['happy']])
    old_y = ['neutral'] * 60 + ['happy'] * 60
    before = learner.accuracy(old_x, old_y)
    frozen = {k: (v.mean.copy(), v.scatter.copy(), v.count) for k, v in learner._classes.items()}
    learner.learn('sad', train['sad'])
    learner.learn('surprise', train['surprise'])
    after = learner.accuracy(old_x, old_y)
    assert learner.labels == ('neutral', 'happy', 'sad', 'surprise')
    for label, (mean, scatter, count) in frozen.items():   # the old classes' statistics are untouched
        np.testing.assert_array_equal(learner._classes[label].mean, mean)
        np.testing.assert_array_equal(learner._classes[label].scatter, scatter)
        assert learner._classes[label].count == count
    assert before >= 0.95
    assert before - after <= 0.05, (before, after)   # the stated bound: at most 5 points lost
    all_x = np.vstack(list(test.values()))
    all_y = [k for k in test for _ in range(60)]
    assert learner.accuracy(all_x, all_y) >= 0.9


def test_extending_a_class_equals_learning_it_at_once() -> None:
    data = blobs(2)
    once, twice = ContinualLearner(), ContinualLearner()
    once.learn('neutral', data['neutral'])
    twice.learn('neutral', data['neutral'][:25])
    for learner in (once, twice):
        learner.learn('happy', data['happy'])
    twice.learn('neutral', data['neutral'][25:])
    assert twice.samples('neutral') == 60 and twice.samples('happy') == 60
    np.testing.assert_allclose(twice._classes['neutral'].mean, once._classes['neutral'].mean, atol=1e-12)
    np.testing.assert_allclose(twice._classes['neutral'].scatter, once._classes['neutral'].scatter, atol=1e-9)
    x = np.vstack(list(data.values()))
    np.testing.assert_allclose(twice.predict_proba(x), once.predict_proba(x), atol=1e-9)


def test_class_prior_follows_the_samples_taught() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(0, 1, (200, 3)), rng.normal(0, 1, (20, 3)) + [0.3, 0, 0]
    counts, uniform = ContinualLearner(class_prior='counts'), ContinualLearner(class_prior='uniform')
    for learner in (counts, uniform):
        learner.learn('common', a)
        learner.learn('rare', b)
    middle = np.array([[0.15, 0.0, 0.0]])
    assert counts.predict(middle) == ['common']
    assert abs(uniform.predict_proba(middle)[0, 0] - 0.5) < 0.2


def test_save_load_round_trip_without_pickle(tmp_path) -> None:
    data = blobs(3)
    learner = ContinualLearner(shrinkage=0.2)
    for label in ('neutral', 'happy', 'sad'):
        learner.learn(label, data[label])
    path = learner.save(tmp_path / 'learner.npz')
    loaded = ContinualLearner.load(path)
    x = np.vstack(list(data.values()))
    np.testing.assert_allclose(loaded.predict_proba(x), learner.predict_proba(x), atol=1e-12)
    assert loaded.labels == learner.labels and loaded.shrinkage == 0.2
    with np.load(path, allow_pickle=False) as raw:   # plain arrays only
        assert all(raw[k].dtype != object for k in raw.files)
    loaded.learn('surprise', data['surprise'])     # a loaded learner keeps learning
    assert loaded.labels[-1] == 'surprise'
    loaded.forget('surprise')
    assert loaded.labels == ('neutral', 'happy', 'sad')


def test_bad_input_and_files(tmp_path) -> None:
    learner = ContinualLearner()
    with pytest.raises(ValueError, match='at least 2'):
        learner.learn('happy', np.ones((1, 4)))
    with pytest.raises(ValueError, match='NaN'):
        learner.learn('happy', np.full((5, 4), np.nan))
    learner.learn('happy', np.random.default_rng(0).normal(size=(10, 4)))
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        learner.learn('sad', np.ones((5, 3)))
    with pytest.raises(ConfigError):
        ContinualLearner(shrinkage=1.0)
    (tmp_path / 'junk.npz').write_bytes(b'not a zip')
    with pytest.raises(LearnerFileError, match=r'junk\.npz'):
        ContinualLearner.load(tmp_path / 'junk.npz')
    old = tmp_path / 'old.npz'
    np.savez(old, header=np.array('{"format": "attune.expression.learner/1"}'))
    with pytest.raises(LearnerFileError, match='taught again'):
        ContinualLearner.load(old)
