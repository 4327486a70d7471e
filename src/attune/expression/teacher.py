"""The expression teacher: soft labels over EMOTIONS for other models to learn from (no rclpy).

By default the labels are attune's expression head (AUs + FER CNN features, trained with person-wise
splits on ../shared/data/faces; src/attune/models/resources/expression_head.md); `weights` can mix in the
EMFACS rules and the FER CNN alone.

Later models (the spiking FER, the ASD emotion network) train on the soft labels of this ensemble,
as the ASD research labels its data with an ensemble of two off-the-shelf recognizers. The API:

    from attune.expression.teacher import EMOTIONS, ExpressionTeacher

    with ExpressionTeacher() as teacher:                          # the expression head (shipped models)
        p = teacher.soft_labels(rgb, landmarks)                   # (7,) float32, EMOTIONS order, sums to 1
        for item in teacher.label_images(['a.jpg', 'b.png']):     # MediaPipe finds the faces
            item.path, item.face_index, item.box, item.soft_labels
        for item in teacher.label_video('clip.mp4', every=2):     # landmark tracking between frames
            item.frame, item.stamp_s, item.soft_labels

EMOTIONS = ('neutral', 'happy', 'sad', 'surprise', 'fear', 'disgust', 'anger'); contempt, which only
the rules produce, is left out and the rest renormalized. `analyze()` returns the full
FaceExpression (AUs, every source's distribution, the CNN embedding).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.expression.analyzer import AnalyzerOptions, ExpressionAnalyzer, FaceExpression
from attune.geometry import BoundingBox

if TYPE_CHECKING:
    from attune.face import FaceAnalyzer

__all__ = ['EMOTIONS', 'TEACHER_WEIGHTS', 'ExpressionTeacher', 'TeacherLabel']

#: The teacher's default ensemble weights (the expression node's defaults too, before lessons):
#: attune's expression head, trained on AUs + CNN features (src/attune/models/resources/expression_head.md).
TEACHER_WEIGHTS = {'rules': 0.0, 'cnn': 0.0, 'head': 1.0}


@dataclass(frozen=True)
class TeacherLabel:
    """Soft labels of one face found in a file: path, frame (0 for images), stamp in seconds
    (video time; 0 for images), face index (left to right), box, soft labels over EMOTIONS."""

    path: Path
    frame: int
    stamp_s: float
    face_index: int
    box: BoundingBox
    soft_labels: npt.NDArray[Any]
    expression: FaceExpression


class ExpressionTeacher:
    """Soft expression labels from an RGB image and FaceMesh landmarks (the expression head by default).

    Args:
        weights: ensemble weight per source ('rules', 'cnn', 'head'); default TEACHER_WEIGHTS.
        model_path: the CNN's ONNX file (default: the shipped one).
        head_path: the expression head's ONNX file (default: the shipped one).
        threads: onnxruntime threads.

    Raises:
        ModelFileError: the CNN model is missing or broken.
    """

    def __init__(self, weights: dict[str, float] | None = None, model_path: str | Path = '',
                 threads: int = 1, head_path: str | Path = '') -> None:
        self.weights = dict(TEACHER_WEIGHTS if weights is None else weights)
        self._analyzer = ExpressionAnalyzer(AnalyzerOptions(weights=self.weights, model_path=str(model_path),
                                                            head_path=str(head_path), threads=threads))
        self._faces: FaceAnalyzer | None = None

    def __enter__(self) -> ExpressionTeacher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._faces is not None:
            self._faces.close()
            self._faces = None

    def analyze(self, rgb: npt.NDArray[Any], landmarks: npt.NDArray[Any]) -> FaceExpression:
        """Everything about one face. Raises ValueError (CropError) for unusable landmarks."""
        return self._analyzer.analyze_one(rgb, landmarks)

    def soft_labels(self, rgb: npt.NDArray[Any], landmarks: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """(7,) float32 probabilities over EMOTIONS for one face.

        Args:
            rgb: (H, W, 3) uint8 RGB image (grey (H, W) works too).
            landmarks: (478 or 468, 3) FaceMesh landmarks, x and y normalized by W and H.

        Raises:
            ValueError: NaN landmarks, too few of them, or a face crop of zero size.
        """
        return self.analyze(rgb, landmarks).ensemble.restricted(EMOTIONS)

    def _analyzer_for(self, static: bool) -> FaceAnalyzer:
        from attune.face import FaceAnalyzer, FaceAnalyzerOptions

        self.close()
        self._faces = FaceAnalyzer(FaceAnalyzerOptions(static_images=static, max_faces=4))
        return self._faces

    def _label_frame(self, rgb: npt.NDArray[Any], path: Path, frame: int, stamp_s: float) -> Iterator[TeacherLabel]:
        if self._faces is None:
            raise RuntimeError('_label_frame before _analyzer_for')  # a bug in this module, not bad input
        faces = [(f, f.landmarks) for f in self._faces.process(rgb) if f.landmarks is not None]
        for index, (face, landmarks) in enumerate(faces):
            try:
                expression = self.analyze(rgb, landmarks)
            except ValueError:
                continue
            yield TeacherLabel(path, frame, stamp_s, index, face.box,
                               expression.ensemble.restricted(EMOTIONS), expression)

    def label_images(self, paths: Iterable[Path | str]) -> Iterator[TeacherLabel]:
        """Soft labels of every face in every image file (unreadable files are skipped)."""
        import cv2

        self._analyzer_for(static=True)
        for path in map(Path, paths):
            bgr = cv2.imread(str(path))
            if bgr is None:
                continue
            yield from self._label_frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), path, 0, 0.0)

    def label_folder(self, folder: Path | str, patterns: tuple[str, ...] = ('*.jpg', '*.jpeg', '*.png')
                     ) -> Iterator[TeacherLabel]:
        """label_images over a folder's image files (recursively, sorted)."""
        folder = Path(folder)
        files = sorted({p for pattern in patterns for p in folder.rglob(pattern)})
        return self.label_images(files)

    def label_video(self, path: Path | str, every: int = 1) -> Iterator[TeacherLabel]:
        """Soft labels of every face in every `every`-th frame of a video file."""
        import cv2

        path = Path(path)
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            raise ValueError(f'cannot open video {path}')
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
        self._analyzer_for(static=False)
        frame = 0
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                if frame % every == 0:
                    yield from self._label_frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), path, frame, frame / fps)
                frame += 1
        finally:
            capture.release()
