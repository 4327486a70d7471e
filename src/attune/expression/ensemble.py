"""Combining expression probabilities from several sources (rules, CNN, learner) into one (no rclpy).

A weighted linear opinion pool over the union of the sources' labels: p(label) = sum_s w_s p_s(label)
/ sum_s w_s, where a source that lacks a label (the CNN has no contempt; learned labels exist only
in the learner) gives it probability 0. Each source's own distribution stays available beside it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import RULE_LABELS, valence_arousal
from attune.errors import ConfigError


@dataclass(frozen=True)
class Distribution:
    """A labelled probability vector (labels[i] has probabilities[i]; they sum to 1)."""

    labels: tuple[str, ...]
    probabilities: npt.NDArray[Any]

    @property
    def label(self) -> str:
        return self.labels[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def get(self, label: str) -> float:
        return float(self.probabilities[self.labels.index(label)]) if label in self.labels else 0.0

    def restricted(self, labels: Sequence[str]) -> npt.NDArray[Any]:
        """The probabilities of `labels` only (in that order), renormalized (uniform if all are 0)."""
        p = np.array([self.get(label) for label in labels], dtype=np.float64)
        total = p.sum()
        return (p / total if total > 0 else np.full(len(labels), 1 / len(labels))).astype(np.float32)

    def valence_arousal(self) -> tuple[float, float]:
        return valence_arousal(self.labels, self.probabilities)


def combine(sources: Mapping[str, Distribution], weights: Mapping[str, float]) -> Distribution:
    """The weighted pool of the sources present in both mappings with a positive weight.

    Labels come out in RULE_LABELS order first, then any other labels in order of appearance.

    Raises:
        ConfigError: a negative weight, or no source with a positive weight.
    """
    if any(w < 0 for w in weights.values()):
        raise ConfigError(f'ensemble weights must be >= 0, got {dict(weights)}')
    used = {name: d for name, d in sources.items() if weights.get(name, 0.0) > 0}
    if not used:
        raise ConfigError(f'no expression source with a positive weight among {sorted(sources)}')
    extra = [label for d in used.values() for label in d.labels if label not in RULE_LABELS]
    labels = tuple(label for label in RULE_LABELS if any(label in d.labels for d in used.values()))
    labels += tuple(dict.fromkeys(extra))
    total = sum(weights[name] for name in used)
    p = np.zeros(len(labels))
    for name, d in used.items():
        p += weights[name] / total * np.array([d.get(label) for label in labels])
    return Distribution(labels, (p / p.sum()).astype(np.float32))
