"""A class-incremental expression learner: streaming linear discriminant analysis (no rclpy).

After Hayes & Kanan, "Lifelong Machine Learning with Deep Streaming Linear Discriminant Analysis"
(CVPR-W 2020): the learner keeps per-class statistics only, the count n_c, the mean mu_c and the
scatter S_c = sum (x - mu_c)(x - mu_c)^T of each class, over the feature vector [AU intensities, CNN
embedding, CNN log-probabilities]. `learn(label, samples)` merges the samples into that class's
statistics exactly (Chan et al.'s pairwise update), so learning a new class, or more of an old one,
never changes another class's statistics, and nothing has to be replayed.

Prediction shares one covariance, the pooled within-class scatter sum_c S_c / (N - K), shrunk toward
its mean variance (Sigma' = (1 - s) Sigma + s tr(Sigma)/D I; few samples per class and ~150
features need it): score_c(x) = x' P mu_c - mu_c' P mu_c / 2 + log prior_c with P = Sigma'^-1, and the
posterior is the softmax of the scores. The prior is each class's share of the samples learned
('counts'; an operator who teaches more of a class says it is more common) or 'uniform'.

Forgetting comes only from competition at prediction time; on ../shared/data/faces, learning sad,
surprise and anger after neutral and happy costs the old classes 0.06 of accuracy on held-out people
(bench/expression_accuracy.py), where one Gaussian mixture per class (the previous learner) lost 0.09.

Storage is one .npz file (numpy arrays only, loaded with allow_pickle=False) with a JSON header.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError, ModelFileError

FORMAT = 'attune.expression.learner/2'
PRIORS = ('counts', 'uniform')


class LearnerFileError(ModelFileError):
    """A learner file that cannot be read or written."""


@dataclass
class _ClassStats:
    count: int
    mean: npt.NDArray[Any]      # (D,)
    scatter: npt.NDArray[Any]   # (D, D)


class ContinualLearner:
    """Class-incremental classifier: streaming LDA over per-class statistics.

    Args:
        shrinkage: weight s in [0, 1) of the identity target in the shared covariance.
        class_prior: 'counts' (each class's share of the samples learned) or 'uniform'.
    """

    def __init__(self, shrinkage: float = 0.1, class_prior: str = 'counts') -> None:
        if not 0.0 <= shrinkage < 1.0 or class_prior not in PRIORS:
            raise ConfigError(f'shrinkage must be in [0, 1) and class_prior one of {PRIORS}, got '
                              f'{shrinkage}, {class_prior!r}')
        self.shrinkage = float(shrinkage)
        self.class_prior = class_prior
        self._classes: dict[str, _ClassStats] = {}
        self._dim: int | None = None
        self._cache: tuple[npt.NDArray[Any], npt.NDArray[Any]] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """The classes learned so far, in order of first learning."""
        return tuple(self._classes)

    @property
    def feature_size(self) -> int | None:
        return self._dim

    def samples(self, label: str) -> int:
        """Samples ever learned for a class."""
        return self._classes[label].count if label in self._classes else 0

    def learn(self, label: str, samples: npt.NDArray[Any]) -> None:
        """Add class `label`, or extend it, from samples (N, D); other classes' statistics stay as they are.

        Raises:
            ValueError: empty label, wrong feature size, non-finite values, or fewer than 2 samples
                for a new class.
        """
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim == 1:
            x = x[None]
        if not label:
            raise ValueError('a class needs a non-empty label')
        if x.ndim != 2 or (self._dim is not None and x.shape[1] != self._dim):
            raise ValueError(f'samples must be (N, {self._dim or "D"}), got {x.shape}')
        if not np.all(np.isfinite(x)):
            raise ValueError('samples contain NaN or infinite values')
        old = self._classes.get(label)
        if old is None and len(x) < 2:
            raise ValueError(f'class {label!r} needs at least 2 samples, got {len(x)}')
        mean = x.mean(axis=0)
        d = x - mean
        new = _ClassStats(len(x), mean, d.T @ d)
        if old is not None:  # exact merge of two sets' statistics
            n = old.count + new.count
            delta = new.mean - old.mean
            new = _ClassStats(n, old.mean + delta * new.count / n,
                              old.scatter + new.scatter + np.outer(delta, delta) * old.count * new.count / n)
        self._classes[label] = new
        self._dim = x.shape[1]
        self._cache = None

    def forget(self, label: str) -> None:
        """Remove a class."""
        self._classes.pop(label, None)
        self._cache = None
        if not self._classes:
            self._dim = None

    def _discriminant(self) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """(K, D) weights and (K,) biases of the class scores."""
        if self._cache is None:
            stats = list(self._classes.values())
            total = sum(s.count for s in stats)
            covariance = np.sum([s.scatter for s in stats], axis=0) / max(total - len(stats), 1)
            target = np.trace(covariance) / len(covariance) if np.trace(covariance) > 0 else 1.0
            covariance = (1 - self.shrinkage) * covariance + (self.shrinkage + 1e-9) * target * np.eye(len(covariance))
            means = np.stack([s.mean for s in stats])
            weights = np.linalg.solve(covariance, means.T).T
            bias = -0.5 * (weights * means).sum(axis=1)
            if self.class_prior == 'counts':
                bias = bias + np.log(np.array([s.count for s in stats], np.float64) / total)
            self._cache = (weights, bias)
        return self._cache

    def scores(self, samples: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """(N, n_classes) class scores (log posterior up to a constant), classes in `labels` order."""
        x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        if not self._classes:
            raise ValueError('the learner has no classes yet')
        if x.shape[1] != self._dim:
            raise ValueError(f'samples must be (N, {self._dim}), got {x.shape}')
        weights, bias = self._discriminant()
        out: npt.NDArray[Any] = x @ weights.T + bias
        return out

    def predict_proba(self, samples: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """(N, n_classes) posterior probabilities."""
        s = self.scores(samples)
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        out: npt.NDArray[Any] = p / p.sum(axis=1, keepdims=True)
        return out

    def predict(self, samples: npt.NDArray[Any]) -> list[str]:
        """The most probable class of each sample."""
        return [self.labels[i] for i in self.scores(samples).argmax(axis=1)]

    def accuracy(self, samples: npt.NDArray[Any], labels: Sequence[str]) -> float:
        return float(np.mean([p == t for p, t in zip(self.predict(samples), labels)]))

    # --- storage ---------------------------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        """Write the learner to an .npz file (numpy arrays and a JSON header; no pickle)."""
        path = Path(path)
        header = {'format': FORMAT, 'labels': list(self._classes), 'feature_size': self._dim,
                  'shrinkage': self.shrinkage, 'class_prior': self.class_prior,
                  'counts': [s.count for s in self._classes.values()]}
        arrays = {'header': np.array(json.dumps(header))}
        for i, s in enumerate(self._classes.values()):
            arrays.update({f'c{i}_mean': s.mean, f'c{i}_scatter': s.scatter})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + '.tmp.npz')
        try:
            np.savez_compressed(tmp, **arrays)
            tmp.replace(path)
        except OSError as exc:
            raise LearnerFileError(f'cannot write learner file {path}: {exc}') from None
        return path

    @classmethod
    def load(cls, path: Path | str) -> ContinualLearner:
        """Read a learner written by save().

        Raises:
            LearnerFileError: missing, unreadable, not a learner file, or an older format (re-teach).
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data['header']))
                if header.get('format') != FORMAT:
                    raise LearnerFileError(f'{path} is not an attune learner file of format {FORMAT} '
                                           f'({header.get("format")!r}; older learners must be taught again)')
                learner = cls(header['shrinkage'], header['class_prior'])
                for i, (label, count) in enumerate(zip(header['labels'], header['counts'])):
                    learner._classes[label] = _ClassStats(int(count), data[f'c{i}_mean'], data[f'c{i}_scatter'])
                learner._dim = header['feature_size']
        except LearnerFileError:
            raise
        except (OSError, KeyError, ValueError, ConfigError) as exc:
            raise LearnerFileError(f'cannot read learner file {path}: {exc}') from None
        return learner
