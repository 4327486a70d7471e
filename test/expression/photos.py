"""Real faces for the expression tests: FaceMesh landmarks of the London set (the first 12 people,
neutral and smiling) from ../shared/data/faces, computed once per test session."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from test.conftest import shared_data

#: The people used (12 of the 60; tests name 030): few enough for FaceMesh to run quickly per session.
PEOPLE = ('001', '003', '005', '008', '009', '013', '017', '018', '019', '021', '022', '030')


@dataclass(frozen=True)
class Photo:
    person: str
    smiling: bool
    rgb: np.ndarray
    landmarks: np.ndarray


@cache
def _load() -> tuple[Photo, ...]:
    import cv2

    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    root = shared_data('faces', 'london_ccby')
    photos = []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for folder, smiling in (('neutral', False), ('smiling', True)):
            for path in sorted(p for p in (root / folder).glob('*.jpg') if p.stem.split('_')[0] in PEOPLE):
                rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                rgb = cv2.resize(rgb, (675, 675), interpolation=cv2.INTER_AREA)  # half size: faster, same faces
                (face,) = analyzer.process(rgb)
                photos.append(Photo(path.stem.split('_')[0], smiling, rgb, face.landmarks))
    assert len(photos) == 2 * len(PEOPLE)
    return tuple(photos)


def london_photos() -> list[Photo]:
    """The 24 London photos (skips the test when the shared data is absent)."""
    shared_data('faces', 'london_ccby')
    return list(_load())


def pairs(photos: list[Photo]) -> list[tuple[Photo, Photo]]:
    """(neutral, smiling) per person."""
    neutral = {p.person: p for p in photos if not p.smiling}
    return [(neutral[p.person], p) for p in photos if p.smiling]
