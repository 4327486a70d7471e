"""Training data for the ASD emotion model: faces from image folders and videos, with the expression
teacher's soft labels, hard labels where the data has them, and subjects for subject-wise splits (no rclpy).

Layouts found under each data folder (searched recursively; docs/asd_emotion.md shows examples):
  * class folders: images in a folder named after an emotion (`happy/`, `smiling/`, `sadness/`, ...,
    see LABEL_ALIASES) are labelled with that emotion (../shared/data/faces/london_ccby);
  * a labels file: a folder holding `labels.csv` with columns `image,emotion` labels the images named
    in it, found beside it or in its `images/` folder (../shared/data/faces/muxspace);
  * videos (.mp4, .avi, .mov, .mkv, .webm): every `video_every`-th frame, labelled by the teacher only
    (../shared/data/video/faces).
Images outside class folders and labels files are not used.

Subjects: a `subjects.csv` (`file,subject`) in a data folder names the person of each file; otherwise
the person is the file name without a trailing `_<digits>` (`George_W_Bush_0226.jpg` -> `George_W_Bush`,
`001_03.jpg` -> `001`, `d3.mp4` -> `d3`), prefixed by the data set's folder so two sets cannot share a
person by accident. Every face of one image or video gets its subject; splits never separate them.

Each face found (`attune.affect.face_extraction`: MediaPipe, the largest face of each image or frame)
becomes one sample: a grey crop (`STORE_SIZE` pixels, resized to the model's input size later), the aligned
landmarks (`attune.affect.features`), the teacher's soft labels over EMOTIONS, the hard label (-1 when none).
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.affect.features import NUM_NODES
from attune.emotions import EMOTIONS
from attune.errors import ConfigError

#: Crops are stored at this size; models with smaller inputs get them resized (area averaging).
STORE_SIZE = 112
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')

#: Folder and label names accepted for each emotion (lower case). 'contempt' has no place among the
#: seven outputs: its faces are used with the teacher's soft labels only.
LABEL_ALIASES: dict[str, str | None] = {
    'neutral': 'neutral', 'normal': 'neutral', 'calm': 'neutral',
    'happy': 'happy', 'happiness': 'happy', 'smiling': 'happy', 'smile': 'happy', 'joy': 'happy',
    'sad': 'sad', 'sadness': 'sad',
    'surprise': 'surprise', 'surprised': 'surprise',
    'fear': 'fear', 'fearful': 'fear', 'afraid': 'fear', 'scared': 'fear',
    'disgust': 'disgust', 'disgusted': 'disgust',
    'anger': 'anger', 'angry': 'anger',
    'contempt': None,
}


def hard_label(name: str) -> int | None:
    """EMOTIONS index of a label or folder name; -1 for a known name without a class (contempt); None if unknown."""
    key = name.strip().lower()
    if key not in LABEL_ALIASES:
        return None
    emotion = LABEL_ALIASES[key]
    return -1 if emotion is None else EMOTIONS.index(emotion)


@dataclass(frozen=True)
class SourceFile:
    """One file to take faces from: path, kind ('image' or 'video'), subject, hard label (-1: none)."""

    path: Path
    kind: str
    subject: str
    label: int = -1


def subject_from_name(path: Path) -> str:
    """The person in a file's name: the stem without a trailing `_<digits>`."""
    return re.sub(r'_\d+$', '', path.stem) or path.stem


def _subjects_file(folder: Path) -> dict[str, str]:
    path = folder / 'subjects.csv'
    if not path.is_file():
        return {}
    with path.open(newline='') as stream:
        return {row['file']: row['subject'] for row in csv.DictReader(stream) if row.get('file')}


