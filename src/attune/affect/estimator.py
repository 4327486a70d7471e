"""Per-face affect from frames: which faces are due, the ONNX model, per-child calibration and smoothing (no rclpy).

The ASD emotion node calls `due()` for every Faces message (cheap: no image needed) and `estimate()`
with the image for the faces that are due; everything stateful (rate per track, calibration,
smoothing) lives here so it can be tested without ROS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attune.affect.calibration import Baseline, NeutralCalibration
from attune.affect.model import AsdEmotionModel
from attune.affect.smoothing import TrackSmoother
from attune.emotions import EMOTIONS, valence_arousal
from attune.errors import ConfigError
from attune.face.types import FaceFrame, TrackedFace

if TYPE_CHECKING:
    from attune.expression.teacher import ExpressionTeacher


@dataclass(frozen=True)
class EstimatorOptions:
    """rate_hz: most model runs per face track and second (by image stamps). smoothing_tau_s: time
    constant of the per-track average (0: none). max_abs_yaw_deg: faces turned further (yaw or
    pitch) are not classified. calibration_s: per-child neutral baseline collected over a track's first
    seconds (0: off). calibration_max_gain: largest correction per class. model_path: ONNX file
    ('' = shipped). threads: onnxruntime threads. teacher_fusion: pool the network's output with its
    teacher's where the model file carries the pool's settings (attune.affect.teacher_fusion); off: the
    network alone."""

    rate_hz: float = 5.0
    smoothing_tau_s: float = 0.5
    max_abs_yaw_deg: float = 60.0
    calibration_s: float = 5.0
    calibration_min_samples: int = 10
    calibration_max_gain: float = 4.0
    model_path: str = ''
    threads: int = 1
    teacher_fusion: bool = True

    def __post_init__(self) -> None:
        if not self.rate_hz > 0:
            raise ConfigError(f'rate_hz must be > 0, got {self.rate_hz}')


@dataclass(frozen=True)
class AffectEstimate:
    """One face's affect at one image: probabilities over EMOTIONS (calibrated, smoothed), the raw
    output before calibration and smoothing (the network's, pooled with its teacher's when the estimator
    pools), the dominant emotion, valence and arousal (circumplex, [-1, 1]), and the track's
    calibration state ('off', 'calibrating', 'calibrated')."""

    track: str
    stamp_ns: int
    probabilities: npt.NDArray[Any]
    raw: npt.NDArray[Any]
    dominant: str
    valence: float
    arousal: float
    calibration: str


@dataclass(frozen=True)
class SkippedFace:
    """A face that could not be classified, and why ('no_landmarks', 'turned_away', 'bad_input: ...')."""

    track: str
    reason: str


class AffectEstimator:
    """See the module docstring. Not thread-safe.

    Raises (constructor):
        ModelFileError: the model file is missing or is not an ASD emotion model.
    """

    def __init__(self, options: EstimatorOptions | None = None, model: AsdEmotionModel | None = None) -> None:
        self.options = options or EstimatorOptions()
        self.model = model or AsdEmotionModel(self.options.model_path or None, threads=self.options.threads)
        #: The pool with the teacher (None: the network alone) and the teacher it runs.
        self.fusion = self.model.info.teacher_fusion if self.options.teacher_fusion else None
        self._teacher: ExpressionTeacher | None = None
        if self.fusion is not None:
            from attune.expression.teacher import ExpressionTeacher

            self._teacher = ExpressionTeacher(threads=self.options.threads)
            reference = np.asarray(self.fusion.neutral_reference)
        else:
            reference = np.asarray(self.model.info.neutral_reference or np.full(len(EMOTIONS), 1 / len(EMOTIONS)))
        self.calibration = NeutralCalibration(reference, self.options.calibration_s,
                                              self.options.calibration_min_samples, self.options.calibration_max_gain)
        self.smoother = TrackSmoother(self.options.smoothing_tau_s, forget_s=max(5.0, 10 / self.options.rate_hz))
        self._last_due: dict[str, int] = {}
        self._latest: dict[str, AffectEstimate] = {}
        #: Baselines completed by the last estimate() call: (track, baseline).
        self.completed: list[tuple[str, Baseline]] = []

    def set_options(self, options: EstimatorOptions) -> None:
        """Change the run-time options (rate, smoothing, yaw limit); calibration and fusion settings stay."""
        self.options = options
        self.smoother.tau_s = options.smoothing_tau_s

    def due(self, frame: FaceFrame) -> tuple[list[TrackedFace], list[SkippedFace]]:
        """The faces of a frame whose track is due for the model (rate), and those that cannot be."""
        period_ns = int(1e9 / self.options.rate_hz)
        limit = self.options.max_abs_yaw_deg
        due, skipped = [], []
        for face in frame.faces:
            if face.observation.landmarks is None:
                skipped.append(SkippedFace(face.id, 'no_landmarks'))
                continue
            pose = face.head_pose
            if pose is not None and (abs(pose.yaw) > limit or abs(pose.pitch) > limit):
                skipped.append(SkippedFace(face.id, 'turned_away'))
                continue
            # Keyed on when a face was last found due, not when the model last ran: the model runs
            # only once the image arrives, and Faces of later frames may come before that.
            last = self._last_due.get(face.id)
            # 5 % slack: a 30 fps stream at rate 10 runs every third frame, not every fourth
            if last is None or frame.stamp_ns - last >= 0.95 * period_ns or frame.stamp_ns < last:
                due.append(face)
                self._last_due[face.id] = frame.stamp_ns
        return due, skipped

    def estimate(self, image: npt.NDArray[Any], frame: FaceFrame, faces: list[TrackedFace]
                 ) -> tuple[list[AffectEstimate], list[SkippedFace]]:
        """Run the model (and the teacher it is pooled with) on `faces` of `frame` (one batch), calibrate
        and smooth per track."""
        self.completed = []
        prepared, taught, kept, skipped = [], [], [], []
        for face in faces:
            try:
                landmarks = face.observation.landmarks
                inputs = self.model.prepare(image, landmarks)  # FaceInputError without landmarks
                if self._teacher is not None and landmarks is not None:
                    taught.append(self._teacher.soft_labels(image, landmarks))
            except ValueError as exc:  # FaceInputError, or the teacher's CropError
                skipped.append(SkippedFace(face.id, f'bad_input: {exc}'))
                continue
            prepared.append(inputs)
            kept.append(face)
        if not prepared:
            return [], skipped
        raw = self.model.predict(prepared)
        if self.fusion is not None:
            raw = self.fusion.fuse(raw, np.stack(taught))
        out = []
        for face, p in zip(kept, raw):
            baseline = self.calibration.observe(face.id, frame.stamp_ns, p)
            if baseline is not None:
                self.completed.append((face.id, baseline))
            smoothed = self.smoother.update(face.id, frame.stamp_ns, self.calibration.apply(face.id, p))
            valence, arousal = valence_arousal(EMOTIONS, smoothed)
            estimate = AffectEstimate(face.id, frame.stamp_ns, smoothed, np.asarray(p, np.float32),
                                      EMOTIONS[int(np.argmax(smoothed))], valence, arousal,
                                      self.calibration.status(face.id))
            self._latest[face.id] = estimate
            out.append(estimate)
        self._forget(frame.stamp_ns)
        return out, skipped

    def latest(self, track: str) -> AffectEstimate | None:
        """The last estimate of a track (None if never, or forgotten)."""
        return self._latest.get(track)

    def _forget(self, stamp_ns: int) -> None:
        horizon = stamp_ns - int(max(self.smoother.forget_s, 30.0) * 1e9)
        for track in [t for t, e in self._latest.items() if e.stamp_ns < horizon]:
            self._latest.pop(track, None)
            self.calibration.forget(track)
        for track in [t for t, ns in self._last_due.items() if ns < horizon]:
            self._last_due.pop(track, None)
        self.smoother.forget_older_than(stamp_ns)

