"""Per-face expression analysis: AUs -> rules, face crop -> CNN, [AUs, CNN features] -> head and learner,
and their ensemble (by default the head alone, attune's trained model; see expression_head.md).

The one object the expression node, the teacher and the benchmark share (no rclpy).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.emotions import EMOTIONS, RULE_LABELS
from attune.errors import ConfigError
from attune.expression.action_units import ActionUnitEstimator, AuResult
from attune.expression.calibration import CalibrationOptions, NeutralCalibrator
from attune.expression.cnn import CnnOutput, FerCnn, prepare_crop
from attune.expression.ensemble import Distribution, combine
from attune.expression.head import ExpressionHead, head_features, mirror_mean, softmax
from attune.expression.learner import ContinualLearner
from attune.expression.rules import classify
from attune.expression.shape import shape_of_aligned
from attune.model_files import loading

SOURCES = ('rules', 'cnn', 'head', 'learner')
#: Default ensemble weights: the head (trained on AUs + CNN features) and, once taught, the learner.
DEFAULT_WEIGHTS = {'rules': 0.0, 'cnn': 0.0, 'head': 1.0, 'learner': 1.0}
#: Size of the learner's feature vector: AU intensities, CNN embedding, CNN log-probabilities.
FEATURE_SIZE = 17 + 128 + 7


def learner_features(au: npt.NDArray[Any], embedding: npt.NDArray[Any],
                     cnn_probabilities: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """The continual learner's input: [AU intensities (17), CNN embedding (128), log CNN probabilities (7)].

    The log-probabilities are a linear read-out of the embedding, but diagonal Gaussians cannot
    represent that direction; giving it explicitly raises cross-validated muxspace macro-F1 from
    0.66 to 0.70 (bench/expression_accuracy.py).
    """
    log_p = np.log(np.asarray(cnn_probabilities, np.float64) + 1e-4)
    out: npt.NDArray[np.float32] = np.concatenate([au, embedding, log_p]).astype(np.float32)
    return out


@dataclass(frozen=True)
class AnalyzerOptions:
    """cnn: run the CNN (needs the image; the head and learner need it too). weights: ensemble weight
    per source (0 leaves it out). calibration: per-track neutral baseline for the AUs (the rules'
    input; the head always reads population-referenced AUs). model_path, head_path: ONNX files
    ('' = shipped). head: run the head (with the CNN). threads: onnxruntime threads.
    learner_min_classes: the learner joins the ensemble once it knows this many classes.
    person_calibration: per-person neutral calibration of the head
    (attune.expression.calibration; None = off)."""

    cnn: bool = True
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    calibration: bool = False
    model_path: str = ''
    head_path: str = ''
    head: bool = True
    threads: int = 1
    learner_min_classes: int = 2
    person_calibration: CalibrationOptions | None = None

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(SOURCES)
        if unknown or any(w < 0 for w in self.weights.values()):
            raise ConfigError(f'ensemble weights must be >= 0 and name only {SOURCES}, got {self.weights}')


@dataclass(frozen=True)
class FaceExpression:
    """Everything computed for one face.

    sources: each source's own Distribution ('rules' over RULE_LABELS, 'cnn' and 'head' over
    EMOTIONS, 'learner' over its learned labels), for the sources that ran.
    ensemble: the weighted pool of the sources. features: the learner's input vector
    (learner_features; None without the CNN). head_logits: the head's (7,) logits over EMOTIONS
    (None without the CNN). calibrated: the outputs ('head', and 'ensemble' when it pools the head)
    that are relative to this person's own neutral reference (per-person calibration).
    """

    track: str
    aus: AuResult
    sources: dict[str, Distribution]
    ensemble: Distribution
    valence: float
    arousal: float
    features: npt.NDArray[Any] | None = None
    head_logits: npt.NDArray[Any] | None = None
    calibrated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FaceInput:
    """One face to analyze: its track id and (N >= 468, 3) normalized FaceMesh landmarks.
    frontal: the head faces the camera (calibration learns only from frontal frames).
    key: the per-person calibration key ('' = the track id; 'person:<id>' once the face is identified)."""

    track: str
    landmarks: npt.NDArray[Any]
    frontal: bool = True
    key: str = ''


class ExpressionAnalyzer:
    """Analyzes the faces of one image at a time (one CNN batch per image). Not thread-safe.

    Raises (constructor):
        ModelFileError: the CNN model is missing or broken (when options.cnn).
    """

    def __init__(self, options: AnalyzerOptions | None = None, learner: ContinualLearner | None = None) -> None:
        self.options = options or AnalyzerOptions()
        self.aus = ActionUnitEstimator(calibration=self.options.calibration)
        self.cnn = FerCnn(self.options.model_path or None, threads=self.options.threads) if self.options.cnn else None
        self.head = (ExpressionHead(self.options.head_path or None, threads=self.options.threads)
                     if self.options.cnn and self.options.head else None)
        self.learner = learner
        calibration = self.options.person_calibration
        self.calibrator = NeutralCalibrator(calibration) if calibration is not None and self.head else None

    def set_weights(self, weights: dict[str, float]) -> None:
        self.options = AnalyzerOptions(**{**self.options.__dict__, 'weights': dict(weights)})

    def analyze(self, image: npt.NDArray[Any] | None, faces: list[FaceInput], width: int,
                height: int, stamp_ns: int = 0) -> list[FaceExpression | ValueError]:
        """One result per face, in order; a face whose landmarks or crop are unusable gets the
        ValueError (CropError) saying why instead, and the others are still analyzed.

        image: the RGB (H, W, 3) or grey (H, W) uint8 image the landmarks refer to; None runs
        without the CNN (and the head and learner). stamp_ns: the image time (calibration warm-up).
        """
        aus: list[AuResult | ValueError] = []
        crops: list[npt.NDArray[Any]] = []
        crop_of: dict[int, int] = {}
        crop_aus: list[AuResult] = []  # the AUs of each crop's face, in crop order
        cnn, head = self.cnn, self.head
        cnn_image = image if cnn is not None else None
        for i, face in enumerate(faces):
            try:
                estimated = self.aus.estimate(face.landmarks, width, height, face.track)
                if cnn_image is not None:
                    crop = prepare_crop(cnn_image, face.landmarks)
                    crop_of[i] = len(crops)
                    crops.append(crop)
                    crop_aus.append(estimated)
                aus.append(estimated)
            except ValueError as exc:  # CropError is a ValueError
                aus.append(exc)
        cnn_out: CnnOutput | None = None
        mirrored: CnnOutput | None = None
        if crops and cnn is not None:
            if head is not None:  # the head reads the mean over each crop and its mirror image
                cnn_out, mirrored = cnn.with_mirror(np.stack(crops))
            else:
                cnn_out = cnn(np.stack(crops))
        head_logits = None
        if cnn_out is not None and mirrored is not None and head is not None:
            embedding, probabilities = mirror_mean(cnn_out.embedding, cnn_out.probabilities,
                                                   mirrored.embedding, mirrored.probabilities)
            x = np.stack([head_features(self.aus.population_intensities(au), au.measures,
                                        embedding[j], probabilities[j], shape_of_aligned(au.aligned))
                          for j, au in enumerate(crop_aus)])
            head_logits = head.logits(x)
        results: list[FaceExpression | ValueError] = []
        for i, (face, au) in enumerate(zip(faces, aus)):
            if isinstance(au, ValueError):
                results.append(au)
                continue
            rules = classify(au.intensities)
            sources = {'rules': Distribution(RULE_LABELS, rules.probabilities)}
            features = logits = None
            calibrated = False
            if cnn_out is not None and i in crop_of:
                j = crop_of[i]
                sources['cnn'] = Distribution(EMOTIONS, cnn_out.probabilities[j])
                if head_logits is not None:
                    logits = head_logits[j]
                    probabilities, calibrated = self._head_output(face, logits, au, stamp_ns)
                    sources['head'] = Distribution(EMOTIONS, probabilities)
                features = learner_features(au.intensities, cnn_out.embedding[j], cnn_out.probabilities[j])
                learner = self.learner
                if (learner is not None and len(learner.labels) >= self.options.learner_min_classes
                        and learner.feature_size == features.size):
                    sources['learner'] = Distribution(learner.labels,
                                                      learner.predict_proba(features[None])[0].astype(np.float32))
            weights = {k: v for k, v in self.options.weights.items() if k in sources}
            if not any(v > 0 for v in weights.values()):
                weights = {'rules': 1.0}
            ensemble = combine(sources, weights)
            valence, arousal = ensemble.valence_arousal()
            outputs = frozenset(('head', 'ensemble') if weights.get('head', 0.0) > 0 else ('head',))
            results.append(FaceExpression(face.track, au, sources, ensemble, valence, arousal, features, logits,
                                          outputs if calibrated else frozenset()))
        return results

    def _head_output(self, face: FaceInput, logits: npt.NDArray[Any], au: AuResult,
                     stamp_ns: int) -> tuple[npt.NDArray[Any], bool]:
        """The head's probabilities, calibrated to the face's key when it has a neutral reference."""
        if self.calibrator is None or self.head is None:
            return softmax(logits), False
        key = face.key or face.track
        self.calibrator.observe(key, stamp_ns, logits, self.aus.population_intensities(au), face.frontal)
        reference = self.calibrator.reference(key)
        if reference is None:
            return softmax(logits), False
        return self.head.calibrated(logits, reference), True

    def analyze_one(self, image: npt.NDArray[Any] | None, landmarks: npt.NDArray[Any], track: str = '',
                    size: tuple[int, int] | None = None) -> FaceExpression:
        """One face; raises the ValueError (CropError) when it cannot be analyzed.

        size: (width, height) of the image the landmarks refer to; needed only when image is None.
        """
        if image is not None:
            height, width = image.shape[:2]
        elif size is not None:
            width, height = size
        else:
            raise ValueError('analyze_one needs the image or its size')
        (result,) = self.analyze(image, [FaceInput(track, landmarks)], width, height)
        if isinstance(result, ValueError):
            raise result
        return result


def load_learner(path: str | Path) -> ContinualLearner | None:
    """A learner file, or None if it does not exist yet."""
    path = Path(path)
    if not path.is_file():
        return None
    with loading('expression learner', path):
        return ContinualLearner.load(path)
