"""attune's own expression model: a small network over the per-face features (no rclpy, no torch).

Input (`head_features`, HEAD_FEATURE_SIZE = 351 values): the AU intensities (17), the AU measures
relative to the population neutral face (15, canonical centimetres), the FER CNN's embedding (128)
and its log-probabilities (7), both averaged over the crop and its mirror image
(FerCnn.with_mirror), and the aligned shape of lips, eyes and brows (184;
attune.expression.shape). Output: logits over EMOTIONS. Trained by `attune train expression`
(attune.models.training.expression_head_training) on ../shared/data/faces with person-wise splits; model
card: src/attune/models/resources/expression_head.md.

Per-person calibration works on the logits: with a person's neutral reference logits r (the median
logits of frames known or judged to be that person's neutral face; attune.expression.calibration),
the calibrated decision is the argmax of z - r + margin * e_neutral: the person's own neutral face
reads neutral (by `margin`, stored in the ONNX metadata and chosen by person-wise cross-validation),
and an expression wins when its logit rose more than neutral's (plus the margin) since that neutral
face. The probabilities are the same scores, sharpened so that the neutral face itself reads
neutral with probability REST_NEUTRAL (`calibrated`). A resting face
the model reads as slightly sad or happy no longer biases the result.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS
from attune.errors import ModelFileError
from attune.expression.action_units import MEASURES, population_reference
from attune.expression.shape import SHAPE_SIZE, landmark_shape
from attune.inference import onnx_session
from attune.resources import package_data

if TYPE_CHECKING:
    from attune.expression.dataset import Features

DEFAULT_MODEL = 'expression_head.onnx'
#: Calibrated probability of neutral for a face exactly at its own neutral reference.
REST_NEUTRAL = 0.75
#: Smallest calibration margin used (logits); 0 would make the person's neutral face a tie.
MIN_MARGIN = 0.05
HEAD_FEATURE_SIZE = 17 + len(MEASURES) + 128 + len(EMOTIONS) + SHAPE_SIZE


@cache
def _population() -> npt.NDArray[Any]:
    return population_reference().astype(np.float32)


def head_features(au: npt.NDArray[Any], measures: npt.NDArray[Any], embedding: npt.NDArray[Any],
                  cnn_probabilities: npt.NDArray[Any], shape: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """(..., HEAD_FEATURE_SIZE) float32 model input from (..., 17) AUs, (..., 15) measures,
    (..., 128) CNN embedding and (..., 7) CNN probabilities (EMOTIONS order; both the mean over the
    crop and its mirror image, see mirror_mean) and (..., SHAPE_SIZE) landmark shape."""
    au = np.asarray(au, np.float32)
    delta = np.asarray(measures, np.float32) - _population()
    log_p = np.log(np.asarray(cnn_probabilities, np.float32) + 1e-4)
    parts = [au, delta, np.asarray(embedding, np.float32), log_p, np.asarray(shape, np.float32)]
    out: npt.NDArray[Any] = np.concatenate(parts, axis=-1).astype(np.float32)
    return out


def mirror_mean(embedding: npt.NDArray[Any], probabilities: npt.NDArray[Any], mirror_embedding: npt.NDArray[Any],
                mirror_probabilities: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The CNN embedding and probabilities the head reads: the means over a crop and its mirror image."""
    return ((np.asarray(embedding, np.float32) + mirror_embedding) / 2,
            (np.asarray(probabilities, np.float32) + mirror_probabilities) / 2)


def head_inputs(features: Features) -> npt.NDArray[Any]:
    """(N, HEAD_FEATURE_SIZE) head inputs of every row of a photo set's features (rows with a face)."""
    shape = np.stack([landmark_shape(p, int(w), int(h)) for p, (w, h) in zip(features.landmarks, features.size)])
    embedding, probabilities = mirror_mean(features.embedding, features.cnn_probabilities,
                                           features.mirror_embedding, features.mirror_probabilities)
    return head_features(features.au, features.measures, embedding, probabilities, shape)


def softmax(logits: npt.NDArray[Any]) -> npt.NDArray[Any]:
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    out: npt.NDArray[Any] = (z / z.sum(axis=-1, keepdims=True)).astype(np.float32)
    return out


def default_model_path() -> Path:
    return package_data('models', 'resources', DEFAULT_MODEL)


class ExpressionHead:
    """onnxruntime runner of the expression head.

    Args:
        path: the ONNX file (default: the shipped expression_head.onnx).
        threads: onnxruntime intra-op threads.

    Raises:
        ModelFileError: missing file, or not an expression head (inputs, outputs or metadata differ).
    """

    def __init__(self, path: Path | str | None = None, threads: int = 1) -> None:
        self.path = Path(path) if path else default_model_path()
        self._session = onnx_session(self.path, threads=threads, what='expression head model',
                                     missing_hint='`attune train expression` makes it')
        inputs = self._session.get_inputs()
        if [i.name for i in inputs] != ['features'] or inputs[0].shape[-1] != HEAD_FEATURE_SIZE:
            raise ModelFileError(f'{self.path} is not an expression head (expects input features '
                                 f'(N, {HEAD_FEATURE_SIZE}))')
        meta = self._session.get_modelmeta().custom_metadata_map
        try:
            self.labels = tuple(json.loads(meta['labels']))
            self.margin = float(json.loads(meta['calibration_margin']))
        except (KeyError, ValueError, TypeError) as exc:
            raise ModelFileError(f'{self.path} lacks the expression head metadata ({exc})') from None
        if self.labels != EMOTIONS:
            raise ModelFileError(f'{self.path}: labels {self.labels} differ from {EMOTIONS}')

    def metadata(self) -> dict[str, str]:
        """The ONNX metadata (labels, calibration_margin, config, cross_validation; JSON strings)."""
        return dict(self._session.get_modelmeta().custom_metadata_map)

    def logits(self, features: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """(N, 7) logits over EMOTIONS for (N, HEAD_FEATURE_SIZE) features."""
        x = np.ascontiguousarray(np.atleast_2d(features), np.float32)
        out: npt.NDArray[Any] = self._session.run(['logits'], {'features': x})[0]
        return out

    def probabilities(self, features: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return softmax(self.logits(features))

    def calibrated(self, logits: npt.NDArray[Any], reference_logits: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Probabilities relative to a person's neutral reference logits (see the module docstring).

        The label is the argmax of z - r + margin * e_neutral (what cross-validation chose); the
        probabilities are softmax((z - r) / T + c e_neutral) with c = margin / T set so that the person's
        own neutral face reads neutral with probability REST_NEUTRAL (0.75), not a near-uniform
        distribution (whose valence and arousal would be the circumplex's average, not neutral's).
        """
        margin = max(self.margin, MIN_MARGIN)
        c = float(np.log(REST_NEUTRAL / (1 - REST_NEUTRAL) * (len(EMOTIONS) - 1)))
        shift = np.zeros(len(EMOTIONS), np.float32)
        shift[0] = c
        return softmax((np.asarray(logits) - np.asarray(reference_logits)) * (c / margin) + shift)
