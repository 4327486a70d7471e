"""Faces and teacher labels of the spiking FER data: MediaPipe boxes and landmarks of photos, the
frame-based expression teacher's soft labels of photos and video frames, with on-disk caches.

Caches (a folder the caller names, outside the repository; nothing is cached when it is None):
faces (box + FaceMesh landmarks per photo, keyed by path, size and modification time) do not
depend on the teacher; teacher labels are keyed by `teacher_fingerprint()`, so a changed teacher
(its code or its models) relabels the data instead of reusing stale labels.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.file_digest import content_digest
from attune.geometry import BoundingBox

Log = Callable[[str], object]


@dataclass(frozen=True)
class FaceRecord:
    """The largest face of a photo: detector box and (478, 3) FaceMesh landmarks (None if not found)."""

    box: BoundingBox
    landmarks: npt.NDArray[Any] | None


def teacher_fingerprint() -> str:
    """A short hash of the expression teacher: its code (attune/expression) and its models
    (models/expression_*.onnx, models/fer_*.onnx)."""
    import attune

    root = Path(attune.__file__).resolve().parent
    files = sorted((root / 'expression').rglob('*.py')) + sorted(
        p for p in (root / 'models' / 'resources').glob('*.onnx') if p.name.startswith(('expression', 'fer_')))
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()[:12]


def _file_key(p: Path) -> str:
    return f'{p.name}:{content_digest(p)}'


def read_rgb(path: Path) -> npt.NDArray[Any] | None:
    bgr = cv2.imread(str(path))
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def find_faces(paths: list[Path], cache: Path | None, log: Log = print) -> dict[Path, FaceRecord | None]:
    """The largest face of each photo (None when no face was found), cached in the .npz `cache`."""
    known: dict[str, tuple[npt.NDArray[Any], npt.NDArray[Any]]] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            known = {k: (b, lm) for k, b, lm in zip(z['keys'].tolist(), z['boxes'], z['landmarks'])}
    keys = {p: _file_key(p) for p in paths}
    missing = [p for p in paths if keys[p] not in known]
    if missing:
        from attune.face import FaceAnalyzer, FaceAnalyzerOptions

        log(f'finding faces in {len(missing)} photos')
        nan_box, nan_marks = np.full(4, np.nan, np.float32), np.full((478, 3), np.nan, np.float32)
        with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=4)) as analyzer:
            for p in missing:
                rgb = read_rgb(p)
                faces = analyzer.process(rgb) if rgb is not None else ()
                best = max(faces, key=lambda f: f.box.area, default=None)
                if best is None:
                    known[keys[p]] = (nan_box, nan_marks)
                    continue
                b = best.box
                marks = nan_marks if best.landmarks is None or len(best.landmarks) != 478 else best.landmarks
                known[keys[p]] = (np.array([b.xmin, b.ymin, b.xmax, b.ymax], np.float32),
                                  np.asarray(marks, np.float32))
        if cache is not None:
            names = sorted(known)
            np.savez(cache, keys=np.array(names), boxes=np.stack([known[k][0] for k in names]),
                     landmarks=np.stack([known[k][1] for k in names]))
    out: dict[Path, FaceRecord | None] = {}
    for p in paths:
        box, marks = known[keys[p]]
        out[p] = None if np.isnan(box[0]) else FaceRecord(
            BoundingBox(*map(float, box)), None if np.isnan(marks[0, 0]) else marks)
    return out


def detect_boxes(paths: list[Path], cache: Path | None, log: Log = print) -> dict[Path, BoundingBox | None]:
    """The largest face box of each photo (None when no face); see find_faces."""
    return {p: (None if r is None else r.box) for p, r in find_faces(paths, cache, log).items()}


def photo_teacher_labels(paths: list[Path], faces: dict[Path, FaceRecord | None], cache: Path | None,
                         log: Log = print) -> dict[Path, npt.NDArray[Any] | None]:
    """The teacher's (7,) soft labels of each photo's largest face (None without landmarks), cached
    in the .npz `cache` (whose name should carry teacher_fingerprint())."""
    known: dict[str, npt.NDArray[Any]] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            known = dict(zip(z['keys'].tolist(), z['labels']))
    keys = {p: _file_key(p) for p in paths}
    missing = {p: landmarks for p in paths if keys[p] not in known and (record := faces.get(p)) is not None
               and (landmarks := record.landmarks) is not None}
    if missing:
        from attune.expression.teacher import ExpressionTeacher

        log(f'teacher labels for {len(missing)} photos')
        with ExpressionTeacher() as teacher:
            for p, landmarks in missing.items():
                rgb = read_rgb(p)
                try:
                    if rgb is None:
                        raise ValueError(f'{p} cannot be read')
                    known[keys[p]] = teacher.soft_labels(rgb, landmarks)
                except ValueError:
                    known[keys[p]] = np.full(len(EMOTIONS), np.nan, np.float32)
        if cache is not None:
            names = sorted(known)
            np.savez(cache, keys=np.array(names), labels=np.stack([known[k] for k in names]))
    out: dict[Path, npt.NDArray[Any] | None] = {}
    for p in paths:
        label = known.get(keys[p])
        out[p] = None if label is None or np.isnan(label[0]) else label.astype(np.float32)
    return out


def teacher_track(path: Path, cache: Path | None, log: Log = print
                  ) -> tuple[float, list[BoundingBox | None], npt.NDArray[Any]]:
    """(fps, box per frame or None, (frames, 7) soft labels) of the largest face in a video, from the
    expression teacher (frames without a face get the previous labels), cached as .npz."""
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            cached = [None if np.isnan(b[0]) else BoundingBox(*map(float, b)) for b in z['boxes']]
            return float(z['fps']), cached, z['labels']
    from attune.expression.teacher import ExpressionTeacher
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 30.0)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    log(f'teacher labels for {path.name} ({count} frames)')
    boxes: list[BoundingBox | None] = [None] * count
    labels = np.full((count, len(EMOTIONS)), np.nan, np.float32)
    with ExpressionTeacher() as teacher:
        for item in teacher.label_video(path, every=1):
            if item.frame >= count:
                boxes += [None] * (item.frame + 1 - count)
                labels = np.vstack([labels, np.full((item.frame + 1 - count, len(EMOTIONS)), np.nan, np.float32)])
                count = item.frame + 1
            old = boxes[item.frame]
            if old is None or item.box.area > old.area:
                boxes[item.frame] = item.box
                labels[item.frame] = item.soft_labels
    last = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS), np.float32)
    for i in range(count):
        if np.isnan(labels[i, 0]):
            labels[i] = last
        last = labels[i]
    if cache is not None:
        arr = np.array([[np.nan] * 4 if b is None else [b.xmin, b.ymin, b.xmax, b.ymax] for b in boxes], np.float32)
        np.savez(cache, fps=fps, boxes=arr, labels=labels)
    return fps, boxes, labels


def read_video_gray(path: Path) -> list[npt.NDArray[Any]]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    finally:
        capture.release()
    return frames
