"""Hand landmarks with MediaPipe Hands and its bundled models (mediapipe==0.10.21).

One `HandAnalyzer.process(rgb)` call runs MediaPipe's hand-tracking graph: the palm detector finds
hands (only when fewer than `max_hands` are being tracked), the landmark model places 21 landmarks
per hand and follows them from frame to frame. Results are corrected for the camera: MediaPipe
labels handedness as if the image were mirrored (a selfie view); a robot's camera is not, so with
`mirrored_input=False` (the default) the labels are swapped to name the person's own hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError
from attune.hands.types import HandFrame, HandObservation
from attune.mediapipe_executor import on_calling_thread
from attune.model_files import loading, open_mediapipe_graph

HandModel = Literal['full', 'lite']

_LANDMARK_FILES = {'full': 'modules/hand_landmark/hand_landmark_full.tflite',
                   'lite': 'modules/hand_landmark/hand_landmark_lite.tflite'}
_PALM_FILES = {'full': 'modules/palm_detection/palm_detection_full.tflite',
               'lite': 'modules/palm_detection/palm_detection_lite.tflite'}


@dataclass(frozen=True)
class HandAnalyzerOptions:
    """Options of HandAnalyzer (the hands node exposes each as a ROS parameter).

    model: 'full' (MediaPipe model_complexity 1, more accurate) or 'lite' (complexity 0, faster).
    max_hands: the most hands found and followed at once (1 to 4).
    min_detection_confidence: palm-detector score below which a hand is not picked up.
    min_tracking_confidence: landmark-tracking confidence below which the detector runs again.
    static_images: treat every image as unrelated (no tracking between frames).
    mirrored_input: the images are mirrored (selfie view); False for a robot's camera.
    """

    model: HandModel = 'full'
    max_hands: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_images: bool = False
    mirrored_input: bool = False

    def __post_init__(self) -> None:
        if self.model not in _LANDMARK_FILES:
            raise ConfigError(f"model must be 'full' or 'lite', got {self.model!r}")
        for name in ('min_detection_confidence', 'min_tracking_confidence'):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f'{name} must be in [0, 1], got {value}')
        if not 1 <= self.max_hands <= 4:
            raise ConfigError(f'max_hands must be in [1, 4], got {self.max_hands}')


def mediapipe_hand_model_paths(options: HandAnalyzerOptions) -> list[Path]:
    """The model files these options need, inside the installed mediapipe package."""
    import mediapipe

    root = Path(mediapipe.__file__).resolve().parent
    return [root / _PALM_FILES[options.model], root / _LANDMARK_FILES[options.model]]


class HandAnalyzer:
    """MediaPipe Hands. Not thread-safe; one per image stream. Use as a context manager or close().

    Raises:
        ModelFileError: a model file MediaPipe needs is missing or cannot be loaded (names the files).
    """

    def __init__(self, options: HandAnalyzerOptions | None = None) -> None:
        self.options = options or HandAnalyzerOptions()
        o = self.options
        with loading('MediaPipe hand model', *mediapipe_hand_model_paths(o),
                     missing_hint='attune needs mediapipe==0.10.21, the last release whose wheel carries its models'):
            from mediapipe.python.solutions import hands

            self._hands = on_calling_thread(hands.Hands)(
                static_image_mode=o.static_images, max_num_hands=o.max_hands,
                model_complexity=1 if o.model == 'full' else 0,
                min_detection_confidence=o.min_detection_confidence,
                min_tracking_confidence=o.min_tracking_confidence)
            open_mediapipe_graph(self._hands)

    def __enter__(self) -> HandAnalyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()
            self._hands = None

    def process(self, rgb: npt.NDArray[Any]) -> tuple[HandObservation, ...]:
        """All hands in one RGB uint8 image (H, W, 3), ordered left to right (by wrist x)."""
        if self._hands is None:
            raise RuntimeError('HandAnalyzer is closed')
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
        result = self._hands.process(np.ascontiguousarray(rgb))
        found = []
        worlds = result.multi_hand_world_landmarks or ()
        for i, (landmarks, handedness) in enumerate(zip(result.multi_hand_landmarks or (),
                                                        result.multi_handedness or ())):
            label = handedness.classification[0]
            found.append(HandObservation(
                handedness=person_handedness(label.label, self.options.mirrored_input),
                score=float(label.score), landmarks=_to_array(landmarks),
                world_landmarks=_to_array(worlds[i]) if i < len(worlds) else None))
        return tuple(sorted(found, key=lambda h: float(h.landmarks[0, 0])))

    def frame(self, rgb: npt.NDArray[Any], stamp_ns: int) -> HandFrame:
        """process() packed as a HandFrame with the image's stamp and size."""
        height, width = rgb.shape[:2]
        return HandFrame(stamp_ns=stamp_ns, width=width, height=height, hands=self.process(rgb))


def person_handedness(mediapipe_label: str, mirrored_input: bool) -> Literal['left', 'right']:
    """The person's own hand from MediaPipe's label ('Left'/'Right', which assumes a mirrored image)."""
    label = mediapipe_label.lower()
    if label not in ('left', 'right'):
        raise ValueError(f'unexpected MediaPipe handedness label {mediapipe_label!r}')
    if mirrored_input:
        return 'left' if label == 'left' else 'right'
    return 'right' if label == 'left' else 'left'


def _to_array(landmark_list: Any) -> npt.NDArray[np.float32]:
    """A MediaPipe NormalizedLandmarkList (an untyped protobuf message) -> (N, 3) float32."""
    return np.array([(p.x, p.y, p.z) for p in landmark_list.landmark], dtype=np.float32)
