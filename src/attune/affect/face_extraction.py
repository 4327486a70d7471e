"""Faces for the ASD emotion model from image and video files, and their teacher labels (no rclpy).

Two steps, so that a new teacher does not mean running MediaPipe again:

  * `extract_faces`: the largest face of each image and of every `video_every`-th video frame (MediaPipe
    FaceAnalyzer): crop, aligned landmarks, the raw landmarks, hard label, subject. Teacher-independent.
  * `label_faces`: the teacher's soft labels of those faces, from the image (read again) and the stored
    raw landmarks.

`build_dataset` does both.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from attune.affect.dataset import STORE_SIZE, VIDEO_SUFFIXES, FaceDataset, SourceFile
from attune.affect.features import FaceInputError, complete_landmarks, face_crop, landmark_features
from attune.emotions import EMOTIONS
from attune.errors import ConfigError

if TYPE_CHECKING:
    from attune.face.types import FaceObservation

Progress = Callable[[str], None] | None


class SoftLabeller(Protocol):
    """What `label_faces` needs of a teacher (`attune.expression.teacher.ExpressionTeacher` is one)."""

    def soft_labels(self, rgb: npt.NDArray[Any], landmarks: npt.NDArray[Any]) -> npt.NDArray[Any]: ...


def _largest(faces: Iterable[FaceObservation]) -> FaceObservation | None:
    best: FaceObservation | None = None
    for face in faces:
        if face.landmarks is None:
            continue
        if best is None or face.box.width * face.box.height > best.box.width * best.box.height:
            best = face
    return best


def _read_rgb(path: object) -> npt.NDArray[Any] | None:
    import cv2

    bgr = cv2.imread(str(path))
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _video_frames(path: object, wanted: Callable[[int], bool]) -> Iterator[tuple[int, npt.NDArray[Any]]]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    index = 0
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            if wanted(index):
                yield index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def extract_faces(sources: Iterable[SourceFile], *, video_every: int = 3, size: int = STORE_SIZE,
                  progress: Progress = None) -> FaceDataset:
    """The largest face of each image and sampled video frame, without teacher labels (soft = NaN).

    Files or frames without a usable face are skipped (counted in `info['skipped']`).

    Raises:
        ConfigError: video_every < 1.
    """
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    if video_every < 1:
        raise ConfigError(f'video_every must be >= 1, got {video_every}')
    rows: dict[str, list[Any]] = defaultdict(list)
    skipped = 0
    sources = list(sources)

    def add(source: SourceFile, frame: int, rgb: npt.NDArray[Any] | None, face: FaceObservation | None) -> bool:
        if rgb is None or face is None or face.landmarks is None:
            return False
        height, width = rgb.shape[:2]
        try:
            features = landmark_features(face.landmarks, width, height)
            crop = face_crop(rgb, face.landmarks, size)
            points = complete_landmarks(face.landmarks).astype(np.float32)
        except (FaceInputError, ValueError):
            return False
        for key, value in (('crops', crop), ('landmarks', features), ('points', points), ('hard', source.label),
                           ('subjects', source.subject), ('paths', str(source.path)), ('frames', frame)):
            rows[key].append(value)
        return True

    # one static analyzer for every image (no tracking between them); a tracking one per video
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=2)) as stills:
        for n, source in enumerate(sources):
            if source.kind == 'image':
                rgb = _read_rgb(source.path)
                face = None if rgb is None else _largest(stills.process(rgb))
                skipped += not add(source, 0, rgb, face)
            else:
                with FaceAnalyzer(FaceAnalyzerOptions(static_images=False, max_faces=2)) as tracker:
                    for frame, rgb in _video_frames(source.path, lambda i: i % video_every == 0):
                        face = _largest(tracker.process(rgb))
                        skipped += not add(source, frame, rgb, face)
            if progress is not None and (n + 1) % 200 == 0:
                progress(f'{n + 1}/{len(sources)} files, {len(rows["hard"])} faces')
    if not rows['hard']:
        return FaceDataset.empty(size)
    count = len(rows['hard'])
    return FaceDataset(np.stack(rows['crops']), np.stack(rows['landmarks']),
                       np.full((count, len(EMOTIONS)), np.nan, np.float32), np.array(rows['hard'], np.int64),
                       np.array(rows['subjects']), np.array(rows['paths']), np.array(rows['frames'], np.int64),
                       {'skipped': int(skipped), 'size': size, 'video_every': video_every},
                       np.stack(rows['points']))


def label_faces(data: FaceDataset, teacher: SoftLabeller, progress: Progress = None) -> npt.NDArray[np.float32]:
    """(M, 7) float32 soft labels of `teacher` (an `attune.expression.teacher.ExpressionTeacher`: anything
    with `soft_labels(rgb, landmarks)`) for every face of `data`, from its file and stored raw landmarks.
    A face the teacher cannot label (unreadable file, teacher refuses) gets NaN.

    Raises:
        ValueError: `data` has no raw landmarks (made by an older version).
    """
    if data.points is None:
        raise ValueError('these faces have no raw landmarks stored; extract them again')
    points = data.points
    soft = np.full((len(data), len(EMOTIONS)), np.nan, np.float32)
    by_path: dict[str, list[int]] = defaultdict(list)
    for index, path in enumerate(data.paths):
        by_path[str(path)].append(index)

    def label(index: int, rgb: npt.NDArray[Any]) -> None:
        with contextlib.suppress(ValueError):  # the teacher refuses the face: it stays NaN
            soft[index] = np.asarray(teacher.soft_labels(rgb, points[index]), np.float32)

    for n, (path, indices) in enumerate(sorted(by_path.items())):  # an image has one face, a video many
        if Path(path).suffix.lower() not in VIDEO_SUFFIXES:
            rgb = _read_rgb(path)
            if rgb is not None:
                label(indices[0], rgb)
        else:
            by_frame = {int(data.frames[i]): i for i in indices}
            for frame, rgb in _video_frames(path, by_frame.__contains__):
                label(by_frame[frame], rgb)
        if progress is not None and (n + 1) % 500 == 0:
            progress(f'teacher: {n + 1}/{len(by_path)} files')
    return soft


def build_dataset(sources: Iterable[SourceFile], teacher: SoftLabeller, *, video_every: int = 3,
                  size: int = STORE_SIZE, progress: Progress = None) -> FaceDataset:
    """`extract_faces`, then `label_faces` with `teacher`; faces the teacher could not label are dropped."""
    data = extract_faces(sources, video_every=video_every, size=size, progress=progress)
    soft = label_faces(data, teacher, progress)
    labelled = np.isfinite(soft).all(axis=1)
    data = data.with_soft(soft)
    if not labelled.all():
        data = data.subset(labelled)
        data.info['skipped'] = data.info.get('skipped', 0) + int((~labelled).sum())
    return data
