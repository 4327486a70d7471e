"""What the sign models read in a video: MediaPipe Hands over every frame, then each model through the
same recognizer the sign node runs (no rclpy). Used by bench/sign.py and docs/sign.md.

Per isolated model: the events the recognizer publishes (hysteresis: one per held sign), and the
frame-by-frame top gloss of its window (what it "sees" before the hysteresis decides). Per
continuous model: the decoded gloss sequence of each signing segment.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError
from attune.hands.mediapipe_hands import HandModel
from attune.hands.types import HandFrame
from attune.sign.events import SignEvent
from attune.sign.features import pad_window
from attune.sign.model import SignModel
from attune.sign.recognizer import HandStream, RecognizerOptions, SignRecognizer, StreamOptions


def video_hand_frames(path: Path, *, mirrored: bool = True, model: HandModel = 'full',
                      max_frames: int | None = None) -> tuple[list[HandFrame], float]:
    """MediaPipe Hands on every frame of a video (stamps from its frame rate); the frames and the fps.
    mirrored: the video is a selfie view (hands are then named as the person's own).

    Raises:
        ConfigError: the video cannot be read.
    """
    import cv2

    from attune.hands import HandAnalyzer, HandAnalyzerOptions

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ConfigError(f'cannot read video {path}')
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames: list[HandFrame] = []
    with HandAnalyzer(HandAnalyzerOptions(model=model, mirrored_input=mirrored)) as analyzer:
        while max_frames is None or len(frames) < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(analyzer.frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), int(round(len(frames) * 1e9 / fps))))
    capture.release()
    if not frames:
        raise ConfigError(f'no frames in video {path}')
    return frames, float(fps)


def read_signs(frames: list[HandFrame], models: list[SignModel], *, mirrored: bool = True) -> dict[str, Any]:
    """The readings of each model over `frames` (see the module docstring), keyed by model name."""
    out: dict[str, Any] = {'frames': len(frames), 'frames_with_hands': sum(1 for f in frames if f.hands),
                 'hands_seen': dict(Counter(h.handedness for f in frames for h in f.hands))}
    stream_options = StreamOptions(mirrored_input=mirrored)
    for model in models:
        task = model.info.task
        recognizer = SignRecognizer(RecognizerOptions(mode=task, stream=stream_options),
                                    **{task: model})
        events: list[SignEvent] = []
        for frame in frames:
            events += recognizer.update(frame).events
        events += recognizer.flush()
        entry: dict[str, Any] = {'task': task, 'events': [_event(e, frames[0].stamp_ns) for e in events]}
        if task == 'isolated':
            entry['frame_top'] = _frame_top(frames, model, stream_options)
        out[model.info.name] = entry
    return out


def _event(event: SignEvent, origin_ns: int) -> dict[str, Any]:
    return {'gloss': event.gloss, 'sequence': list(event.sequence), 'confidence': round(event.confidence, 3),
            'start_s': round((event.start_ns - origin_ns) * 1e-9, 2),
            'end_s': round((event.end_ns - origin_ns) * 1e-9, 2),
            'top': [[g, round(p, 3)] for g, p in event.top], 'hand': event.handedness}


def _frame_top(frames: list[HandFrame], model: SignModel, options: StreamOptions) -> dict[str, Any]:
    """Top-1 gloss of the model's window at every frame with the signing hand: counts and the mean
    probability of each gloss when it is on top."""
    stream = HandStream(options)
    window: list[npt.NDArray[Any]] = []
    tops: list[tuple[str, float]] = []
    for frame in frames:
        current = stream.step(frame)
        if not current.present:
            window.clear()
            continue
        window = (window + [current.features])[-model.info.window:]
        probabilities = model.probabilities(pad_window(np.stack(window), model.info.window).features)
        k = int(np.argmax(probabilities))
        tops.append((model.glosses[k], float(probabilities[k])))
    counts = Counter(g for g, _ in tops)
    return {'frames': len(tops),
            'glosses': {g: {'frames': n, 'mean_probability': round(float(np.mean([p for t, p in tops if t == g])), 3)}
                        for g, n in counts.most_common()}}
