"""Face patches for the retouch CNN: YCbCr pixel patches on a fixed grid inside the face, in memory only.

A patch is PATCH x PATCH pixels of the photo at its own resolution (no resizing: resampling would
wash out the fine traces that smoothing, inpainting and warps leave), as Y, Cb, Cr planes (uint8).
Patch corners lie on a grid of step STEP over the face-oval's bounding box; a position is kept when
the patch centre is inside the face oval (FaceMesh) and the patch is inside the image. At most
MAX_PATCHES positions are kept, evenly spread over the grid (the same rule in training, the bench
and at enrolment, so a photo is always scored on the same patches).

`generate` makes the same delivered originals and retouched copies as attune.integrity.retouch_data
(same seed -> same copies) and keeps only their patches, in memory: nothing is written to disk.
The copy's landmarks are the photo's, scaled with the delivery downscale (FaceMesh is not rerun on
every copy: a warp moves the face by a few pixels, well under one grid step).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attune.integrity import face_regions as fr
from attune.integrity.retouch_ops import OPERATIONS, STRENGTHS

if TYPE_CHECKING:
    from attune.integrity.retouch_data import Photo

PATCH = 64
STEP = 32
MAX_PATCHES = 40


def ycbcr(rgb: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """(3, H, W) uint8 planes Y, Cb, Cr (ITU-R BT.601 as JPEG stores them) of an RGB uint8 image."""
    import cv2

    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
    y_cr_cb = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YCrCb)
    planes: npt.NDArray[np.uint8] = np.ascontiguousarray(y_cr_cb[:, :, [0, 2, 1]].transpose(2, 0, 1))
    return planes


def grid_positions(shape: tuple[int, ...], px: npt.NDArray[Any], patch: int = PATCH, step: int = STEP,
                   limit: int = MAX_PATCHES) -> npt.NDArray[np.int64]:
    """(N, 2) top-left corners (x, y) of the patches inside the face (see the module docstring); N <= limit."""
    height, width = shape[:2]
    oval = fr.polygon_mask(shape, px[list(fr.FACE_OVAL)])
    lo = np.floor(px[list(fr.FACE_OVAL)].min(axis=0)).astype(int)
    hi = np.ceil(px[list(fr.FACE_OVAL)].max(axis=0)).astype(int)
    xs = np.arange(max(lo[0], 0), min(hi[0], width - patch) + 1, step)
    ys = np.arange(max(lo[1], 0), min(hi[1], height - patch) + 1, step)
    corners = np.array([(x, y) for y in ys for x in xs if oval[y + patch // 2, x + patch // 2]], np.int64)
    if len(corners) > limit:
        corners = corners[np.round(np.linspace(0, len(corners) - 1, limit)).astype(int)]
    return corners.reshape(-1, 2)


def face_patches(rgb: npt.NDArray[Any], px: npt.NDArray[Any], limit: int = MAX_PATCHES) -> npt.NDArray[np.uint8]:
    """(N, 3, PATCH, PATCH) uint8 YCbCr patches of the face in `rgb` (landmarks `px` in pixels); N may be 0."""
    planes = ycbcr(rgb)
    corners = grid_positions(rgb.shape, px, limit=limit)
    out = np.empty((len(corners), 3, PATCH, PATCH), np.uint8)
    for i, (x, y) in enumerate(corners):
        out[i] = planes[:, y:y + PATCH, x:x + PATCH]
    return out


@dataclass
class PatchSet:
    """Patches of every copy (a list of (N_i, 3, PATCH, PATCH) arrays) with who and what was done."""

    patches: list[npt.NDArray[np.uint8]]
    person: npt.NDArray[Any]
    photo: npt.NDArray[Any]
    operation: npt.NDArray[Any]
    strength: npt.NDArray[Any]
    changed: npt.NDArray[Any]
    skipped: list[str]

    @property
    def label(self) -> npt.NDArray[np.int64]:
        from attune.integrity.retouch_data import ORIGINAL

        retouched: npt.NDArray[np.bool_] = self.operation != ORIGINAL
        return retouched.astype(np.int64)

    @property
    def visible(self) -> npt.NDArray[np.bool_]:
        from attune.integrity.retouch_data import ORIGINAL
        from attune.integrity.retouch_visibility import is_visible

        original: npt.NDArray[np.bool_] = self.operation == ORIGINAL
        return original | is_visible(self.changed)

    def keys(self) -> list[tuple[str, str, int, int]]:
        """(photo, operation, strength, n-th such copy) per row: matches rows of a retouch_data.SampleSet
        made with the same seed (its rows are in the same order, some may be missing)."""
        return _keys(self.photo, self.operation, self.strength)


def _keys(photo: npt.NDArray[Any], operation: npt.NDArray[Any], strength: npt.NDArray[Any]
          ) -> list[tuple[str, str, int, int]]:
    seen: dict[tuple[str, str, int], int] = {}
    out = []
    for key in zip(photo.tolist(), operation.tolist(), strength.tolist(), strict=True):
        seen[key] = seen.get(key, -1) + 1
        out.append((*key, seen[key]))
    return out


def sample_keys(photo: npt.NDArray[Any], operation: npt.NDArray[Any], strength: npt.NDArray[Any]
                ) -> list[tuple[str, str, int, int]]:
    """The same keys as PatchSet.keys for the columns of a retouch_data.SampleSet."""
    return _keys(photo, operation, strength)


def generate(photos: list[Photo], seed: int, *, originals: int = 3, operations: Iterable[str] = tuple(OPERATIONS),
             strengths: Iterable[int] = STRENGTHS,
             progress: Callable[[int, int], object] | None = None) -> PatchSet:
    """Patches of the delivered originals and retouched copies of `photos` (see the module docstring)."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.integrity import retouch_data as rd

    operations, strengths = tuple(operations), tuple(strengths)
    patches, meta, skipped = [], [], []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for i, photo in enumerate(photos):
            rgb = rd.read_photo(photo.path)
            px = rd.landmarks_px(analyzer, rgb)
            if px is None:
                skipped.append(f'{photo.path.name}: no face')
                continue
            for operation, strength, changed, delivered in rd.variants(photo, rgb, px, seed, originals,
                                                                        operations, strengths):
                scale = np.array([delivered.shape[1] / rgb.shape[1], delivered.shape[0] / rgb.shape[0]])
                found = face_patches(delivered, px * scale)
                if not len(found):
                    skipped.append(f'{photo.path.name} {operation} {strength}: no patch inside the face')
                    continue
                patches.append(found)
                meta.append((photo.person, photo.path.name, operation, strength, changed))
            if progress is not None:
                progress(i + 1, len(photos))
    if not meta:
        empty = np.array([], str)
        return PatchSet([], empty, empty, empty, np.array([], np.int64), np.array([], float), skipped)
    columns = [np.array(column) for column in zip(*meta, strict=True)]
    return PatchSet(patches, columns[0], columns[1], columns[2], columns[3].astype(np.int64),
                    columns[4].astype(np.float64), skipped)
