"""Signer emotion: hand-motion features and their fusion with the face's expression."""
from __future__ import annotations

import math

import numpy as np
import pytest

from attune.errors import ConfigError
from attune.sign.emotion import (
    MOTION_REFERENCES,
    ExpressionInput,
    SignerEmotion,
    SignerEmotionOptions,
    fuse,
    hand_motion,
)

LABELS = ('neutral', 'happy', 'sad', 'anger')


def track(amplitude: float, hz: float, seconds: float = 2.0, fps: float = 30.0):
    t = np.arange(0, seconds, 1 / fps)
    wrist = np.c_[amplitude * np.sin(2 * np.pi * hz * t), amplitude * 0.5 * np.cos(2 * np.pi * hz * t)]
    return t, wrist, np.ones(len(t), bool)


def test_motion_features_measure_speed_extent_and_jerk() -> None:
    still = hand_motion(*track(0.0, 1.0), window_s=2.0)
    assert (still.speed, still.extent, still.jerk, still.energy) == (0.0, 0.0, 0.0, 0.0)
    assert still.arousal == -1.0 and still.activity == 1.0
    calm, brisk = hand_motion(*track(1.0, 0.5), window_s=2.0), hand_motion(*track(3.0, 2.0), window_s=2.0)
    assert calm.speed == pytest.approx(np.mean(np.hypot(np.pi * np.cos(np.pi * np.arange(60) / 30),
                                                        0.5 * np.pi * np.sin(np.pi * np.arange(60) / 30))), rel=0.05)
    assert calm.extent == pytest.approx(np.hypot(2.0, 1.0), rel=0.05)
    assert brisk.speed > 4 * calm.speed and brisk.jerk > 20 * calm.jerk
    assert 0 < calm.energy < 0.5 < brisk.energy < 1
    assert set(MOTION_REFERENCES) == {'speed', 'extent', 'jerk'}


def test_hands_tilt_the_faces_emotions_by_arousal_and_leave_valence_to_the_face() -> None:
    expression = ExpressionInput(0, LABELS, (0.25, 0.25, 0.25, 0.25), valence=0.1, face_id='f1')
    options = SignerEmotionOptions()
    brisk = fuse(hand_motion(*track(3.0, 2.0), window_s=2.0), expression, options, 5)
    still = fuse(hand_motion(*track(0.0, 1.0), window_s=2.0), expression, options, 5)
    assert sum(brisk.probabilities) == pytest.approx(1.0) and brisk.face_id == 'f1'
    assert brisk.dominant == 'anger' and still.dominant == 'sad'  # highest / lowest arousal label
    assert brisk.arousal > 0 > still.arousal
    assert brisk.valence == still.valence == 0.1  # the face's own valence
    no_hands = fuse(hand_motion(np.zeros(0), np.zeros((0, 2)), np.zeros(0, bool), 2.0), expression, options, 5)
    assert no_hands.probabilities == pytest.approx((0.25,) * 4)  # without signing, the face alone


def test_without_a_face_only_arousal_and_engagement() -> None:
    affect = fuse(hand_motion(*track(2.0, 1.0), window_s=2.0), None, SignerEmotionOptions(), 0)
    assert affect.emotions == () and affect.probabilities == () and affect.dominant == ''
    assert math.isnan(affect.valence) and -1 <= affect.arousal <= 1 and 0 < affect.engagement <= 1


def test_signer_emotion_keeps_a_window_and_ignores_stale_expressions() -> None:
    emotion = SignerEmotion(SignerEmotionOptions(window_s=1.0, max_expression_age_s=0.5))
    assert emotion.estimate(0) is None
    for i in range(60):
        wrist = np.array([0.5 + 0.05 * np.sin(i / 3), 0.5]) if i < 45 else None
        emotion.add_hand(int(i * 1e9 / 30), wrist, 0.1)
    emotion.add_expression(ExpressionInput(int(1.6e9), LABELS, (0.1, 0.7, 0.1, 0.1)))
    fresh = emotion.estimate(int(1.9e9))
    assert fresh is not None and fresh.emotions == LABELS and fresh.dominant == 'happy'
    assert fresh.motion.activity == pytest.approx(0.5, abs=0.05)  # the hand left half a window ago
    assert emotion.estimate(int(2.2e9)).emotions == ()  # the expression is > 0.5 s old
    with pytest.raises(ConfigError, match='hand_weight'):
        SignerEmotionOptions(hand_weight=2.0)
