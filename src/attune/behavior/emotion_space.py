"""Emotions as points of the circumplex (valence, arousal) plus distress, and attention from head pose
(no rclpy): the fixed tables and formulas the interaction-state fusion applies to its inputs."""
from __future__ import annotations

import math
from collections.abc import Sequence

#: Emotion label -> (valence, arousal, distress). Labels not listed are ignored (their probability
#: mass is left out and the rest renormalized).
EMOTION_TABLE: dict[str, tuple[float, float, float]] = {
    'neutral': (0.0, 0.0, 0.0),
    'happy': (0.8, 0.4, 0.0),
    'sad': (-0.6, -0.4, 0.7),
    'surprise': (0.2, 0.7, 0.2),
    'fear': (-0.7, 0.7, 0.9),
    'disgust': (-0.6, 0.3, 0.5),
    'anger': (-0.7, 0.7, 0.7),
    'contempt': (-0.4, 0.1, 0.3),
    'calm': (0.3, -0.5, 0.0),
}
#: Other spellings that models use for the same emotions.
EMOTION_ALIASES = {'happiness': 'happy', 'joy': 'happy', 'sadness': 'sad', 'surprised': 'surprise',
                   'fearful': 'fear', 'afraid': 'fear', 'disgusted': 'disgust', 'angry': 'anger',
                   'calmness': 'calm', 'relaxed': 'calm'}


def emotion_coordinates(labels: Sequence[str], probabilities: Sequence[float]
                        ) -> tuple[float, float, float] | None:
    """(valence, arousal, distress) of an emotion distribution through EMOTION_TABLE, or None when no
    label is known. Probabilities of unknown labels are left out and the rest renormalized."""
    total = v = a = d = 0.0
    for label, p in zip(labels, probabilities):
        row = EMOTION_TABLE.get(EMOTION_ALIASES.get(label.lower(), label.lower()))
        if row is None or not math.isfinite(p) or p <= 0:
            continue
        total += p
        v += p * row[0]
        a += p * row[1]
        d += p * row[2]
    if total <= 0:
        return None
    return v / total, a / total, d / total


def distress_from_valence_arousal(valence: float, arousal: float) -> float:
    """Distress of a circumplex point: clamp(-valence, 0, 1) * (0.5 + 0.25 * (1 + arousal)).

    Negative valence is distress; high arousal makes it more so (v=-1: a=1 -> 1.0, a=-1 -> 0.5)."""
    a = min(1.0, max(-1.0, arousal)) if math.isfinite(arousal) else 0.0
    return min(1.0, max(0.0, -valence)) * (0.5 + 0.25 * (1.0 + a))


def attention_from_pose(yaw_deg: float, pitch_deg: float, cone_deg: float) -> float:
    """clamp(1 - hypot(yaw, pitch) / cone, 0, 1): 1 facing the camera, 0 at the cone's edge or beyond."""
    return min(1.0, max(0.0, 1.0 - math.hypot(yaw_deg, pitch_deg) / cone_deg))

