"""Rule-based expression from action units: EMFACS-style prototypes (no rclpy, no training).

Each expression has a prototype, the AUs EMFACS lists for it, with weights (`PROTOTYPES`): its
score is the weighted mean of those AU intensities, times a gate on its core AUs (an expression is
not shown without them: no happiness without AU12), minus penalties for AUs that contradict it.
Neutral has a constant score (`NEUTRAL_SCORE`): an expression must beat it to win. Probabilities
are a softmax of the scores with temperature `1 / SHARPNESS`.

Prototypes (Ekman & Friesen's EMFACS, as summarised by Matsumoto & Ekman and used by
Py-Feat/iMotions): happy 6+12; sad 1+4+15 (+17); surprise 1+2+5B+26; fear 1+2+4+5+7+20+26;
anger 4+5+7+23; disgust 9+15+16 (with 10); contempt unilateral 12/14.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import RULE_LABELS, valence_arousal
from attune.expression.action_units import AU_INDEX


@dataclass(frozen=True)
class Prototype:
    """weights: AU -> weight of the mean; core: AUs of which at least one must act (gate = max of
    them, to the power 0.5); against: AU -> penalty weight."""

    weights: dict[str, float]
    core: tuple[str, ...]
    against: dict[str, float]


PROTOTYPES: dict[str, Prototype] = {
    'happy': Prototype({'AU12': 1.0, 'AU6': 0.6, 'AU25': 0.1}, ('AU12',), {'AU15': 0.5, 'AU4': 0.3}),
    'sad': Prototype({'AU15': 1.0, 'AU1': 0.6, 'AU4': 0.5, 'AU17': 0.4}, ('AU15', 'AU1'),
                     {'AU12': 0.8, 'AU26': 0.3, 'AU5': 0.3}),
    'surprise': Prototype({'AU1': 0.6, 'AU2': 0.6, 'AU5': 0.6, 'AU26': 0.8, 'AU25': 0.4}, ('AU26', 'AU2', 'AU5'),
                          {'AU4': 0.6, 'AU12': 0.3, 'AU9': 0.3}),
    'fear': Prototype({'AU1': 0.5, 'AU2': 0.3, 'AU4': 0.5, 'AU5': 0.6, 'AU20': 0.6, 'AU25': 0.3, 'AU26': 0.2},
                      ('AU20', 'AU5'), {'AU12': 0.6, 'AU9': 0.3}),
    'anger': Prototype({'AU4': 1.0, 'AU7': 0.5, 'AU23': 0.6, 'AU5': 0.3, 'AU17': 0.2, 'AU10': 0.2},
                       ('AU4', 'AU23'), {'AU12': 0.6, 'AU1': 0.3}),
    'disgust': Prototype({'AU9': 1.0, 'AU10': 0.8, 'AU15': 0.3, 'AU17': 0.2, 'AU4': 0.2}, ('AU9', 'AU10'),
                         {'AU12': 0.4, 'AU2': 0.3}),
    'contempt': Prototype({'AU14': 1.0, 'AU12': 0.3}, ('AU14',), {'AU25': 0.4, 'AU6': 0.4, 'AU15': 0.3}),
}

#: The score of neutral: a prototype scoring above it is more likely than neutral.
NEUTRAL_SCORE = 0.3
#: Softmax sharpness (inverse temperature) over scores.
SHARPNESS = 8.0


def prototype_scores(au: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Scores in RULE_LABELS order (neutral first) from an AU intensity vector (AU_NAMES order)."""
    au = np.asarray(au, dtype=np.float64)
    scores = np.empty(len(RULE_LABELS))
    scores[0] = NEUTRAL_SCORE
    for i, label in enumerate(RULE_LABELS[1:], start=1):
        proto = PROTOTYPES[label]
        weights = np.array(list(proto.weights.values()))
        values = np.array([au[AU_INDEX[a]] for a in proto.weights])
        mean = float(weights @ values / weights.sum())
        gate = max(au[AU_INDEX[a]] for a in proto.core) ** 0.5
        penalty = sum(w * au[AU_INDEX[a]] for a, w in proto.against.items())
        scores[i] = max(0.0, mean * gate - 0.5 * penalty)
    return scores


@dataclass(frozen=True)
class RuleResult:
    """probabilities in RULE_LABELS order (sum 1); valence, arousal in [-1, 1]."""

    probabilities: npt.NDArray[Any]
    valence: float
    arousal: float

    @property
    def label(self) -> str:
        return RULE_LABELS[int(np.argmax(self.probabilities))]


def classify(au: npt.NDArray[Any]) -> RuleResult:
    """Expression probabilities, valence and arousal from AU intensities."""
    scores = prototype_scores(au)
    z = np.exp(SHARPNESS * (scores - scores.max()))
    p = (z / z.sum()).astype(np.float32)
    valence, arousal = valence_arousal(RULE_LABELS, p)
    return RuleResult(p, valence, arousal)
