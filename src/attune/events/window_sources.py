"""The three kinds of spiking FER windows, emulated with where each came from (teacher-independent).

- stills: saccade windows over a photo (`ref` = the photo's path);
- onsets/offsets: neutral <-> smile morph sequences of a photo pair (`ref` = the subject, `alpha` =
  the morph amount of the frame the window ends on);
- videos: stretches of a face video (`ref` = the video's path, `frames` = the frames whose teacher
  labels describe the window's end).

Labels are attached later (attune.events.dataset), so a changed teacher relabels the same windows.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.events.emulated_windows import frame_stamps, jittered, random_emulator, sequence_windows, still_window
from attune.events.emulator import EmulatorOptions
from attune.events.onsets import MorphPair, OnsetCurve
from attune.events.window_set import WindowSpec
from attune.geometry import BoundingBox


@dataclass
class RawWindows:
    """Emulated windows and their provenance, before labels (lists grow as sources are added)."""

    x: list[npt.NDArray[Any]] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    ref: list[str] = field(default_factory=list)
    alpha: list[float] = field(default_factory=list)
    frames: list[tuple[int, int]] = field(default_factory=list)
    test: list[bool] = field(default_factory=list)

    def add(self, x: npt.NDArray[Any], kind: str, source: str, subject: str, ref: str, test: bool,
            alpha: float = float('nan'), frames: tuple[int, int] = (-1, -1)) -> None:
        self.x.append(x)
        self.kind.append(kind)
        self.source.append(source)
        self.subject.append(subject)
        self.ref.append(ref)
        self.alpha.append(alpha)
        self.frames.append(frames)
        self.test.append(test)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {'x': np.stack(self.x) if self.x else np.zeros((0,), np.uint8), 'kind': np.array(self.kind),
                'source': np.array(self.source), 'subject': np.array(self.subject), 'ref': np.array(self.ref),
                'alpha': np.array(self.alpha, np.float32), 'frames': np.array(self.frames, np.int64).reshape(-1, 2),
                'test': np.array(self.test, bool)}


def keyed_rng(seed: int, key: str) -> np.random.Generator:
    """A generator fixed by the seed and a name (a file, a subject): the same windows wherever the data lies."""
    return np.random.default_rng([seed, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)])


def add_stills(out: RawWindows, gray: npt.NDArray[Any], box: BoundingBox, spec: WindowSpec, count: int,
               rng: np.random.Generator, *, source: str, subject: str, ref: str, test: bool) -> None:
    """`count` saccade windows over one photo: augmented for training, fixed settings for testing."""
    for _ in range(count):
        if test:
            x = still_window(gray, box, spec, rng, EmulatorOptions(seed=int(rng.integers(2**31))), jitter=False)
        else:
            x = still_window(gray, box, spec, rng)
        out.add(x, 'still', source, subject, ref, test)


#: The fixed sequences held-out people are scored on: 1 s neutral, a 0.4 s onset, 0.5 s smiling
#: (windows every 0.1 s: 7 neutral, 8 smiling, 1 in between); and the reverse (offset).
EVAL_ONSET = OnsetCurve(hold_s=1.0, ramp_s=0.4, after_s=0.5, start=0.0, stop=1.0)
EVAL_OFFSET = OnsetCurve(hold_s=1.0, ramp_s=0.4, after_s=0.5, start=1.0, stop=0.0)


def random_curve(rng: np.random.Generator, onset: bool) -> OnsetCurve:
    """A training sequence: hold 0.1-0.8 s, ramp 0.15-0.8 s, hold 0.15-0.6 s, peak 0.6-1."""
    peak = float(rng.uniform(0.6, 1.0))
    hold, ramp, after = float(rng.uniform(0.1, 0.8)), float(rng.uniform(0.15, 0.8)), float(rng.uniform(0.15, 0.6))
    return OnsetCurve(hold, ramp, after, 0.0 if onset else peak, peak if onset else 0.0)


def add_sequence(out: RawWindows, pair: MorphPair, curve: OnsetCurve, spec: WindowSpec, rng: np.random.Generator, *,
                 source: str, test: bool, stride: int = 3) -> None:
    """Windows every `stride` frames along one morph sequence (random sensor and box for training)."""
    alphas = curve.alphas(spec.fps)
    window = spec.window_options()
    emulator = EmulatorOptions(seed=int(rng.integers(2**31))) if test else random_emulator(rng)
    box0 = pair.box0
    if not test:
        _, window = jittered(box0, window, rng)
    frames = [pair.frame(a) for a in alphas]
    boxes = [pair.box(a) for a in alphas]
    if not test:  # one detector offset for the whole sequence (a tracker's bias), not per frame
        shift = rng.uniform(-0.03, 0.03, 2) * max(box0.width, box0.height)
        boxes = [BoundingBox(b.xmin + shift[0], b.ymin + shift[1], b.xmax + shift[0], b.ymax + shift[1]) for b in boxes]
    start = int(rng.uniform(0, window.saccade_period_s) * 1e9) + 1_000_000_000
    ends = range(len(frames) - 1, 0, -stride)
    noise = float(rng.uniform(0.0, 3.0)) if not test else 0.0
    kind = curve.kind
    for end, x in sequence_windows(frames, boxes, frame_stamps(len(frames), spec.fps, start), ends, spec, emulator,
                                   window, noise, rng):
        out.add(x, kind, source, pair.subject, pair.subject, test, alpha=float(alphas[end]))


def add_video(out: RawWindows, frames: list[npt.NDArray[Any]], boxes: list[BoundingBox | None], fps: float,
              spec: WindowSpec, emulator: EmulatorOptions, *, source: str, subject: str, ref: str, test: bool,
              stride: int = 3, label_s: float = 0.1) -> None:
    """Windows every `stride` frames of a video; `frames` of each = the frames of its last label_s."""
    last = max(int(round(label_s * fps)), 1)
    ends = range(stride, len(frames), stride)
    for end, x in sequence_windows(frames, boxes, frame_stamps(len(frames), fps), ends, spec, emulator):
        out.add(x, 'video', source, subject, ref, test, frames=(max(end - last + 1, 0), end + 1))
