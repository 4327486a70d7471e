"""Signer emotion: hand-motion features (speed, extent, jerk) fused with the face's expression.

What it measures. Over the last `window_s` seconds of the signing hand (its wrist, in palm sizes so
the distance to the camera does not matter):
  speed    mean wrist speed, palm sizes per second;
  extent   diagonal of the box the wrist moved in, palm sizes;
  jerk     mean magnitude of the third derivative of the wrist path (smoothed over 5 frames, as
           landmark jitter dominates raw third differences), palm sizes per second cubed: abrupt,
           forceful movement;
  activity fraction of the window with the signing hand seen.
Each is squashed to [0, 1) as x / (x + reference) and their mean is the motion *energy*. The
references (MOTION_REFERENCES) lie between two measured clips: calm fingerspelling
(asl_hand.25fps.mp4: speed 0.9, extent 1.1, jerk 220; energy 0.25) and brisk conversational signing
(test_video.mp4: 30, 6.9, 25 000; energy 0.88). Research on emotion in signers (eJSL, see
docs/sign.md) reports that adding hand motion improves emotion recognition; it does not say how,
and we assume what studies of body movement commonly find: movement energy goes with arousal. So
energy maps to a hand arousal in [-1, 1] (0.5 energy = 0 arousal), which is blended with the face's
arousal and tilts the face's emotion distribution toward emotions of matching arousal (the
circumplex positions of attune.emotions.CIRCUMPLEX). Valence comes from the face alone:
hand motion does not say whether a state is pleasant. Without a recent Expression only arousal and
engagement are estimated (no emotion distribution).

What it does not measure: no model was trained or validated on signers' emotions (there is no such
data here); the constants are documented guesses, facial grammar (raised brows of a question) is
not separated from affect, and large motion can be grammar (emphasis, size) rather than emotion.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import CIRCUMPLEX
from attune.errors import ConfigError

SOURCE = 'signer_emotion'
#: (valence, arousal) of the expression labels: the same circumplex the expression sources use.
LABEL_AFFECT: dict[str, tuple[float, float]] = CIRCUMPLEX
#: The value of each feature that counts as half energy: speed palm/s, extent palm, jerk palm/s^3.
MOTION_REFERENCES = {'speed': 3.0, 'extent': 2.0, 'jerk': 1000.0}
_JERK_SMOOTHING = 5


@dataclass(frozen=True)
class SignerEmotionOptions:
    """window_s: seconds of hand motion considered; hand_weight: weight of the hands' arousal
    against the face's (scaled by activity); tilt: how strongly hand arousal reweights the face's
    emotions; max_expression_age_s: an Expression older than this is ignored."""

    window_s: float = 2.0
    hand_weight: float = 0.5
    tilt: float = 1.5
    max_expression_age_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0.2 <= self.window_s <= 30.0:
            raise ConfigError(f'window_s must be in [0.2, 30], got {self.window_s}')
        if not 0.0 <= self.hand_weight <= 1.0:
            raise ConfigError(f'hand_weight must be in [0, 1], got {self.hand_weight}')
        if not 0.0 <= self.tilt <= 10.0:
            raise ConfigError(f'tilt must be in [0, 10], got {self.tilt}')


@dataclass(frozen=True)
class HandMotion:
    speed: float
    extent: float
    jerk: float
    activity: float
    energy: float

    @property
    def arousal(self) -> float:
        return float(np.clip(2.0 * self.energy - 1.0, -1.0, 1.0))


@dataclass(frozen=True)
class ExpressionInput:
    """The parts of an attune/Expression the fusion uses."""

    stamp_ns: int
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    valence: float = math.nan
    arousal: float = math.nan
    face_id: str = ''
    source: str = ''


@dataclass(frozen=True)
class SignerAffect:
    stamp_ns: int
    emotions: tuple[str, ...]
    probabilities: tuple[float, ...]
    dominant: str
    valence: float
    arousal: float
    engagement: float
    motion: HandMotion
    face_id: str = ''


def squash(value: float, reference: float) -> float:
    return value / (value + reference) if value > 0 else 0.0


def hand_motion(stamps_s: npt.NDArray[Any], wrist: npt.NDArray[Any], present: npt.NDArray[Any],
                window_s: float) -> HandMotion:
    """Motion features of a wrist track: (T,) seconds, (T, 2) positions in palm sizes, (T,) bool."""
    activity = float(present.mean()) if len(present) else 0.0
    t, p = stamps_s[present], wrist[present]
    if len(t) < 2:
        return HandMotion(0.0, 0.0, 0.0, activity, squash(0.0, 1.0))
    dt = np.diff(t)
    ok = dt > 0
    velocity = np.diff(p, axis=0)[ok] / dt[ok, None]
    speed = float(np.linalg.norm(velocity, axis=1).mean()) if len(velocity) else 0.0
    extent = float(np.linalg.norm(p.max(axis=0) - p.min(axis=0)))
    jerk = 0.0
    if len(p) >= _JERK_SMOOTHING + 3:
        kernel = np.ones(_JERK_SMOOTHING) / _JERK_SMOOTHING
        smooth = np.stack([np.convolve(p[:, k], kernel, mode='valid') for k in range(2)], axis=1)
        step = float(np.median(dt[ok])) if ok.any() else 1.0 / 30
        third = np.diff(smooth, n=3, axis=0) / step ** 3
        jerk = float(np.linalg.norm(third, axis=1).mean()) if len(third) else 0.0
    parts = [squash(speed, MOTION_REFERENCES['speed']), squash(extent, MOTION_REFERENCES['extent']),
             squash(jerk, MOTION_REFERENCES['jerk'])]
    return HandMotion(speed, extent, jerk, activity, float(np.mean(parts)))


def fuse(motion: HandMotion, expression: ExpressionInput | None, options: SignerEmotionOptions,
         stamp_ns: int) -> SignerAffect:
    """The signer's affect from hand motion and (optionally) the face's expression."""
    weight = options.hand_weight * motion.activity
    hand_arousal = motion.arousal
    engagement = float(np.clip(motion.activity * (0.5 + 0.5 * motion.energy), 0.0, 1.0))
    if expression is None or not expression.labels:
        return SignerAffect(stamp_ns, (), (), '', math.nan, hand_arousal if weight > 0 else math.nan,
                            engagement, motion)
    p = np.asarray(expression.probabilities, dtype=np.float64)
    p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
    affect = np.array([LABEL_AFFECT.get(label.lower(), (0.0, 0.0)) for label in expression.labels])
    face_arousal = expression.arousal if math.isfinite(expression.arousal) else float(p @ affect[:, 1])
    tilted = p * np.exp(options.tilt * weight * hand_arousal * affect[:, 1])
    tilted /= tilted.sum()
    valence = expression.valence if math.isfinite(expression.valence) else float(tilted @ affect[:, 0])
    arousal = float(np.clip((1 - weight) * face_arousal + weight * hand_arousal, -1.0, 1.0))
    return SignerAffect(stamp_ns, tuple(expression.labels), tuple(float(v) for v in tilted),
                        expression.labels[int(tilted.argmax())], float(valence), arousal, engagement, motion,
                        face_id=expression.face_id)


class SignerEmotion:
    """Keeps the last window of hand motion and the latest expression; estimate() fuses them."""

    def __init__(self, options: SignerEmotionOptions | None = None) -> None:
        self.options = options or SignerEmotionOptions()
        self._track: deque[tuple[int, float, float, bool]] = deque()
        self._expression: ExpressionInput | None = None

    def add_hand(self, stamp_ns: int, wrist: npt.NDArray[Any] | None, palm: float | None) -> None:
        """One frame: the signing wrist in isotropic image units and the palm size, or None (no hand)."""
        if wrist is not None and palm and palm > 0 and np.isfinite(wrist).all():
            self._track.append((stamp_ns, float(wrist[0] / palm), float(wrist[1] / palm), True))
        else:
            self._track.append((stamp_ns, math.nan, math.nan, False))
        horizon = stamp_ns - int(self.options.window_s * 1e9)
        while self._track and self._track[0][0] < horizon:
            self._track.popleft()

    def add_expression(self, expression: ExpressionInput) -> None:
        self._expression = expression

    def estimate(self, stamp_ns: int) -> SignerAffect | None:
        """The current estimate, or None when no hand was seen in the window."""
        if not self._track or not any(row[3] for row in self._track):
            return None
        rows = np.array([(r[0], r[1], r[2]) for r in self._track], dtype=np.float64)
        present = np.array([r[3] for r in self._track])
        motion = hand_motion(rows[:, 0] * 1e-9, rows[:, 1:3], present, self.options.window_s)
        expression = self._expression
        if expression is not None and (stamp_ns - expression.stamp_ns) * 1e-9 > self.options.max_expression_age_s:
            expression = None
        return fuse(motion, expression, self.options, stamp_ns)
