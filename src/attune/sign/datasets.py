"""Landmark data sets for sign training and evaluation: the public ones, a user's own recordings,
recording blocks and block splits.

Consecutive rows of the public CSVs are consecutive video frames, so two neighbouring rows are near
duplicates; a random row split would put the same moment in training and test. Every loader
therefore cuts its rows into *blocks* (runs of consecutive frames of one gloss) and splits by block
(`split_blocks`), dropping `guard` training frames next to each test block.

How blocks are found (`docs/sign.md` has the numbers):
  * ASL alphabet (`asl_alphabet/landmarks.csv`): rows are `frame_N.npy` files of one recording per
    letter. Sorted by N, a block ends at a gap in N, at a jump of the landmarks (mean absolute
    frame-to-frame change of the image coordinates above max(0.03, 6 x that letter's median
    change): the hand was re-placed), and after `max_block` frames (long steady recordings are cut
    into pieces so that each letter has several blocks to hold out).
  * kinivi keypoints (`kinivi/keypoint.csv`): rows in file order; a block ends where the label
    changes, at a jump of the normalized landmarks (above max(0.15, 6 x median)), and after
    `max_block` rows.
  * kinivi point histories (`kinivi/point_history.csv`): each row is a 16-step fingertip track and
    the next row of the same recording is the same track shifted by one step. A block is a run of
    rows where that holds exactly (row t+1's first 15 points are row t's last 15, re-based); it
    breaks where recording paused. A row is one sample; the guard is 16 rows (the overlap).
  * a user's recordings: one file is one block.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from attune.errors import ConfigError
from attune.hands.normalize import canonical_mirror
from attune.sign.features import FEATURE_DIM, point_features, trajectory_features

Kind = Literal['image', 'hand', 'trajectory']

#: Built-in data sets: name -> (folder under the data directory, loader).
BUILTIN = ('asl_alphabet', 'kinivi_handshape', 'kinivi_trajectory')
#: The ASL alphabet recordings' image aspect (width / height) is not recorded; 4:3 (a 640 x 480
#: webcam) is assumed. Training randomly rescales x by +-15 % so the models do not depend on it.
ASL_ASPECT = 4.0 / 3.0
#: kinivi's app draws 16-step point histories; a step larger than this (a quarter of the image in
#: one frame) is its placeholder point (0, 0) for frames without a pointing hand, not motion.
_MAX_TRAJECTORY_STEP = 0.25


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
    """

    gloss: str
    block: int
    kind: Kind
    points: np.ndarray
    other: np.ndarray | None = None
    aspect: float = 1.0
    mirror: bool = False
    stamps_s: np.ndarray | None = None
    run: int = 0
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def features(self) -> np.ndarray:
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


# --- blocks ----------------------------------------------------------------------------------------
def blocks_from_breaks(breaks: np.ndarray, max_block: int | None = None) -> np.ndarray:
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


def jump_breaks(values: np.ndarray, *, factor: float, minimum: float) -> np.ndarray:
    """breaks[i] = the mean absolute change from row i-1 to row i is a jump: above
    max(minimum, factor x the median change)."""
    flat = values.reshape(len(values), -1)
    breaks = np.zeros(len(values), dtype=bool)
    if len(values) < 2:
        return breaks
    step = np.abs(np.diff(flat, axis=0)).mean(axis=1)
    breaks[1:] = step > max(minimum, factor * float(np.median(step)))
    return breaks


def trajectory_breaks(tracks: np.ndarray, tolerance: float = 1e-4) -> np.ndarray:
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
class Split:
    """Indices of training and test segments; `train` segments may have been trimmed (guard)."""

    train: LandmarkDataset
    test: LandmarkDataset
    test_blocks: tuple[int, ...]
    dropped_frames: int


def split_blocks(dataset: LandmarkDataset, *, test_fraction: float = 0.25, seed: int = 0, guard: int | None = None,
                 strategy: Literal['random', 'tail'] = 'random') -> Split:
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
    test_rows: dict[int, list[np.ndarray]] = {}
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
    return Split(train=replace(dataset, segments=tuple(train)), test=replace(dataset, segments=tuple(test)),
                 test_blocks=tuple(sorted(test_blocks)), dropped_frames=dropped)


