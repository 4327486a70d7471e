"""The public landmark data sets (a folder shaped like ../shared/data/hands) and their blocks.

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
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from attune.errors import ConfigError
from attune.sign.segments import LandmarkDataset, Segment
from attune.sign.splits import blocks_from_breaks, jump_breaks, trajectory_breaks

#: Built-in data sets: name -> (folder under the data directory, loader).
BUILTIN = ('asl_alphabet', 'kinivi_handshape', 'kinivi_trajectory')
#: The ASL alphabet recordings' image aspect (width / height) is not recorded; 4:3 (a 640 x 480
#: webcam) is assumed. Training randomly rescales x by +-15 % so the models do not depend on it.
ASL_ASPECT = 4.0 / 3.0
#: kinivi's app draws 16-step point histories; a step larger than this (a quarter of the image in
#: one frame) is its placeholder point (0, 0) for frames without a pointing hand, not motion.
_MAX_TRAJECTORY_STEP = 0.25


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
                                    aspect=ASL_ASPECT, mirror=False, run=run, rows=order[member],
                                    depth=points[member][..., 2]))
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
