"""Real faces for the identity tests: FaceMesh landmarks and dlib embeddings of the first PEOPLE people
of the London set (neutral and smiling) from ../shared/data/faces, computed once per test session."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from test.conftest import shared_data

PEOPLE = 8


@dataclass(frozen=True)
class Face:
    person: str
    smiling: bool
    rgb: np.ndarray
    landmarks: np.ndarray
    embedding: np.ndarray


@cache
def _load() -> tuple[Face, ...]:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.identity.embedder import FaceEmbedder
    from attune.identity.photos import largest_face_landmarks, london_photos, read_rgb

    root = shared_data('faces')
    people = sorted({p for p, _, _ in london_photos(root)})[:PEOPLE]
    embedder = FaceEmbedder()
    faces = []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for person, expression, path in london_photos(root):
            if person in people:
                rgb = read_rgb(path)
                landmarks = largest_face_landmarks(analyzer, rgb)
                faces.append(Face(person, expression == 'smiling', rgb, landmarks,
                                  embedder.embed_mesh(rgb, landmarks)))
    assert len(faces) == 2 * PEOPLE
    return tuple(faces)


def london_faces() -> list[Face]:
    """Both photos of PEOPLE London people (fails without the shared data)."""
    shared_data('faces', 'london_ccby')
    return list(_load())


def by_person(faces: list[Face], smiling: bool) -> dict[str, Face]:
    return {f.person: f for f in faces if f.smiling == smiling}
