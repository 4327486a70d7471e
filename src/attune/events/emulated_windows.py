"""Event windows emulated from frames: saccades over still photos, morph sequences and videos.

Every window is made with the same face-window geometry and emulator as the event-emulator node
(attune.events.face_window), so training sees what the node will send. Augmentation draws sensor
settings (thresholds, mismatch, noise), box jitter and saccade size per window or sequence.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.events.emulator import EmulatorOptions
from attune.events.face_window import FaceEventEmulator, WindowOptions
from attune.events.representation import event_frames
from attune.events.types import EventArray
from attune.events.window_set import WindowSpec
from attune.geometry import BoundingBox


def random_emulator(rng: np.random.Generator) -> EmulatorOptions:
    """Emulator settings drawn for augmentation: thresholds, mismatch and noise vary as between sensors."""
    threshold = float(rng.uniform(0.15, 0.3))
    return EmulatorOptions(pos_threshold=threshold * float(rng.uniform(0.9, 1.1)), neg_threshold=threshold,
                           threshold_sigma=float(rng.uniform(0.01, 0.05)), refractory_s=float(rng.uniform(0, 0.002)),
                           leak_hz=float(rng.uniform(0, 0.3)), shot_noise_hz=float(rng.uniform(0, 0.5)),
                           seed=int(rng.integers(2**31)))


#: Training draws each window's saccade amplitude from this range of factors of the node's setting (sensor
#: and detector variation); a model expects amplitudes within it (attune.events.fer.saccade_mismatch).
SACCADE_SCALE = (0.6, 1.4)


def jittered(box: BoundingBox, window: WindowOptions, rng: np.random.Generator
             ) -> tuple[BoundingBox, WindowOptions]:
    """A slightly shifted and scaled face box (as detectors differ) and a random saccade size."""
    side = max(box.width, box.height)
    dx, dy = rng.uniform(-0.04, 0.04, 2) * side
    scale = rng.uniform(0.92, 1.08)
    cx, cy = box.center
    hw, hh = box.width * scale / 2, box.height * scale / 2
    box = BoundingBox(cx + dx - hw, cy + dy - hh, cx + dx + hw, cy + dy + hh)
    window = WindowOptions(size=window.size, margin=window.margin, smoothing=window.smoothing,
                           saccade_amplitude_px=float(rng.uniform(*SACCADE_SCALE)) * window.saccade_amplitude_px,
                           saccade_period_s=window.saccade_period_s)
    return box, window


def sequence_windows(frames: Sequence[npt.NDArray[Any]], boxes: Sequence[BoundingBox | None], stamps_ns: Sequence[int],
                     ends: Iterable[int], spec: WindowSpec, emulator: EmulatorOptions,
                     window: WindowOptions | None = None, noise: float = 0.0,
                     rng: np.random.Generator | None = None) -> list[tuple[int, npt.NDArray[Any]]]:
    """(end frame, (2, bins, size, size) uint8 window) for each frame index in `ends`.

    The face is emulated frame by frame (frames without a box are skipped); a window ends at its
    frame's stamp and covers window_s before it (ends with less history than that are skipped).
    `noise`: standard deviation of Gaussian camera noise added to every frame (needs `rng`).
    """
    face = FaceEventEmulator(window or spec.window_options(), emulator)
    wanted = set(ends)
    out: list[tuple[int, npt.NDArray[Any]]] = []
    parts: list[EventArray] = []
    first = None
    for i, gray in enumerate(frames):
        box = boxes[i]
        if box is None:
            continue
        if noise > 0 and rng is not None:
            gray = np.clip(gray + rng.normal(0, noise, gray.shape).astype(np.float32), 0, 255)
        t = int(stamps_ns[i])
        events, _ = face.step(gray, box, t)
        parts.append(events)
        first = t if first is None else first
        if i not in wanted or t - first < spec.window_ns:
            continue
        start = t - spec.window_ns
        parts = [p for p in parts if len(p) and p.t[-1] >= start]
        merged = EventArray.concatenate(parts, spec.size, spec.size)
        out.append((i, event_frames(merged, spec.bins, spec.size, spec.size, start, t + 1).astype(np.uint8)))
    return out


def frame_stamps(count: int, fps: float, start_ns: int = 1_000_000_000) -> list[int]:
    return [start_ns + int(round(i * 1e9 / fps)) for i in range(count)]


def still_window(gray: npt.NDArray[Any], box: BoundingBox, spec: WindowSpec, rng: np.random.Generator,
                 emulator: EmulatorOptions | None = None, jitter: bool = True,
                 window: WindowOptions | None = None) -> npt.NDArray[Any]:
    """(2, bins, size, size) uint8 frames of one emulated saccade window over a still image.

    The image is shown at spec.fps for a short warm-up plus window_s, with saccades (random phase),
    and with `jitter` camera noise, a slightly shifted and scaled box and a random saccade size.
    """
    emulator = emulator or random_emulator(rng)
    window = window or spec.window_options()
    if jitter:
        box, window = jittered(box, window, rng)
    gray, box = face_region(gray, box, 4 * spec.size)
    start = int(rng.uniform(0, window.saccade_period_s) * 1e9) + 1_000_000_000
    count = int(math.ceil((spec.window_s + 0.1) * spec.fps)) + 1
    noise = float(rng.uniform(0.0, 3.0)) if jitter else 0.0
    base = gray.astype(np.float32)
    ((_, x),) = sequence_windows([base] * count, [box] * count, frame_stamps(count, spec.fps, start), [count - 1],
                                 spec, emulator, window, noise, rng)
    return x


def face_region(image: npt.NDArray[Any], box: BoundingBox, pixels: int, scale_to: float = 2.0
                ) -> tuple[npt.NDArray[Any], BoundingBox]:
    """The image around a box (`scale_to` times its side), shrunk to about `pixels` square, and the
    box in it: a still image is cropped once instead of every frame (same windows, a fraction of the cost)."""
    region, inner, _ = face_region_transform(image, box, pixels, scale_to)
    return region, inner


def face_region_transform(image: npt.NDArray[Any], box: BoundingBox, pixels: int, scale_to: float = 2.0
                          ) -> tuple[npt.NDArray[Any], BoundingBox, tuple[float, float, float]]:
    """face_region, plus (x0, y0, scale) mapping image pixels p to region pixels (p - (x0, y0)) * scale."""
    h, w = image.shape[:2]
    cx, cy = box.center[0] * w, box.center[1] * h
    side = scale_to * max(box.width * w, box.height * h) + 8
    x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
    x1, y1 = int(min(cx + side / 2, w)), int(min(cy + side / 2, h))
    region = image[y0:y1, x0:x1]
    scale = min(1.0, pixels / max(region.shape[:2]))
    if scale < 1.0:
        size = (max(int(round(region.shape[1] * scale)), 1), max(int(round(region.shape[0] * scale)), 1))
        region = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    rw, rh = (x1 - x0), (y1 - y0)
    inner = BoundingBox((box.xmin * w - x0) / rw, (box.ymin * h - y0) / rh, (box.xmax * w - x0) / rw,
                        (box.ymax * h - y0) / rh)
    return region, inner, (float(x0), float(y0), region.shape[1] / rw)
