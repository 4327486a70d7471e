"""Labelled expression photos (../shared/data/faces layout) and their per-face features (no rclpy).

Layout of a faces folder (like ../shared/data/faces):
    london_ccby/neutral/<ID>_03.jpg, london_ccby/smiling/<ID>_08.jpg   person = <ID>
    muxspace/labels.csv (image,emotion) + muxspace/images/<image>    person = file name without the
        trailing _NNNN number (George_W_Bush_0226.jpg -> George_W_Bush); otherwise the whole stem

Every split in attune's expression training and benchmarks is by `Item.person`: no person is on
both sides. `quality_holdout` names a fixed set of people that training never uses (not even for model
selection): the shipped model's quality test (test/expression/test_head_quality.py) scores it on them.
`extract(items)` runs MediaPipe FaceMesh on each photo (the largest face) and computes what the
expression analyzer computes live: AU intensities and measures against the population
neutral, and the FER CNN's probabilities and embedding on the landmark-aligned crop and on its
mirror image.
"""
from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.file_digest import content_digest

#: muxspace labels -> attune EMOTIONS (contempt, which has 6 photos and no CNN class, is left out).
MUX_LABELS = {'anger': 'anger', 'disgust': 'disgust', 'fear': 'fear', 'happiness': 'happy', 'neutral': 'neutral',
              'sadness': 'sad', 'surprise': 'surprise'}
#: Photos are shrunk to at most this side before FaceMesh (the London set is 1350 px; cameras ~640).
MAX_SIDE = 700
_PERSON = re.compile(r'^(.*?)_\d+$')


#: London people held out of training for the quality test (the 12 of test/expression/photos.py).
QUALITY_LONDON = ('001', '003', '005', '008', '009', '013', '017', '018', '019', '021', '022', '030')
#: Share of muxspace people (by a stable hash of the name) held out for the quality test, percent.
QUALITY_MUX_PERCENT = 5


def quality_holdout(person: str) -> bool:
    """True for the people kept out of training for the quality test (a fixed, person-wise split)."""
    source, _, name = person.partition(':')
    if source == 'london':
        return name in QUALITY_LONDON
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100 < QUALITY_MUX_PERCENT


@dataclass(frozen=True)
class Item:
    """One labelled photo. source: 'london' or 'mux'; label in EMOTIONS."""

    source: str
    path: Path
    label: str
    person: str


def mux_person(image: str) -> str:
    stem = Path(image).stem
    match = _PERSON.match(stem)
    return match.group(1) if match else stem


def load_items(data: Path, sources: Sequence[str] = ('london', 'mux')) -> list[Item]:
    """The labelled photos of a faces folder (missing parts are skipped; none at all raises ValueError)."""
    data = Path(data)
    items: list[Item] = []
    london = data / 'london_ccby'
    if 'london' in sources and london.is_dir():
        for folder, label in (('neutral', 'neutral'), ('smiling', 'happy')):
            for path in sorted((london / folder).glob('*.jpg')):
                if not path.name.startswith('._'):
                    items.append(Item('london', path, label, 'london:' + path.stem.split('_')[0]))
    labels = data / 'muxspace' / 'labels.csv'
    if 'mux' in sources and labels.is_file():
        with open(labels, newline='') as stream:
            for row in csv.DictReader(stream):
                mux_label = MUX_LABELS.get(row['emotion'].strip().lower())
                if mux_label is not None:
                    items.append(Item('mux', data / 'muxspace' / 'images' / row['image'], mux_label,
                                      'mux:' + mux_person(row['image'])))
    if not items:
        raise ValueError(f'no labelled photos under {data} (expected london_ccby/ and/or muxspace/labels.csv)')
    return items


