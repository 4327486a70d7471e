"""A user's own sign recordings: the file format (one take of one gloss per .npz, one block each),
loading them as a data set, and making them from HandFrames or a bag of attune/Hands (no rclpy)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError
from attune.hands.normalize import canonical_mirror
from attune.hands.types import Handedness, HandFrame
from attune.sign.segments import LandmarkDataset, Segment


def frames_to_arrays(frames: Sequence[HandFrame]) -> dict[str, npt.NDArray[Any]]:
    """right/left (T, 21, 3) with NaN where absent, stamps_ns (T,), image_size (2,)."""
    right = np.full((len(frames), 21, 3), np.nan, dtype=np.float32)
    left = np.full_like(right, np.nan)
    for i, frame in enumerate(frames):
        sides: tuple[tuple[Handedness, npt.NDArray[Any]], ...] = (('right', right), ('left', left))
        for side, target in sides:
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


RECORDING_KEYS = ('right', 'left', 'stamps_ns', 'image_size', 'mirrored')


def save_recording(path: Path, *, right: npt.NDArray[Any], left: npt.NDArray[Any], stamps_ns: npt.NDArray[Any],
                   image_size: tuple[int, int] | npt.NDArray[Any], mirrored: bool = False) -> Path:
    """Write one recording in the documented format (see load_recordings)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, right=np.asarray(right, np.float32), left=np.asarray(left, np.float32),
                        stamps_ns=np.asarray(stamps_ns, np.int64), image_size=np.asarray(image_size, np.int64),
                        mirrored=np.asarray(bool(mirrored)))
    return path


def load_recordings(folder: Path, *, name: str | None = None) -> LandmarkDataset:
    """A user's vocabulary: `folder/<gloss>/<any name>.npz`, one recording of one sign per file.

    Each .npz holds (docs/sign.md, "Your own vocabulary"):
        right, left   (T, 21, 3) float: the person's own right / left hand in normalized image
                      coordinates (x, y in [0, 1], z MediaPipe's relative depth), NaN where that
                      hand was not seen (attune/Hands messages carry exactly this)
        stamps_ns     (T,) int64 image stamps
        image_size    (2,) int: width, height in pixels
        mirrored      bool: the images were mirrored (selfie view)
    The signing hand of a recording is the one seen in more frames; the other is `other`.
    Optional `vocabulary.json` in the folder: {"glosses": [...]} fixes the gloss order.

    Raises:
        ConfigError: no recordings, or a file that does not follow the format (names the file).
    """
    folder = Path(folder)
    files = sorted(folder.glob('*/*.npz'))
    if not files:
        raise ConfigError(f'no recordings in {folder}: expected {folder}/<gloss>/<name>.npz files')
    segments = []
    for block, path in enumerate(files):
        try:
            with np.load(path) as data:
                missing = [k for k in RECORDING_KEYS if k not in data]
                if missing:
                    raise ConfigError(f"{path}: missing {', '.join(missing)}")
                right, left = np.asarray(data['right'], np.float64), np.asarray(data['left'], np.float64)
                stamps = np.asarray(data['stamps_ns'], np.int64)
                width, height = (int(v) for v in data['image_size'])
                mirrored = bool(data['mirrored'])
        except (OSError, ValueError) as exc:
            raise ConfigError(f'{path}: not a readable recording ({exc})') from None
        if right.shape != left.shape or right.ndim != 3 or right.shape[1:] not in ((21, 3), (21, 2)) \
                or len(stamps) != len(right) or width <= 0 or height <= 0:
            raise ConfigError(f'{path}: right/left must be (T, 21, 3) with T stamps and a positive image_size')
        seen_right = np.isfinite(right).all(axis=(1, 2)).sum()
        seen_left = np.isfinite(left).all(axis=(1, 2)).sum()
        dominant, other, hand = (right, left, 'right') if seen_right >= seen_left else (left, right, 'left')
        segments.append(Segment(gloss=path.parent.name, block=block, kind='image', points=dominant[..., :2],
                                other=other[..., :2] if np.isfinite(other).any() else None,
                                aspect=width / height, mirror=canonical_mirror(hand, mirrored),
                                stamps_s=(stamps - stamps[0]) * 1e-9, run=block,
                                rows=np.arange(len(stamps))))
    glosses = tuple(sorted({s.gloss for s in segments}))
    vocabulary = folder / 'vocabulary.json'
    if vocabulary.is_file():
        listed = tuple(json.loads(vocabulary.read_text())['glosses'])
        unknown = set(glosses) - set(listed)
        if unknown:
            raise ConfigError(f"{vocabulary} does not list {', '.join(sorted(unknown))}")
        glosses = listed
    two_hands = any(s.other is not None for s in segments)
    groups: tuple[str, ...] = ('shape', 'orientation', 'motion', 'presence')
    if two_hands:
        groups += ('other_shape', 'other_offset', 'other_presence')
    return LandmarkDataset(name or folder.name, glosses, tuple(segments), groups=groups,
                           description=f'recordings in {folder}')
