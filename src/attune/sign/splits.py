"""Recording blocks and block splits: no frame of a held-out block, nor its neighbours, in training.

Consecutive rows of the public CSVs are consecutive video frames, so two neighbouring rows are near
duplicates; a random row split would put the same moment in training and test. Every loader
therefore cuts its rows into *blocks* (runs of consecutive frames of one gloss) and splits by block
(`split_blocks`), dropping `guard` training frames next to each test block.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError
from attune.sign.segments import LandmarkDataset, Segment


# --- blocks ----------------------------------------------------------------------------------------
def blocks_from_breaks(breaks: npt.NDArray[Any], max_block: int | None = None) -> npt.NDArray[Any]:
    """Block number of each row, given breaks[i] = row i starts a new block (row 0 always does);
    blocks longer than max_block rows are cut into pieces of max_block."""
    ids = np.zeros(len(breaks), dtype=np.int64)
    block, length = -1, 0
    for i, starts in enumerate(breaks):
        if i == 0 or starts or (max_block is not None and length >= max_block):
            block += 1
            length = 0
        ids[i] = block
        length += 1
    return ids


def jump_breaks(values: npt.NDArray[Any], *, factor: float, minimum: float) -> npt.NDArray[Any]:
    """breaks[i] = the mean absolute change from row i-1 to row i is a jump: above
    max(minimum, factor x the median change)."""
    flat = values.reshape(len(values), -1)
    breaks = np.zeros(len(values), dtype=bool)
    if len(values) < 2:
        return breaks
    step = np.abs(np.diff(flat, axis=0)).mean(axis=1)
    breaks[1:] = step > max(minimum, factor * float(np.median(step)))
    return breaks


def trajectory_breaks(tracks: npt.NDArray[Any], tolerance: float = 1e-4) -> npt.NDArray[Any]:
    """breaks[i] = row i is not row i-1 shifted by one step (for (N, K, 2) sliding point histories,
    each re-based to its first point)."""
    breaks = np.ones(len(tracks), dtype=bool)
    if len(tracks) > 1:
        shifted = tracks[1:, :-1] - tracks[1:, :1]
        previous = tracks[:-1, 1:] - tracks[:-1, 1:2]
        breaks[1:] = np.abs(shifted - previous).max(axis=(1, 2)) > tolerance
    return breaks


# --- splits ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignSplit:
    """Indices of training and test segments; `train` segments may have been trimmed (guard)."""

    train: LandmarkDataset
    test: LandmarkDataset
    test_blocks: tuple[int, ...]
    dropped_frames: int


def split_blocks(dataset: LandmarkDataset, *, test_fraction: float = 0.25, seed: int = 0, guard: int | None = None,
                 strategy: Literal['random', 'tail'] = 'random') -> SignSplit:
    """Hold out whole blocks: per gloss, round(test_fraction x its blocks) (at least one when it
    has two or more) go to test, chosen at random ('random') or the last ones recorded ('tail').
    Training frames within `guard` rows (default: the data set's) of a test frame of the same run
    are dropped.

    Raises:
        ConfigError: test_fraction outside (0, 1).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f'test_fraction must be in (0, 1), got {test_fraction}')
    rng = np.random.default_rng(seed)
    guard = dataset.guard if guard is None else guard
    test_blocks: set[int] = set()
    for gloss in dataset.glosses:
        blocks = sorted({s.block for s in dataset.segments if s.gloss == gloss},
                        key=lambda b: _first_row(dataset, b))
        if len(blocks) < 2:
            continue
        count = min(len(blocks) - 1, max(1, round(test_fraction * len(blocks))))
        chosen = blocks[-count:] if strategy == 'tail' else list(rng.choice(blocks, size=count, replace=False))
        test_blocks.update(int(b) for b in chosen)
    test_rows: dict[int, list[npt.NDArray[Any]]] = {}
    for s in dataset.segments:
        if s.block in test_blocks and len(s.rows):
            test_rows.setdefault(s.run, []).append(s.rows)
    train, test, dropped = [], [], 0
    for s in dataset.segments:
        if s.block in test_blocks:
            test.append(s)
            continue
        near = test_rows.get(s.run)
        if guard and near and len(s.rows):
            held = np.concatenate(near)
            distance = np.abs(s.rows[:, None] - held[None, :]).min(axis=1)
            keep = distance > guard
            if not keep.all():
                dropped += int((~keep).sum())
                if not keep.any():
                    continue
                s = _trim(s, keep)
        train.append(s)
    return SignSplit(train=replace(dataset, segments=tuple(train)), test=replace(dataset, segments=tuple(test)),
                 test_blocks=tuple(sorted(test_blocks)), dropped_frames=dropped)


def _first_row(dataset: LandmarkDataset, block: int) -> int:
    for s in dataset.segments:
        if s.block == block:
            return int(s.rows[0]) if len(s.rows) else 0
    return 0


def _trim(segment: Segment, keep: npt.NDArray[Any]) -> Segment:
    """The longest run of kept frames (a segment must stay consecutive)."""
    best, start = (0, 0), None
    for i, k in enumerate([*keep, False]):
        if k and start is None:
            start = i
        elif not k and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    a, b = best
    return replace(segment, points=segment.points[a:b],
                   other=None if segment.other is None else segment.other[a:b],
                   stamps_s=None if segment.stamps_s is None else segment.stamps_s[a:b], rows=segment.rows[a:b],
                   depth=None if segment.depth is None else segment.depth[a:b])
