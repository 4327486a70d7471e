"""Shared for the retouch tests: a real photo with its FaceMesh landmarks, and held-out people."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from test.conftest import shared_data


def london() -> Path:
    return shared_data('faces')


@cache
def photo_with_landmarks(name: str = '001_03.jpg') -> tuple[np.ndarray, np.ndarray]:
    """(RGB as enrolment reads it, FaceMesh landmarks in pixels) of one London photo."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.integrity.retouch_data import landmarks_px, read_photo

    rgb = read_photo(london() / 'london_ccby' / 'neutral' / name)
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        px = landmarks_px(analyzer, rgb)
    assert px is not None
    return rgb, px


def landmarks_of(rgb: np.ndarray) -> np.ndarray:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.integrity.retouch_data import landmarks_px

    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        px = landmarks_px(analyzer, rgb)
    assert px is not None
    return px