def _first_row(dataset: LandmarkDataset, block: int) -> int:
    for s in dataset.segments:
        if s.block == block:
            return int(s.rows[0]) if len(s.rows) else 0
    return 0


def _trim(segment: Segment, keep: np.ndarray) -> Segment:
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
                   stamps_s=None if segment.stamps_s is None else segment.stamps_s[a:b], rows=segment.rows[a:b])


# --- public data sets ------------------------------------------------------------------------------
def load_builtin(name: str, data_dir: Path, *, max_block: int = 40) -> LandmarkDataset:
    """One of BUILTIN from a folder shaped like ../shared/data/hands.

    Raises:
        ConfigError: an unknown name, or its files are missing or malformed.
    """
    data_dir = Path(data_dir)
    if name == 'asl_alphabet':
        return load_asl_alphabet(data_dir / 'asl_alphabet' / 'landmarks.csv', max_block=max_block)
    if name == 'kinivi_handshape':
        return load_kinivi_keypoints(data_dir / 'kinivi', max_block=max_block)
    if name == 'kinivi_trajectory':
        return load_kinivi_point_history(data_dir / 'kinivi')
    raise ConfigError(f"unknown data set {name!r}; built-in: {', '.join(BUILTIN)}, or a folder of recordings")


def _read_csv(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise ConfigError(f'data file {path} does not exist')
    with path.open(newline='', encoding='utf-8-sig') as stream:
        return [row for row in csv.reader(stream) if row]


def load_asl_alphabet(path: Path, *, max_block: int = 40) -> LandmarkDataset:
    """ASL fingerspelling letters A-Z (borisgraudt/asl-ai, CC0-1.0): one right hand per frame in a
    mirrored (selfie) view, 21 x (x, y, z) normalized image coordinates; see the module docstring
    for its blocks. The data's hands already are in the canonical view (mirror=False)."""
    rows = _read_csv(Path(path))
    header, body = rows[0], rows[1:]
    if header[:2] != ['label', 'file'] or len(header) != 2 + 63:
        raise ConfigError(f'{path}: expected columns label,file,x0,y0,z0..z20, got {header[:4]}...')
    try:
        frames = [int(Path(r[1]).stem.rsplit('_', 1)[1]) for r in body]
        values = np.array([[float(v) for v in r[2:]] for r in body], dtype=np.float64).reshape(-1, 21, 3)
    except (ValueError, IndexError) as exc:
        raise ConfigError(f'{path}: malformed row ({exc})') from None
    labels = [r[0] for r in body]
    glosses = tuple(sorted(set(labels)))
    segments: list[Segment] = []
    next_block = 0
    for run, gloss in enumerate(glosses):
        index = sorted((i for i, label in enumerate(labels) if label == gloss), key=lambda i: frames[i])
        order = np.array([frames[i] for i in index])
        points = values[index]
        breaks = jump_breaks(points[..., :2], factor=6.0, minimum=0.03)
        breaks[1:] |= np.diff(order) != 1
        ids = blocks_from_breaks(breaks, max_block)
        for b in np.unique(ids):
            member = ids == b
            segments.append(Segment(gloss=gloss, block=next_block, kind='image', points=points[member][..., :2],
                                    aspect=ASL_ASPECT, mirror=False, run=run, rows=order[member]))
            next_block += 1
    return LandmarkDataset('asl_alphabet', glosses, tuple(segments),
                           groups=('shape', 'orientation', 'motion', 'presence'),
                           description='ASL fingerspelling alphabet A-Z, one signer (borisgraudt/asl-ai, CC0-1.0)')


def _kinivi_labels(path: Path) -> list[str]:
    return [r[0].strip() for r in _read_csv(path)]


def load_kinivi_keypoints(folder: Path, *, max_block: int = 40) -> LandmarkDataset:
    """kinivi hand shapes (Open, Close, Pointer, OK; Apache-2.0): 21 (x, y) per row, wrist-relative
    and scaled by their largest absolute value, recorded with either hand (mirror_augment)."""
    folder = Path(folder)
    names = _kinivi_labels(folder / 'keypoint_classifier_label.csv')
    rows = _read_csv(folder / 'keypoint.csv')
    try:
        labels = np.array([int(r[0]) for r in rows])
        values = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64).reshape(-1, 21, 2)
    except ValueError as exc:
        raise ConfigError(f'{folder / "keypoint.csv"}: malformed row ({exc})') from None
    breaks = jump_breaks(values, factor=6.0, minimum=0.15)
    breaks[1:] |= labels[1:] != labels[:-1]
    runs = np.cumsum(np.r_[True, labels[1:] != labels[:-1]]) - 1
    ids = blocks_from_breaks(breaks, max_block)
    segments = []
    for b in np.unique(ids):
        member = np.flatnonzero(ids == b)
        segments.append(Segment(gloss=names[labels[member[0]]], block=int(b), kind='hand', points=values[member],
                                run=int(runs[member[0]]), rows=member))
    return LandmarkDataset('kinivi_handshape', tuple(names), tuple(segments), groups=('shape', 'presence'),
                           mirror_augment=True,
                           description='kinivi hand shapes Open/Close/Pointer/OK (kinivi/hand-gesture-recognition-'
                                       'mediapipe, Apache-2.0)')