def discover(root: Path | str) -> list[SourceFile]:
    """The files of one data folder (see the module docstring), sorted by path.

    Raises:
        ConfigError: the folder does not exist, or a labels.csv lacks its columns.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f'data folder {root} does not exist')
    found: dict[Path, SourceFile] = {}
    overrides: dict[Path, str] = {}
    for subjects in root.rglob('subjects.csv'):
        for name, listed in _subjects_file(subjects.parent).items():
            overrides[(subjects.parent / name).resolve()] = listed

    def subject(path: Path, dataset: Path) -> str:
        named = overrides.get(path.resolve())
        prefix = dataset.name or root.name
        return f'{prefix}/{named or subject_from_name(path)}'

    for labels in sorted(root.rglob('labels.csv')):
        folder = labels.parent
        with labels.open(newline='') as stream:
            reader = csv.DictReader(stream)
            columns = {c.lower(): c for c in reader.fieldnames or ()}
            image_col = columns.get('image') or columns.get('file')
            label_col = columns.get('emotion') or columns.get('label')
            if not image_col or not label_col:
                raise ConfigError(f'{labels}: needs columns image,emotion (found {reader.fieldnames})')
            for row in reader:
                label = hard_label(row[label_col])
                if label is None:
                    continue
                for candidate in (folder / row[image_col], folder / 'images' / row[image_col]):
                    if candidate.is_file():
                        found[candidate] = SourceFile(candidate, 'image', subject(candidate, folder), label)
                        break
    for path in sorted(root.rglob('*')):
        suffix = path.suffix.lower()
        if path.name.startswith('._') or not path.is_file() or path in found:
            continue
        if suffix in IMAGE_SUFFIXES:
            label = hard_label(path.parent.name)
            if label is not None:
                found[path] = SourceFile(path, 'image', subject(path, path.parent.parent), label)
        elif suffix in VIDEO_SUFFIXES:
            found[path] = SourceFile(path, 'video', subject(path, path.parent))
    return sorted(found.values(), key=lambda s: str(s.path))


@dataclass
class FaceDataset:
    """Faces as arrays (M samples). crops: (M, S, S) uint8; landmarks: (M, 478, 3) float32; soft: (M, 7)
    float32 teacher probabilities (NaN until a teacher labelled them); hard: (M,) int64 EMOTIONS index or
    -1; subjects, paths: (M,) str; frames: (M,) int64 (video frame, 0 for images)."""

    crops: npt.NDArray[Any]
    landmarks: npt.NDArray[Any]
    soft: npt.NDArray[Any]
    hard: npt.NDArray[Any]
    subjects: npt.NDArray[Any]
    paths: npt.NDArray[Any]
    frames: npt.NDArray[Any]
    info: dict[str, Any] = field(default_factory=dict)
    #: (M, 478, 3) float32 FaceMesh landmarks as found (x, y normalized by the image size): what a teacher
    #: needs, with the image, to label the face again without running MediaPipe again.
    points: npt.NDArray[Any] | None = None

    def __len__(self) -> int:
        return len(self.hard)

    @classmethod
    def empty(cls, size: int = STORE_SIZE) -> FaceDataset:
        return cls(np.zeros((0, size, size), np.uint8), np.zeros((0, NUM_NODES, 3), np.float32),
                   np.zeros((0, len(EMOTIONS)), np.float32), np.zeros(0, np.int64), np.zeros(0, str),
                   np.zeros(0, str), np.zeros(0, np.int64))

    def subset(self, mask: npt.NDArray[Any]) -> FaceDataset:
        return FaceDataset(self.crops[mask], self.landmarks[mask], self.soft[mask], self.hard[mask],
                           self.subjects[mask], self.paths[mask], self.frames[mask], dict(self.info),
                           None if self.points is None else self.points[mask])

    def with_soft(self, soft: npt.NDArray[Any], **info: object) -> FaceDataset:
        """The same faces with other teacher labels (and `info` entries added)."""
        if soft.shape != self.soft.shape:
            raise ValueError(f'soft labels must be {self.soft.shape}, got {soft.shape}')
        return FaceDataset(self.crops, self.landmarks, np.asarray(soft, np.float32), self.hard, self.subjects,
                           self.paths, self.frames, {**self.info, **info}, self.points)

    def save(self, path: Path | str) -> None:
        import json

        extra = {} if self.points is None else {'points': self.points}
        np.savez_compressed(path, crops=self.crops, landmarks=self.landmarks, soft=self.soft, hard=self.hard,
                            subjects=self.subjects, paths=self.paths, frames=self.frames,
                            info=np.array(json.dumps(self.info)), **extra)

    @classmethod
    def load(cls, path: Path | str) -> FaceDataset:
        import json

        with np.load(path, allow_pickle=False) as z:
            return cls(z['crops'], z['landmarks'], z['soft'], z['hard'], z['subjects'], z['paths'], z['frames'],
                       json.loads(str(z['info'])), z['points'] if 'points' in z.files else None)


def subject_split(subjects: Iterable[str], test_fraction: float, seed: int) -> npt.NDArray[Any]:
    """Boolean test mask: a subject is in the test set when a seeded hash of its name falls below
    test_fraction, so every face of one person is on one side, and adding data never moves a person.

    Raises:
        ConfigError: test_fraction outside [0, 1).
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ConfigError(f'test_fraction must be in [0, 1), got {test_fraction}')

    def draw(subject: str) -> float:
        digest = hashlib.sha256(f'{seed}:{subject}'.encode()).digest()
        return int.from_bytes(digest[:8], 'big') / 2 ** 64

    return np.array([draw(s) < test_fraction for s in subjects], dtype=bool)


def stratified_subject_split(subjects: npt.NDArray[Any], hard: npt.NDArray[Any], fraction: float, seed: int,
                             eligible: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
    """Boolean test mask that keeps every person on one side and puts about `fraction` of each class's
    hard-labelled faces in the test set (a greedy stratified group split).

    The plain hashed split (`subject_split`) is blind to classes: when a rare class comes from a few people
    (muxspace disgust: 200 faces, three quarters from two actors) it can leave the test set with one or two
    faces of it, and per-class scores with nothing to stand on. Here the people are visited from the ones
    with the smallest share of any class (one face) to the one with the largest (ties in seeded-hash order),
    and each joins the test set when that brings the test set's per-class shares closer to `fraction` (every
    class counts alike): the many small people fill the test set evenly, and a person who would overshoot a
    class by more than they help the others stays in training. Only people with hard labels among
    `eligible` (default: all faces) are considered. Unlike `subject_split`, adding people can move others.

    Raises:
        ConfigError: fraction outside [0, 1).
    """
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f'fraction must be in [0, 1), got {fraction}')
    subjects = np.asarray(subjects)
    eligible = np.ones(len(subjects), bool) if eligible is None else np.asarray(eligible, bool)
    use = eligible & (np.asarray(hard) >= 0)
    people, inverse = np.unique(subjects[use], return_inverse=True)
    counts = np.zeros((len(people), len(EMOTIONS)))
    np.add.at(counts, (inverse, np.asarray(hard)[use]), 1.0)
    total = np.maximum(counts.sum(axis=0), 1.0)
    share = counts / total
    draws = np.array([int.from_bytes(hashlib.sha256(f'{seed}:{p}'.encode()).digest()[:8], 'big') for p in people],
                     float)
    order = np.lexsort((draws, share.max(axis=1)))
    target = fraction * counts.sum(axis=0)
    taken = np.zeros(counts.shape[1])
    chosen = np.zeros(len(people), bool)
    for person in order:
        before = np.sum(((taken - target) / total) ** 2)
        after = np.sum(((taken + counts[person] - target) / total) ** 2)
        if after < before:
            chosen[person] = True
            taken += counts[person]
    return eligible & np.isin(subjects, people[chosen])
