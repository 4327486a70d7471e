"""Hand perception core (no rclpy): MediaPipe Hands, hand-landmark normalization."""
from attune.hands.mediapipe_hands import HandAnalyzer, HandAnalyzerOptions, mediapipe_hand_model_paths
from attune.hands.normalize import canonical_mirror, check_landmarks, normalize_hand
from attune.hands.types import HandFrame, HandObservation

__all__ = ['HandAnalyzer', 'HandAnalyzerOptions', 'HandFrame', 'HandObservation', 'canonical_mirror',
           'check_landmarks', 'mediapipe_hand_model_paths', 'normalize_hand']
