"""Hand perception core (no rclpy): MediaPipe Hands, hand-landmark normalization.

The analyzer loads on first use (PEP 562): nodes that only read Hands messages import `attune.hands.types`
through this package, and must not pay for MediaPipe and OpenCV.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from attune.hands.normalize import canonical_mirror, check_landmarks, normalize_hand
from attune.hands.types import HandFrame, HandObservation

if TYPE_CHECKING:
    from attune.hands.mediapipe_hands import HandAnalyzer, HandAnalyzerOptions, mediapipe_hand_model_paths

_LAZY = {'HandAnalyzer': 'attune.hands.mediapipe_hands', 'HandAnalyzerOptions': 'attune.hands.mediapipe_hands',
         'mediapipe_hand_model_paths': 'attune.hands.mediapipe_hands'}

__all__ = ['HandAnalyzer', 'HandAnalyzerOptions', 'HandFrame', 'HandObservation', 'canonical_mirror',
           'check_landmarks', 'mediapipe_hand_model_paths', 'normalize_hand']


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(import_module(module), name)
