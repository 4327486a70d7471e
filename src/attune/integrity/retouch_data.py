"""Original and retouched face photos made from a faces-kind folder, reduced to features at once.

For each photo of a faces-kind folder (london_ccby/{neutral,smiling}/<ID>_*.jpg, one person per ID):
- `originals` delivered copies (label 0);
- one retouched copy per operation and strength (label 1), from the photo as read, where the
  operation applies (blemish removal needs genuine blemishes: attune.integrity.retouch_ops);
- with each copy, how much of the face it changed by more than a just-noticeable colour difference
  (`changed`, measured before delivery; attune.integrity.retouch_visibility), so that reports can
  also leave out edits nobody could see.
Every copy then goes through the same delivery chain (a random downscale and a JPEG re-save, as a
photo sent for enrolment would), FaceMesh runs again on the delivered copy (warps move the
landmarks) and only its features are kept: no pixels are stored. Each photo's random stream is
seeded by (seed, file name), so a photo gives the same samples whatever else is in the folder.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attune.imaging.photo import read_photo as read_photo_file
from attune.integrity import face_regions as fr
from attune.integrity.retouch_features import FEATURES, retouch_features
from attune.integrity.retouch_ops import OPERATIONS, STRENGTHS, NothingToRetouchError, retouch
from attune.integrity.retouch_visibility import changed_fraction, is_visible

if TYPE_CHECKING:
    from attune.face import FaceAnalyzer

#: Longest side of a photo as read (as attune.identity.photos reads enrolment photos).
MAX_SIDE = 800
ORIGINAL = 'original'
#: Bumped whenever the operations, the delivery chain or the features change (invalidates caches).
GENERATOR_VERSION = 2


def cache_tag(seed: int, originals: int) -> str:
    return f'v{GENERATOR_VERSION}-seed{seed}-originals{originals}-{len(FEATURES)}features'


@dataclass(frozen=True)
class Photo:
    person: str
    path: Path


@dataclass
class SampleSet:
    """Feature rows with who, which photo and what was done to it (strength 0: original)."""

    features: npt.NDArray[Any]            # (N, len(FEATURES))
    person: npt.NDArray[Any]              # (N,) str
    photo: npt.NDArray[Any]               # (N,) str: file name
    operation: npt.NDArray[Any]           # (N,) str: ORIGINAL or a key of OPERATIONS
    strength: npt.NDArray[Any]            # (N,) int
    changed: npt.NDArray[Any]             # (N,) float: face fraction changed by more than a JND (originals 0)
    skipped: list[str]

    @property
    def label(self) -> npt.NDArray[Any]:
        retouched: npt.NDArray[np.bool_] = self.operation != ORIGINAL
        return retouched.astype(np.int64)

    @property
    def visible(self) -> npt.NDArray[Any]:
        """Originals and the copies whose edit can be seen (see attune.integrity.retouch_visibility)."""
        original: npt.NDArray[np.bool_] = self.operation == ORIGINAL
        return original | is_visible(self.changed)

    def subset(self, keep: npt.NDArray[Any]) -> SampleSet:
        return SampleSet(self.features[keep], self.person[keep], self.photo[keep], self.operation[keep],
                         self.strength[keep], self.changed[keep], list(self.skipped))

    def save(self, path: Path, tag: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, features=self.features, person=self.person, photo=self.photo,
                            operation=self.operation, strength=self.strength, changed=self.changed,
                            tag=np.array(tag),
                            names=np.array(FEATURES))

    @classmethod
    def load(cls, path: Path, tag: str) -> SampleSet | None:
        """The cached set at `path` if it was made with `tag` and these features, else None."""
        if not path.is_file():
            return None
        with np.load(path) as data:
            if str(data['tag']) != tag or tuple(data['names']) != FEATURES:
                return None
            return cls(data['features'], data['person'], data['photo'], data['operation'], data['strength'],
                       data['changed'], [])


def faces_photos(root: Path) -> list[Photo]:
    """Photos of a faces-kind folder (london_ccby/ inside it, or the london folder itself)."""
    from attune.identity.photos import london_photos

    return [Photo(person, path) for person, _, path in london_photos(Path(root))]


def read_photo(path: Path) -> npt.NDArray[Any]:
    """The photo as RGB, its longer side at most MAX_SIDE (ImageError when unreadable)."""
    return read_photo_file(path, MAX_SIDE)


def deliver(rgb: npt.NDArray[Any], rng: np.random.Generator) -> npt.NDArray[Any]:
    """A copy as it would arrive: downscaled by 0.7-1.0 (half the time) and re-saved as JPEG (q 80-95)."""
    import cv2

    if rng.random() < 0.5:
        scale = rng.uniform(0.7, 1.0)
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(rgb[:, :, ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 96))])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])


def photo_rng(seed: int, photo: Photo) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(photo.path.name.encode())])


def landmarks_px(analyzer: FaceAnalyzer, rgb: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
    from attune.identity.photos import largest_face_landmarks

    landmarks = largest_face_landmarks(analyzer, rgb)
    return None if landmarks is None else fr.to_pixels(landmarks, rgb.shape)


def variants(photo: Photo, rgb: npt.NDArray[Any], px: npt.NDArray[Any], seed: int, originals: int,
             operations: Iterable[str], strengths: Iterable[int]) -> Iterator[tuple[str, int, float, npt.NDArray[Any]]]:
    """(operation, strength, changed face fraction, delivered image) for the originals and every retouched
    copy of one photo (none for an operation at a strength that does not apply to it)."""
    rng = photo_rng(seed, photo)
    for _ in range(originals):
        yield ORIGINAL, 0, 0.0, deliver(rgb, rng)
    for operation in operations:
        for strength in strengths:
            try:
                edited = retouch(rgb, px, operation, strength, rng)
            except NothingToRetouchError:
                continue
            yield operation, strength, changed_fraction(rgb, edited, px), deliver(edited, rng)


def generate(photos: list[Photo], seed: int, *, originals: int = 3, operations: Iterable[str] = tuple(OPERATIONS),
             strengths: Iterable[int] = STRENGTHS,
             progress: Callable[[int, int], object] | None = None) -> SampleSet:
    """Features of the originals and retouched copies of `photos` (see the module docstring)."""
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    operations, strengths = tuple(operations), tuple(strengths)
    rows, meta, skipped = [], [], []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for i, photo in enumerate(photos):
            rgb = read_photo(photo.path)
            px = landmarks_px(analyzer, rgb)
            if px is None:
                skipped.append(f'{photo.path.name}: no face')
                continue
            copies = variants(photo, rgb, px, seed, originals, operations, strengths)
            for operation, strength, changed, delivered in copies:
                found = landmarks_px(analyzer, delivered)
                if found is None:
                    skipped.append(f'{photo.path.name} {operation} {strength}: no face after delivery')
                    continue
                rows.append(retouch_features(delivered, found))
                meta.append((photo.person, photo.path.name, operation, strength, changed))
            if progress is not None:
                progress(i + 1, len(photos))
    if not rows:
        return SampleSet(np.zeros((0, len(FEATURES))), np.array([], str), np.array([], str), np.array([], str),
                         np.array([], int), np.array([], float), skipped)
    columns = [np.array(column) for column in zip(*meta, strict=True)]
    return SampleSet(np.stack(rows), columns[0], columns[1], columns[2], columns[3].astype(np.int64),
                     columns[4].astype(np.float64), skipped)
