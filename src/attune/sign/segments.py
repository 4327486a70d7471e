"""Recorded landmark segments and data sets: the unit every sign loader produces and every trainer
and evaluation reads, and their model windows."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attune.sign.features import FEATURE_DIM, pad_window, point_features, trajectory_features

Kind = Literal['image', 'hand', 'trajectory']


@dataclass(frozen=True, eq=False)
class Segment:
    """Consecutive frames of one gloss from one recording block.

    kind: 'image' (points in normalized image coordinates), 'hand' (already wrist-relative hand
    coordinates, no position in the image) or 'trajectory' (index-fingertip track only).
    points: (T, 21, 2|3) for image/hand, (T, 2) for trajectory; NaN rows where the hand is absent.
    other: the other hand's (T, 21, 2|3) points (image kind), or None.
    mirror: flip to reach the canonical view (a mirrored right hand).
    run: the recording run this block was cut from; rows: the source row of each frame. Together
        they let split_blocks drop training frames next to a test block.
    depth: (T, 21) MediaPipe's relative depth of `points` (image kind, same units as x), or None:
        read only by the out-of-plane rotations of attune.sign.augment.
    """

    gloss: str
    block: int
    kind: Kind
    points: npt.NDArray[Any]
    other: npt.NDArray[Any] | None = None
    aspect: float = 1.0
    mirror: bool = False
    stamps_s: npt.NDArray[Any] | None = None
    run: int = 0
    rows: npt.NDArray[Any] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    depth: npt.NDArray[Any] | None = None

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def features(self) -> npt.NDArray[Any]:
        """(T, FEATURE_DIM) float32 features of this segment."""
        if self.kind == 'trajectory':
            return trajectory_features(self.points, mirror=self.mirror, stamps_s=self.stamps_s)
        return point_features(self.points, aspect=self.aspect, mirror=self.mirror, stamps_s=self.stamps_s,
                              other=self.other, space=self.kind)


@dataclass(frozen=True, eq=False)
class LandmarkDataset:
    """A vocabulary and its recorded segments.

    groups: the feature groups models of this data use (attune.sign.features.GROUPS).
    guard: rows dropped from training on each side of a held-out block (split_blocks).
    rotation_deg: in-plane rotation range of training augmentation (+-): small where the glosses
        depend on orientation (ASL H vs U), large where the recordings turn the hand freely.
    mirror_augment: the glosses do not depend on which hand signs them (the data mixes both
        hands), so training may mirror samples.
    """

    name: str
    glosses: tuple[str, ...]
    segments: tuple[Segment, ...]
    groups: tuple[str, ...]
    mirror_augment: bool = False
    description: str = ''
    guard: int = 10
    rotation_deg: float = 12.0

    def subset(self, indices: Sequence[int]) -> LandmarkDataset:
        return replace(self, segments=tuple(self.segments[i] for i in indices))

    def frames(self) -> int:
        return sum(len(s) for s in self.segments)

    def label(self, gloss: str) -> int:
        return self.glosses.index(gloss)


# --- windows ---------------------------------------------------------------------------------------
def windows(dataset: LandmarkDataset, length: int,
            stride: int = 1) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """Every window of `length` consecutive frames of every segment: (N, length, FEATURE_DIM)
    features, (N,) labels, (N,) blocks. A segment shorter than `length` gives one window padded in
    front with its first frame (attune.sign.features.pad_window)."""
    xs, ys, bs = [], [], []
    for s in dataset.segments:
        features = s.features()
        label = dataset.label(s.gloss)
        if len(features) <= length:
            xs.append(pad_window(features, length).features[None])
        else:
            idx = np.arange(0, len(features) - length + 1, stride)
            xs.append(np.stack([features[i:i + length] for i in idx]))
        ys.extend([label] * len(xs[-1]))
        bs.extend([s.block] * len(xs[-1]))
    if not xs:
        return (np.zeros((0, length, FEATURE_DIM), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    return np.concatenate(xs).astype(np.float32), np.array(ys, np.int64), np.array(bs, np.int64)
