"""Face detection and FaceMesh landmarks with MediaPipe's bundled models (mediapipe==0.10.21).

One `FaceAnalyzer.process(rgb)` call runs:
  1. the face detector (short range, faces within ~2 m, or full range, up to ~5 m) for boxes,
     scores and six keypoints;
  2. FaceMesh on the whole image (with MediaPipe's own landmark tracking between frames) for
     468 mesh + 10 iris landmarks per face;
  3. an association of mesh faces to detections (Hungarian on box IoU), and, for detections that
     FaceMesh's internal short-range detector missed (small, far faces the full-range detector
     finds), FaceMesh again on an enlarged crop around the detection.
Faces seen only by FaceMesh are kept, with confidence NaN: MediaPipe's landmark tracker follows
faces through frames where the detector drops them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from attune.errors import ConfigError
from attune.face.landmark_list import landmark_array
from attune.face.types import FaceObservation
from attune.geometry import BoundingBox
from attune.mediapipe_executor import on_calling_thread
from attune.model_files import loading, open_mediapipe_graph

DetectorModel = Literal['short_range', 'full_range']

_DETECTOR_FILES = {
    'short_range': 'modules/face_detection/face_detection_short_range.tflite',
    'full_range': 'modules/face_detection/face_detection_full_range_sparse.tflite',
}
_MESH_FILES = ('modules/face_landmark/face_landmark_with_attention.tflite',
               'modules/face_landmark/face_landmark.tflite')
_MATCH_IOU = 0.3
_CROP_SCALE = 1.8        # crop side relative to the detection box's longer side
_CROP_MIN_SIDE_PX = 192  # crops are upscaled to at least this, FaceMesh's detector needs ~20 px faces


@dataclass(frozen=True)
class FaceAnalyzerOptions:
    """Options of FaceAnalyzer (the face node exposes each as a ROS parameter).

    detector_model: 'short_range' (faces within ~2 m of the camera) or 'full_range' (~5 m).
    min_detection_confidence: detector score below which a detection is dropped.
    min_tracking_confidence: FaceMesh landmark-tracking confidence below which it re-detects.
    max_faces: the most faces FaceMesh follows at once.
    landmarks: run FaceMesh; when False only boxes, scores and keypoints are produced.
    refine_landmarks: 478 landmarks with iris refinement instead of 468.
    static_images: treat every image as unrelated (no landmark tracking between frames).
    """

    detector_model: DetectorModel = 'short_range'
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    max_faces: int = 4
    landmarks: bool = True
    refine_landmarks: bool = True
    static_images: bool = False

    def __post_init__(self) -> None:
        if self.detector_model not in _DETECTOR_FILES:
            raise ConfigError(f"detector_model must be 'short_range' or 'full_range', got {self.detector_model!r}")
        for name in ('min_detection_confidence', 'min_tracking_confidence'):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f'{name} must be in [0, 1], got {value}')
        if not 1 <= self.max_faces <= 20:
            raise ConfigError(f'max_faces must be in [1, 20], got {self.max_faces}')


def mediapipe_model_paths(options: FaceAnalyzerOptions) -> list[Path]:
    """The model files these options need, inside the installed mediapipe package."""
    import mediapipe

    root = Path(mediapipe.__file__).resolve().parent
    files = [_DETECTOR_FILES[options.detector_model]]
    if options.landmarks:
        files.append(_MESH_FILES[0] if options.refine_landmarks else _MESH_FILES[1])
    return [root / f for f in files]


class FaceAnalyzer:
    """MediaPipe face detection + FaceMesh. Use as a context manager or call close().

    Raises:
        ModelFileError: a model file MediaPipe needs is missing or cannot be loaded (names the files).
    """

    def __init__(self, options: FaceAnalyzerOptions | None = None) -> None:
        self.options = options or FaceAnalyzerOptions()
        o = self.options
        with loading('MediaPipe face model', *mediapipe_model_paths(o),
                     missing_hint='attune needs mediapipe==0.10.21, the last release whose wheel carries its models'):
            from mediapipe.python.solutions import face_detection, face_mesh

            self._detector = on_calling_thread(face_detection.FaceDetection)(
                model_selection=0 if o.detector_model == 'short_range' else 1,
                min_detection_confidence=o.min_detection_confidence)
            self._mesh = None
            self._crop_mesh = None
            if o.landmarks:
                self._mesh = on_calling_thread(face_mesh.FaceMesh)(
                    static_image_mode=o.static_images, max_num_faces=o.max_faces,
                    refine_landmarks=o.refine_landmarks,
                    min_detection_confidence=o.min_detection_confidence,
                    min_tracking_confidence=o.min_tracking_confidence)
            for graph in (self._detector, self._mesh):
                if graph is not None:
                    open_mediapipe_graph(graph)

    def __enter__(self) -> FaceAnalyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _crop_graph(self) -> Any:
        """The FaceMesh graph for crops, built on first use: it is only needed for faces the detector
        finds and the whole-image FaceMesh misses (small, far faces), and it holds about 28 MB of
        resident memory. Its model file is the whole-image FaceMesh's, checked when that was built."""
        if self._crop_mesh is None:
            from mediapipe.python.solutions import face_mesh

            o = self.options
            self._crop_mesh = on_calling_thread(face_mesh.FaceMesh)(
                static_image_mode=True, max_num_faces=1, refine_landmarks=o.refine_landmarks,
                min_detection_confidence=o.min_detection_confidence)
        return self._crop_mesh

    def close(self) -> None:
        for graph in (self._detector, self._mesh, self._crop_mesh):
            if graph is not None:
                graph.close()
        self._detector = self._mesh = self._crop_mesh = None

    def process(self, rgb: npt.NDArray[Any]) -> tuple[FaceObservation, ...]:
        """All faces in one RGB uint8 image (H, W, 3), ordered left to right."""
        if self._detector is None:
            raise RuntimeError('FaceAnalyzer is closed')
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f'expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}')
        rgb = np.ascontiguousarray(rgb)
        detections = self._detect(rgb)
        meshes = self._landmarks(rgb)
        faces = self._associate(rgb, detections, meshes)
        return tuple(sorted(faces, key=lambda f: f.box.center[0]))

    def _detect(self, rgb: npt.NDArray[Any]) -> list[tuple[BoundingBox, float, npt.NDArray[Any]]]:
        result = self._detector.process(rgb)
        found = []
        for detection in result.detections or ():
            box = detection.location_data.relative_bounding_box
            keypoints = np.array([(k.x, k.y) for k in detection.location_data.relative_keypoints],
                                 dtype=np.float32)
            found.append((BoundingBox(box.xmin, box.ymin, box.xmin + box.width, box.ymin + box.height),
                          float(detection.score[0]), keypoints))
        return found

    def _landmarks(self, rgb: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        if self._mesh is None:  # landmarks switched off
            return []
        result = self._mesh.process(rgb)
        return [landmark_array(face) for face in result.multi_face_landmarks or ()]

    def _associate(self, rgb: npt.NDArray[Any], detections: list[tuple[BoundingBox, float, npt.NDArray[Any]]],
                   meshes: list[npt.NDArray[Any]]) -> list[FaceObservation]:
        mesh_boxes = [BoundingBox.from_points(m[:468]) for m in meshes]
        pairs: list[tuple[int, int]] = []
        if detections and meshes:
            iou = np.array([[d[0].iou(b) for b in mesh_boxes] for d in detections])
            rows, cols = linear_sum_assignment(-iou)
            pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if iou[r, c] >= _MATCH_IOU]
        faces = []
        matched_dets = {r for r, _ in pairs}
        matched_meshes = {c for _, c in pairs}
        for r, c in pairs:
            box, score, keypoints = detections[r]
            faces.append(FaceObservation(box, score, meshes[c], keypoints))
        for r, (box, score, keypoints) in enumerate(detections):
            if r in matched_dets:
                continue
            landmarks = self._landmarks_in_crop(rgb, box)
            faces.append(FaceObservation(box, score, landmarks, keypoints))
        for c, landmarks in enumerate(meshes):
            if c not in matched_meshes:
                faces.append(FaceObservation(mesh_boxes[c], math.nan, landmarks, None))
        return faces

    def _landmarks_in_crop(self, rgb: npt.NDArray[Any], box: BoundingBox) -> npt.NDArray[Any] | None:
        """FaceMesh on a square crop around a detection; landmarks mapped back to the full image (None
        with landmarks switched off)."""
        if self._mesh is None:  # landmarks switched off
            return None
        import cv2

        height, width = rgb.shape[:2]
        cx, cy = box.center[0] * width, box.center[1] * height
        side = _CROP_SCALE * max(box.width * width, box.height * height)
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        x1, y1 = int(round(cx + side / 2)), int(round(cy + side / 2))
        crop: npt.NDArray[Any] = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)  # zero padding outside the image
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if sx1 <= sx0 or sy1 <= sy0:
            return None
        crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        crop_side = crop.shape[1]
        if crop_side < _CROP_MIN_SIDE_PX:
            crop = cv2.resize(crop, (_CROP_MIN_SIDE_PX, _CROP_MIN_SIDE_PX), interpolation=cv2.INTER_LINEAR)
        result = self._crop_graph().process(crop)
        if not result.multi_face_landmarks:
            return None
        local = landmark_array(result.multi_face_landmarks[0])
        mapped = np.empty_like(local)
        mapped[:, 0] = (x0 + local[:, 0] * crop_side) / width
        mapped[:, 1] = (y0 + local[:, 1] * (y1 - y0)) / height
        mapped[:, 2] = local[:, 2] * crop_side / width
        return mapped

