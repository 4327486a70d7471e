"""Continuous sign sequences composed from isolated recordings, for CTC training and evaluation.

There is no public continuous data of these vocabularies, so sequences are built the way signing
strings signs together: each sign is a stretch of consecutive frames of one recording of it
(its own small motion and landmark noise included), time-warped by a random speed; between two
signs the hand moves from the last pose of one to the first pose of the next along an eased path
(smoothstep) for a random number of frames, with a small random drift of the whole hand; a doubled
gloss (e.g. the L-L of "hello") slides sideways between its two signs, as fingerspelling does.
Sequences may start and end with a few frames without hands. Only segments passed in are used, so
composing from held-out blocks gives held-out sequences.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError
from attune.sign.features import point_features
from attune.sign.segments import LandmarkDataset, Segment


@dataclass(frozen=True)
class ComposeOptions:
    """glosses: sequence length range; hold_frames: frames per sign after time warping;
    speed: time-warp factor range (>1 = faster than recorded); transition_frames: frames of
    hand motion between signs; rest_frames: frames without hands at each end; repeat_probability:
    chance that a gloss repeats the previous one on purpose (image data, where a doubled gloss slides
    sideways; a random draw may also repeat it); hand data never repeat a gloss (without a hand
    position nothing tells the two apart); drift: largest random shift of a sign's position
    (image-normalized); noise: landmark jitter (image-normalized) added to every frame."""

    glosses: tuple[int, int] = (2, 6)
    hold_frames: tuple[int, int] = (7, 20)
    speed: tuple[float, float] = (0.7, 1.4)
    transition_frames: tuple[int, int] = (3, 9)
    rest_frames: tuple[int, int] = (0, 6)
    repeat_probability: float = 0.05
    drift: float = 0.02
    noise: float = 0.0015


@dataclass(frozen=True)
class ComposedSequence:
    features: npt.NDArray[Any]  # (T, FEATURE_DIM) float32
    labels: tuple[int, ...]  # indices into the data set's glosses
    spans: tuple[tuple[int, int], ...]  # first and last frame of each sign's hold
    points: npt.NDArray[Any]  # (T, 21, 2) the signing hand's landmarks (NaN without hand), in the data's space
    aspect: float = 1.0
    mirror: bool = False


class SequenceComposer:
    """Draws composed sequences from the segments of a data set (image or hand kind).

    Raises:
        ConfigError: a trajectory data set (fingertip tracks have no hand to move between signs),
            or a gloss without segments.
    """

    def __init__(self, dataset: LandmarkDataset, options: ComposeOptions | None = None) -> None:
        self.dataset = dataset
        self.options = options or ComposeOptions()
        kinds = {s.kind for s in dataset.segments}
        if not kinds or not kinds <= {'image', 'hand'}:
            raise ConfigError(f'cannot compose continuous sequences from {dataset.name} ({sorted(kinds)} data): '
                              'it needs hand landmarks')
        self.kind = kinds.pop() if len(kinds) == 1 else 'image'
        self.by_gloss: dict[int, list[Segment]] = {}
        for s in dataset.segments:
            if np.isfinite(s.points).all(axis=tuple(range(1, s.points.ndim))).sum() >= 2:
                self.by_gloss.setdefault(dataset.label(s.gloss), []).append(s)
        if not self.by_gloss:
            raise ConfigError(f'{dataset.name}: no segments to compose from')
        self.labels = sorted(self.by_gloss)

    def sample(self, rng: np.random.Generator, labels: Sequence[int] | None = None) -> ComposedSequence:
        """One sequence (of `labels` when given, else random glosses)."""
        o = self.options
        if labels is None:
            count = int(rng.integers(o.glosses[0], o.glosses[1] + 1))
            labels = []
            for _ in range(count):
                if labels and self.kind == 'image' and rng.random() < o.repeat_probability:
                    labels.append(labels[-1])
                elif labels and self.kind == 'hand' and len(self.labels) > 1:
                    # without a hand position a doubled gloss cannot be told apart: never draw one
                    labels.append(int(rng.choice([k for k in self.labels if k != labels[-1]])))
                else:
                    labels.append(int(rng.choice(self.labels)))
        parts: list[npt.NDArray[Any]] = []
        spans: list[tuple[int, int]] = []
        aspect = mirror = None
        length = int(rng.integers(o.rest_frames[0], o.rest_frames[1] + 1))
        lead = length
        previous: npt.NDArray[Any] | None = None
        for i, label in enumerate(labels):
            segment = self.by_gloss[label][int(rng.integers(len(self.by_gloss[label])))]
            if aspect is None:
                aspect, mirror = segment.aspect, segment.mirror
            hold = self._hold(rng, segment)
            if self.kind == 'image':
                hold = hold + rng.uniform(-o.drift, o.drift, size=2)
            if previous is not None:
                end = hold[0]
                if labels[i - 1] == label and self.kind == 'image':
                    slide = 0.04 * (1 if rng.random() < 0.5 else -1)
                    hold = hold + np.array([slide, 0.0])
                    end = hold[0]
                n = int(rng.integers(o.transition_frames[0], o.transition_frames[1] + 1))
                s = (np.arange(1, n + 1) / (n + 1))[:, None, None]
                eased = s * s * (3 - 2 * s)
                parts.append(previous[-1] + (end - previous[-1]) * eased)
                length += n
            spans.append((length, length + len(hold) - 1))
            parts.append(hold)
            length += len(hold)
            previous = hold
        points = np.concatenate(parts)
        if o.noise:
            points = points + rng.normal(0.0, o.noise if self.kind == 'image' else o.noise * 10, points.shape)
        tail = int(rng.integers(o.rest_frames[0], o.rest_frames[1] + 1))
        absent = np.full((1, 21, 2), np.nan)
        points = np.concatenate([np.repeat(absent, lead, 0), points, np.repeat(absent, tail, 0)])
        features = point_features(points, aspect=aspect or 1.0, mirror=bool(mirror), space=self.kind)
        return ComposedSequence(features, tuple(labels), tuple(spans), points, aspect or 1.0, bool(mirror))

    def _hold(self, rng: np.random.Generator, segment: Segment) -> npt.NDArray[Any]:
        """A time-warped stretch of consecutive frames of one segment: (n, 21, 2)."""
        o = self.options
        points = segment.points[..., :2]
        points = points[np.isfinite(points).all(axis=(1, 2))]
        target = int(rng.integers(o.hold_frames[0], o.hold_frames[1] + 1))
        speed = rng.uniform(*o.speed)
        source = max(2, min(len(points), int(round(target * speed))))
        start = int(rng.integers(0, len(points) - source + 1))
        stretch = points[start:start + source]
        t = np.linspace(0.0, source - 1, target)
        i0 = np.floor(t).astype(int)
        i1 = np.minimum(i0 + 1, source - 1)
        w = (t - i0)[:, None, None]
        held: npt.NDArray[Any] = stretch[i0] * (1 - w) + stretch[i1] * w
        return held