def load_kinivi_point_history(folder: Path) -> LandmarkDataset:
    """kinivi fingertip gestures (Stop, Clockwise, Counter Clockwise, Move; Apache-2.0): each row a
    16-step index-fingertip track in image-normalized units, re-based to its first point, recorded
    in a mirrored (selfie) view. Rows with kinivi's (0, 0) placeholder points are skipped."""
    folder = Path(folder)
    names = _kinivi_labels(folder / 'point_history_classifier_label.csv')
    rows = _read_csv(folder / 'point_history.csv')
    try:
        labels = np.array([int(r[0]) for r in rows])
        tracks = np.array([[float(v) for v in r[1:]] for r in rows], dtype=np.float64).reshape(len(rows), -1, 2)
    except ValueError as exc:
        raise ConfigError(f'{folder / "point_history.csv"}: malformed row ({exc})') from None
    breaks = trajectory_breaks(tracks)
    breaks[1:] |= labels[1:] != labels[:-1]
    blocks = blocks_from_breaks(breaks)
    runs = np.cumsum(np.r_[True, labels[1:] != labels[:-1]]) - 1
    step = np.abs(np.diff(tracks, axis=1)).max(axis=(1, 2))
    segments = [Segment(gloss=names[labels[i]], block=int(blocks[i]), kind='trajectory', points=tracks[i],
                        run=int(runs[i]), rows=np.array([i]))
                for i in range(len(rows)) if step[i] <= _MAX_TRAJECTORY_STEP]
    return LandmarkDataset('kinivi_trajectory', tuple(names), tuple(segments), groups=('trajectory', 'presence'),
                           guard=16,
                           description='kinivi fingertip gestures Stop/Clockwise/Counter Clockwise/Move '
                                       '(kinivi/hand-gesture-recognition-mediapipe, Apache-2.0)')


# --- a user's own recordings -----------------------------------------------------------------------
RECORDING_KEYS = ('right', 'left', 'stamps_ns', 'image_size', 'mirrored')


def save_recording(path: Path, *, right: np.ndarray, left: np.ndarray, stamps_ns: np.ndarray,
                   image_size: tuple[int, int], mirrored: bool = False) -> Path:
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
    groups = ('shape', 'orientation', 'motion', 'presence')
    if two_hands:
        groups += ('other_shape', 'other_offset', 'other_presence')
    return LandmarkDataset(name or folder.name, glosses, tuple(segments), groups=groups,
                           description=f'recordings in {folder}')


def load_dataset(spec: str, data_dir: Path) -> LandmarkDataset:
    """A built-in data set by name, or a folder of recordings by path."""
    if spec in BUILTIN:
        return load_builtin(spec, data_dir)
    path = Path(spec)
    if path.is_dir():
        return load_recordings(path)
    raise ConfigError(f"unknown data set {spec!r}: not one of {', '.join(BUILTIN)} and not a folder")


# --- windows ---------------------------------------------------------------------------------------
def windows(dataset: LandmarkDataset, length: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window of `length` consecutive frames of every segment: (N, length, FEATURE_DIM)
    features, (N,) labels, (N,) blocks. A segment shorter than `length` gives one window padded in
    front with its first frame (attune.sign.features.pad_window)."""
    from attune.sign.features import pad_window

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
