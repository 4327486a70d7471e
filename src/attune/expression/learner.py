"""A class-incremental expression learner: one Bayesian Gaussian mixture per class (no rclpy).

After the continual-FER research in ../shared/research (AUs + CNN features, BGMMs): each class is a
scikit-learn BayesianGaussianMixture (diagonal covariances, Dirichlet-process weight prior, so
unneeded components get ~0 weight) over the feature vector [AU intensities, CNN embedding, CNN log-probabilities].
`learn(label, samples)` fits or refits only that class's mixture, so learning a new class (or more
of an old one) never changes the others: forgetting can only come from the new class competing at
prediction time. Prediction is Bayes' rule over the classes' likelihoods with a uniform prior.

To extend a class, its mixture is refitted on a bounded memory of that class's own samples
(reservoir sampling, at most `max_samples` per class) plus the new ones.

Storage is one .npz file (numpy arrays only, loaded with allow_pickle=False): per class the mixture
weights, means and variances and the sample memory, plus a JSON header (labels, feature size,
options). The scoring needs only numpy; scikit-learn is needed to learn.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attune.errors import AttuneError, ConfigError

FORMAT = 'attune.expression.learner/1'


class LearnerFileError(AttuneError):
    """A learner file that cannot be read or written."""


@dataclass
class _ClassModel:
    weights: np.ndarray     # (K,)
    means: np.ndarray       # (K, D)
    variances: np.ndarray   # (K, D)
    memory: np.ndarray      # (M, D) float32, the samples kept to refit this class
    seen: int               # samples ever given for this class (for reservoir sampling)

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        """log p(x | class) for x (N, D)."""
        diff = x[:, None, :] - self.means[None]                                   # (N, K, D)
        log_det = np.log(self.variances).sum(axis=1)                              # (K,)
        maha = (diff ** 2 / self.variances[None]).sum(axis=2)                     # (N, K)
        log_comp = -0.5 * (maha + log_det + x.shape[1] * np.log(2 * np.pi)) + np.log(self.weights)
        top = log_comp.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(log_comp - top).sum(axis=1, keepdims=True)))[:, 0]


class ContinualLearner:
    """Class-incremental classifier of Bayesian Gaussian mixtures (one per class).

    Args:
        n_components: most mixture components per class; a class gets one component per
            `samples_per_component` samples (at least one), as diagonal Gaussians over ~150
            features need about that many samples each.
        samples_per_component: see n_components.
        max_samples: samples remembered per class to refit it when it is extended.
        reg_covar: added to every variance (numerical floor; features are AUs in [0, 1] and CNN
            activations of order 1).
        seed: random state of the fits and of the reservoir.
    """

    def __init__(self, n_components: int = 4, max_samples: int = 500, reg_covar: float = 1e-3,
                 seed: int = 0, samples_per_component: int = 50) -> None:
        if n_components < 1 or max_samples < 2 or reg_covar <= 0:
            raise ConfigError('n_components >= 1, max_samples >= 2 and reg_covar > 0 are required')
        self.n_components = n_components
        self.max_samples = max_samples
        self.reg_covar = reg_covar
        self.seed = seed
        self.samples_per_component = max(1, samples_per_component)
        self._classes: dict[str, _ClassModel] = {}
        self._dim: int | None = None
        self._rng = np.random.default_rng(seed)

    @property
    def labels(self) -> tuple[str, ...]:
        """The classes learned so far, in order of first learning."""
        return tuple(self._classes)

    @property
    def feature_size(self) -> int | None:
        return self._dim

    def samples(self, label: str) -> int:
        """Samples ever learned for a class."""
        return self._classes[label].seen if label in self._classes else 0

    def learn(self, label: str, samples: np.ndarray) -> None:
        """Add class `label`, or extend it, from samples (N, D); other classes stay as they are.

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
        memory, seen = (old.memory, old.seen) if old is not None else (np.empty((0, x.shape[1]), np.float32), 0)
        memory, seen = self._reservoir(memory, seen, x)
        if len(memory) < 2:
            raise ValueError(f'class {label!r} needs at least 2 samples, got {len(memory)}')
        self._classes[label] = self._fit(memory, seen)
        self._dim = x.shape[1]

    def _reservoir(self, memory: np.ndarray, seen: int, x: np.ndarray) -> tuple[np.ndarray, int]:
        rows = list(memory)
        for sample in x.astype(np.float32):
            seen += 1
            if len(rows) < self.max_samples:
                rows.append(sample)
            else:
                j = int(self._rng.integers(seen))
                if j < self.max_samples:
                    rows[j] = sample
        return np.array(rows, dtype=np.float32), seen

    def _fit(self, memory: np.ndarray, seen: int) -> _ClassModel:
        from sklearn.mixture import BayesianGaussianMixture

        x = memory.astype(np.float64)
        k = max(1, min(self.n_components, len(x) // self.samples_per_component))
        bgmm = BayesianGaussianMixture(n_components=k, covariance_type='diag', reg_covar=self.reg_covar,
                                       weight_concentration_prior_type='dirichlet_process',
                                       max_iter=200, random_state=self.seed, init_params='kmeans')
        bgmm.fit(x)
        weights = np.maximum(bgmm.weights_, 1e-12)
        return _ClassModel(weights / weights.sum(), bgmm.means_.copy(), bgmm.covariances_.copy(), memory, seen)

    def forget(self, label: str) -> None:
        """Remove a class."""
        self._classes.pop(label, None)
        if not self._classes:
            self._dim = None

    def log_likelihoods(self, samples: np.ndarray) -> np.ndarray:
        """(N, n_classes) log p(x | class), classes in `labels` order."""
        x = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        if not self._classes:
            raise ValueError('the learner has no classes yet')
        if x.shape[1] != self._dim:
            raise ValueError(f'samples must be (N, {self._dim}), got {x.shape}')
        return np.stack([m.log_likelihood(x) for m in self._classes.values()], axis=1)

    def predict_proba(self, samples: np.ndarray) -> np.ndarray:
        """(N, n_classes) posterior probabilities (uniform class prior)."""
        ll = self.log_likelihoods(samples)
        ll -= ll.max(axis=1, keepdims=True)
        p = np.exp(ll)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, samples: np.ndarray) -> list[str]:
        """The most probable class of each sample."""
        return [self.labels[i] for i in self.predict_proba(samples).argmax(axis=1)]

    def accuracy(self, samples: np.ndarray, labels: Sequence[str]) -> float:
        return float(np.mean([p == t for p, t in zip(self.predict(samples), labels)]))

    # --- storage ---------------------------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        """Write the learner to an .npz file (numpy arrays and a JSON header; no pickle)."""
        path = Path(path)
        header = {'format': FORMAT, 'labels': list(self._classes), 'feature_size': self._dim,
                  'n_components': self.n_components, 'max_samples': self.max_samples,
                  'reg_covar': self.reg_covar, 'seed': self.seed,
                  'samples_per_component': self.samples_per_component,
                  'seen': [m.seen for m in self._classes.values()]}
        arrays = {'header': np.array(json.dumps(header))}
        for i, m in enumerate(self._classes.values()):
            arrays.update({f'c{i}_weights': m.weights, f'c{i}_means': m.means, f'c{i}_variances': m.variances,
                           f'c{i}_memory': m.memory})
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
            LearnerFileError: missing, unreadable, or not a learner file.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data['header']))
                if header.get('format') != FORMAT:
                    raise LearnerFileError(f'{path} is not an attune learner file ({header.get("format")!r})')
                learner = cls(header['n_components'], header['max_samples'], header['reg_covar'], header['seed'],
                              header.get('samples_per_component', 50))
                for i, (label, seen) in enumerate(zip(header['labels'], header['seen'])):
                    learner._classes[label] = _ClassModel(
                        data[f'c{i}_weights'], data[f'c{i}_means'], data[f'c{i}_variances'],
                        data[f'c{i}_memory'], int(seen))
                learner._dim = header['feature_size']
        except LearnerFileError:
            raise
        except (OSError, KeyError, ValueError) as exc:
            raise LearnerFileError(f'cannot read learner file {path}: {exc}') from None
        return learner
