"""Recordings of a user's own signs from HandFrames or a bag of attune/Hands (no rclpy)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from attune.hands.types import HandFrame
from attune.sign.datasets import save_recording


def frames_to_arrays(frames: Sequence[HandFrame]) -> dict[str, np.ndarray]:
    """right/left (T, 21, 3) with NaN where absent, stamps_ns (T,), image_size (2,)."""
    right = np.full((len(frames), 21, 3), np.nan, dtype=np.float32)
    left = np.full_like(right, np.nan)
    for i, frame in enumerate(frames):
        for side, target in (('right', right), ('left', left)):
            hand = frame.hand(side)
            if hand is not None and hand.landmarks.shape == (21, 3) and np.isfinite(hand.landmarks).all():
                target[i] = hand.landmarks
    size = (frames[0].width, frames[0].height) if frames else (0, 0)
    return {'right': right, 'left': left, 'stamps_ns': np.array([f.stamp_ns for f in frames], np.int64),
            'image_size': np.array(size, np.int64)}


def split_on_gaps(frames: Iterable[HandFrame], gap_frames: int = 8, min_frames: int = 8) -> list[list[HandFrame]]:
    """Runs of frames with hands, separated by >= gap_frames frames without any; shorter runs than
    min_frames are dropped. Short gaps stay inside a run (their frames have no hands)."""
    runs: list[list[HandFrame]] = []
    current: list[HandFrame] = []
    gap = 0
    for frame in frames:
        if frame.hands:
            current.append(frame)
            gap = 0
        elif current:
            gap += 1
            current.append(frame)
            if gap >= gap_frames:
                runs.append(current[:-gap])
                current, gap = [], 0
    if current:
        runs.append(current[:len(current) - gap] if gap else current)
    return [r for r in runs if sum(1 for f in r if f.hands) >= min_frames]


def import_hands_bag(bag: Path, out: Path, *, gloss: str, topic: str = '/attune/hands', gap_frames: int = 8,
                     min_frames: int = 8, mirrored: bool = False) -> list[Path]:
    """Cut a bag of attune/Hands into recordings of `gloss` (out/gloss/<bag>_<n>.npz); their paths."""
    from attune.bag.reader import read_messages
    from attune.hands.messages import hand_frame_from_fields

    frames = [hand_frame_from_fields(m.deserialize()) for m in read_messages(Path(bag), [topic])]
    written = []
    for n, run in enumerate(split_on_gaps(frames, gap_frames, min_frames)):
        arrays = frames_to_arrays(run)
        written.append(save_recording(Path(out) / gloss / f'{Path(bag).name}_{n:03d}.npz', mirrored=mirrored,
                                      **arrays))
    return written
