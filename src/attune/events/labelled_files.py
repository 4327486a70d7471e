"""Labelled files for the spiking FER data: photos and videos, their labels and whose face they show.

Layouts (see docs/spiking_fer.md): photos as DIR/<label>/<file>.jpg|png (one folder per expression
label; london_ccby's neutral/ and smiling/) or DIR/labels.csv + DIR/images/ (muxspace); videos as
DIR/*.mp4 (unlabelled: the teacher labels them) or DIR/<label>/*.mp4.

The subject (person) of a file is its stem without a trailing `_<digits>` (london `001_03` -> `001`,
muxspace `George_W_Bush_0226` -> `George_W_Bush`, a video `d3.mp4` -> `d3`); splits are by subject,
per source folder, with a seeded shuffle, so a person never lands in both sets.
"""
from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attune.emotions import EMOTIONS
from attune.events.errors import EventError

#: Folder and CSV label names understood besides EMOTIONS themselves.
LABEL_ALIASES = {'smiling': 'happy', 'smile': 'happy', 'happiness': 'happy', 'joy': 'happy',
                 'sadness': 'sad', 'angry': 'anger', 'surprised': 'surprise', 'fearful': 'fear',
                 'afraid': 'fear', 'disgusted': 'disgust', 'calm': 'neutral'}

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')


def label_index(name: str) -> int | None:
    """The EMOTIONS index of a label name or alias (case-insensitive), None if unknown (e.g. contempt)."""
    key = name.strip().lower()
    key = LABEL_ALIASES.get(key, key)
    return EMOTIONS.index(key) if key in EMOTIONS else None


def subject_of(path: Path | str) -> str:
    """The subject (person) a file shows: its stem without a trailing `_<digits>`."""
    stem = Path(path).stem
    return re.sub(r'_\d+$', '', stem) or stem


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    label: int | None      #: EMOTIONS index; None for unlabelled videos (teacher labels)
    subject: str
    source: str            #: the folder it was found under (the split is per source)


def scan_images(folder: Path | str) -> tuple[list[LabelledFile], dict[str, int]]:
    """The labelled images of a folder in either layout, and {label: count} of files skipped because
    their label is not one of EMOTIONS.

    Raises:
        EventError: the folder does not exist or holds no labelled image.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EventError(f'image folder {folder} does not exist')
    files: list[LabelledFile] = []
    skipped: dict[str, int] = {}
    source = folder.name
    csv_path = folder / 'labels.csv'
    if csv_path.is_file():
        with csv_path.open(newline='', encoding='utf-8') as f:
            for row in csv.DictReader(f):
                name = row.get('image') or row.get('file') or ''
                label = row.get('emotion') or row.get('label') or ''
                path = folder / 'images' / name
                index = label_index(label)
                if index is None:
                    skipped[label] = skipped.get(label, 0) + 1
                    continue
                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                    files.append(LabelledFile(path, index, row.get('subject') or subject_of(path), source))
    else:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            index = label_index(sub.name)
            images = sorted(p for p in sub.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith('.'))
            if index is None:
                if images:
                    skipped[sub.name] = skipped.get(sub.name, 0) + len(images)
                continue
            files += [LabelledFile(p, index, subject_of(p), source) for p in images]
    if not files:
        raise EventError(f'no labelled images in {folder} (expected <label>/<image> folders or labels.csv + '
                         'images/; labels: ' + ', '.join(EMOTIONS) + ')')
    return files, skipped


def scan_videos(folder: Path | str) -> list[LabelledFile]:
    """Videos of a folder: top-level ones unlabelled (teacher), those in <label>/ folders labelled.

    Raises:
        EventError: the folder does not exist or holds no video.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EventError(f'video folder {folder} does not exist')
    source = f'videos/{folder.name}'
    files = [LabelledFile(p, None, subject_of(p), source)
             for p in sorted(folder.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        index = label_index(sub.name)
        if index is not None:
            files += [LabelledFile(p, index, subject_of(p), source)
                      for p in sorted(sub.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES]
    if not files:
        raise EventError(f'no videos ({", ".join(VIDEO_SUFFIXES)}) in {folder}')
    return files


def held_out_subjects(files: Iterable[LabelledFile], fraction: float, seed: int) -> set[tuple[str, str]]:
    """(source, subject) pairs held out for testing: per source, a seeded shuffle of its subjects and
    the first ceil(fraction * n) of them (at least one when the source has two or more subjects)."""
    by_source: dict[str, list[str]] = {}
    for f in files:
        by_source.setdefault(f.source, [])
        if f.subject not in by_source[f.source]:
            by_source[f.source].append(f.subject)
    held: set[tuple[str, str]] = set()
    for source, subjects in sorted(by_source.items()):
        if len(subjects) < 2 or fraction <= 0:
            continue
        rng = np.random.default_rng([seed, int(hashlib.sha256(source.encode()).hexdigest()[:8], 16)])
        order = sorted(subjects)
        rng.shuffle(order)
        n = min(max(1, math.ceil(fraction * len(order))), len(order) - 1)
        held.update((source, s) for s in order[:n])
    return held