@dataclass(frozen=True)
class Features:
    """Per-item arrays (row i = items[i]); found[i] False where no face was found (other rows zero).

    landmarks (N, 478, 3) normalized; size (N, 2) width, height of the (shrunk) image; au (N, 17);
    measures (N, 15); cnn_probabilities (N, 7) EMOTIONS order; embedding (N, 128); mirror_probabilities,
    mirror_embedding: the same for the mirrored crop.
    """

    found: npt.NDArray[Any]
    landmarks: npt.NDArray[Any]
    size: npt.NDArray[Any]
    au: npt.NDArray[Any]
    measures: npt.NDArray[Any]
    cnn_probabilities: npt.NDArray[Any]
    embedding: npt.NDArray[Any]
    mirror_probabilities: npt.NDArray[Any]
    mirror_embedding: npt.NDArray[Any]

    def subset(self, rows: npt.NDArray[Any]) -> Features:
        return Features(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))


def read_rgb(path: Path) -> npt.NDArray[Any] | None:
    """An image file as RGB uint8, shrunk to MAX_SIDE; None if unreadable."""
    import cv2

    bgr = cv2.imread(str(path))
    if bgr is None:
        return None
    scale = MAX_SIDE / max(bgr.shape[:2])
    if scale < 1:
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * scale), round(bgr.shape[0] * scale)),
                         interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _cache_key(items: Sequence[Item]) -> str:
    h = hashlib.sha256()
    for it in items:
        digest = content_digest(it.path) if it.path.exists() else '-'
        h.update(f'{it.path.name}|{it.label}|{it.person}|{it.source}|{digest}\n'.encode())
    return h.hexdigest()[:20]


def extract(items: Sequence[Item], cache_dir: Path | None = None,
            log: Callable[[str], object] = print) -> Features:
    """Features of every item (see Features). With cache_dir, reuses/writes features-<hash>.npz there
    (the hash covers paths, sizes and modification times; v2 added the mirrored crop's CNN outputs).
    Needs MediaPipe and the shipped CNN."""
    cache = Path(cache_dir) / f'features-v2-{_cache_key(items)}.npz' if cache_dir is not None else None
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            return Features(**{k: z[k] for k in Features.__dataclass_fields__})
    from attune.expression.action_units import ActionUnitEstimator
    from attune.expression.cnn import FerCnn, prepare_crop
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    n = len(items)
    out = {'found': np.zeros(n, bool), 'landmarks': np.zeros((n, 478, 3), np.float32),
           'size': np.zeros((n, 2), np.int32), 'au': np.zeros((n, 17), np.float32),
           'measures': np.zeros((n, 15), np.float32), 'cnn_probabilities': np.zeros((n, len(EMOTIONS)), np.float32),
           'embedding': np.zeros((n, 128), np.float32),
           'mirror_probabilities': np.zeros((n, len(EMOTIONS)), np.float32),
           'mirror_embedding': np.zeros((n, 128), np.float32)}
    estimator, cnn = ActionUnitEstimator(), FerCnn()
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=4)) as faces:
        for i, item in enumerate(items):
            if i % 250 == 0:
                log(f'features: {i}/{n} photos')
            rgb = read_rgb(item.path)
            if rgb is None:
                continue
            found = [(f, f.landmarks) for f in faces.process(rgb) if f.landmarks is not None]
            if not found:
                continue
            face, landmarks = max(found, key=lambda fl: fl[0].box.width * fl[0].box.height)
            h, w = rgb.shape[:2]
            try:
                au = estimator.estimate(landmarks, w, h)
                result, mirrored = cnn.with_mirror(prepare_crop(rgb, landmarks)[None])
            except ValueError:
                continue
            out['found'][i] = True
            points = np.asarray(face.landmarks)[:478, :3]
            out['landmarks'][i, :len(points)] = points
            out['size'][i] = (w, h)
            out['au'][i], out['measures'][i] = au.intensities, au.measures
            out['cnn_probabilities'][i], out['embedding'][i] = result.probabilities[0], result.embedding[0]
            out['mirror_probabilities'][i] = mirrored.probabilities[0]
            out['mirror_embedding'][i] = mirrored.embedding[0]
    features = Features(**out)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + '.tmp.npz')
        np.savez_compressed(tmp, **out)
        tmp.replace(cache)
    return features
