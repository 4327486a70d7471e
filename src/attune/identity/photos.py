"""Face embeddings of still photos: enrolment images and faces-kind folders (bench, threshold fit).

A faces-kind folder is laid out like ../shared/data/faces/: london_ccby/neutral/<ID>_03.jpg and
london_ccby/smiling/<ID>_08.jpg, one person per ID.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

from attune.errors import AttuneError
from attune.identity.embedder import FaceEmbedder
from attune.imaging.photo import read_photo as read_photo_file

if TYPE_CHECKING:
    from attune.face import FaceAnalyzer

#: Photos are shrunk so that their longer side is at most this (FaceMesh and dlib see the same face;
#: the descriptor works on a 150-px aligned chip anyway).
MAX_SIDE = 800


def read_rgb(path: Path) -> npt.NDArray[Any]:
    """The photo as RGB, its longer side at most MAX_SIDE (ImageError when unreadable)."""
    return read_photo_file(path, MAX_SIDE)


def largest_face_landmarks(analyzer: FaceAnalyzer, rgb: npt.NDArray[Any], *,
                           require_one: bool = False) -> npt.NDArray[Any] | None:
    """FaceMesh landmarks of the largest face (None without one); with require_one, an image showing
    several faces is refused (enrolment must be unambiguous)."""
    faces = [f for f in analyzer.process(rgb) if f.landmarks is not None]
    if require_one and len(faces) > 1:
        raise AttuneError(f'{len(faces)} faces in the image; enrolment needs exactly one')
    if not faces:
        return None
    return max(faces, key=lambda f: f.box.width * f.box.height).landmarks


@dataclass
class FolderEmbeddings:
    """Embeddings of a faces-kind folder: rows of `mesh` (attune's alignment: dlib's 5-point predictor
    in the FaceMesh face rectangle), `mesh_points` (five points straight from FaceMesh) and `dlib`
    (dlib's own HOG detector + predictor; the baseline)."""

    neutral: dict[str, int] = field(default_factory=dict)
    smiling: dict[str, int] = field(default_factory=dict)
    mesh: list[npt.NDArray[Any]] = field(default_factory=list)
    dlib: list[npt.NDArray[Any]] = field(default_factory=list)
    mesh_points: list[npt.NDArray[Any]] = field(default_factory=list)
    embed_ms: list[float] = field(default_factory=list)      # wall time per descriptor
    embed_cpu_ms: list[float] = field(default_factory=list)  # CPU time of this process per descriptor
    skipped: list[str] = field(default_factory=list)


def london_photos(root: Path) -> list[tuple[str, str, Path]]:
    """(person, 'neutral' | 'smiling', path) of a faces-kind folder."""
    base = root / 'london_ccby' if (root / 'london_ccby').is_dir() else root
    photos = []
    for expression in ('neutral', 'smiling'):
        for path in sorted((base / expression).glob('*.jpg')):
            if not path.name.startswith('._'):
                photos.append((path.stem.split('_')[0], expression, path))
    if not photos:
        raise AttuneError(f'no photos in {base}/neutral or {base}/smiling')
    return photos


def embed_folder(root: Path) -> FolderEmbeddings:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    embedder, points_embedder = FaceEmbedder(), FaceEmbedder(alignment='mesh')
    out = FolderEmbeddings()
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for person, expression, path in london_photos(root):
            rgb = read_rgb(path)
            landmarks = largest_face_landmarks(analyzer, rgb)
            dlib_points = embedder.dlib_five_points(rgb)
            if landmarks is None or not dlib_points:
                out.skipped.append(str(path))
                continue
            start, cpu = time.perf_counter(), time.process_time()
            out.mesh.append(embedder.embed_mesh(rgb, landmarks))
            out.embed_ms.append((time.perf_counter() - start) * 1e3)
            out.embed_cpu_ms.append((time.process_time() - cpu) * 1e3)
            out.dlib.append(embedder.embed_points(rgb, dlib_points[0]))
            out.mesh_points.append(points_embedder.embed_mesh(rgb, landmarks))
            (out.neutral if expression == 'neutral' else out.smiling)[person] = len(out.mesh) - 1
    return out
