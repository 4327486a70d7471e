"""onnxruntime runner of the ASD emotion model (crop branch: ResNet or fine-tuned mini-Xception, + GCN landmark
branch, fused; no rclpy). The crop it cuts follows the model's metadata (input size; framing checked)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.affect.features import (
    NUM_NODES,
    FaceInputError,
    crop_geometry,
    face_crop,
    landmark_features,
    normalize_crops,
)
from attune.affect.teacher_fusion import TeacherFusion
from attune.emotions import EMOTIONS
from attune.errors import ModelFileError
from attune.inference import onnx_session
from attune.resources import package_data

#: The shipped model (model card: asd_emotion.md beside it).
DEFAULT_MODEL = 'asd_emotion.onnx'
#: ONNX metadata key holding the model's settings as JSON (written by attune.models.training.asd_emotion_training).
METADATA_KEY = 'attune_asd_emotion'


def default_model_path() -> Path:
    return package_data('models', 'resources', DEFAULT_MODEL)


@dataclass(frozen=True)
class ModelInfo:
    """What the ONNX file says about itself: depth, width (the ResNet's; 0 for another crop encoder),
    input_size (the crop side the runtime cuts), emotions, training temperature, and the mean output on
    neutral training faces (the reference of the per-child calibration)."""

    depth: int
    width: int
    input_size: int
    emotions: tuple[str, ...]
    temperature: float
    neutral_reference: tuple[float, ...]
    #: The most frequent hard label of the training faces (EMOTIONS index): the trivial baseline.
    majority_class: int = 0
    #: Every training setting (attune.models.training.asd_emotion_training.TrainConfig as a dict), split included.
    config: dict[str, Any] = field(default_factory=dict, compare=False)
    #: The crop encoder: 'resnet' (trained from scratch) or 'fer-minixception' (fine-tuned FER2013 CNN).
    backbone: str = 'resnet'
    #: The crop framing the model was trained on (attune.affect.features.crop_geometry); {} = made before
    #: it was recorded, on the framing of then, which is today's.
    crop: dict[str, Any] = field(default_factory=dict, compare=False)
    #: How the node pools this network's output with its teacher's (attune.affect.teacher_fusion); None:
    #: the network alone.
    teacher_fusion: TeacherFusion | None = None

    @classmethod
    def from_json(cls, text: str) -> ModelInfo:
        d = json.loads(text)
        fusion = d.get('teacher_fusion')
        return cls(int(d['depth']), int(d['width']), int(d['input_size']), tuple(d['emotions']),
                   float(d.get('temperature', 1.0)), tuple(float(x) for x in d.get('neutral_reference', ())),
                   int(d.get('majority_class', 0)), dict(d.get('config', {})), str(d.get('backbone', 'resnet')),
                   dict(d.get('crop', {})), TeacherFusion.from_dict(fusion) if fusion is not None else None)


@dataclass(frozen=True)
class FaceInputs:
    """Prepared inputs of one face: crop (S, S) uint8 and landmarks (478, 3) float32."""

    crop: npt.NDArray[Any]
    landmarks: npt.NDArray[Any]


class AsdEmotionModel:
    """Runs the exported model. Inputs `crop` (B, 1, S, S) float32 in [-1, 1] and `landmarks` (B, 478, 3);
    outputs `logits` and `probabilities` (B, 7) in EMOTIONS order.

    Args:
        path: the ONNX file (default: the shipped asd_emotion.onnx).
        threads: onnxruntime intra-op threads.

    Raises:
        ModelFileError: the file is missing, unreadable, or not an ASD emotion model.
    """

    def __init__(self, path: Path | str | None = None, threads: int = 1) -> None:
        self.path = Path(path) if path else default_model_path()
        self._session = onnx_session(self.path, threads=threads, what='ASD emotion model',
                                     missing_hint='attune train asd-emotion makes one')
        try:
            meta = self._session.get_modelmeta().custom_metadata_map
            self.info = ModelInfo.from_json(meta[METADATA_KEY])
        except KeyError:
            raise ModelFileError(f'{self.path} is not an ASD emotion model (no {METADATA_KEY} metadata)') from None
        except (ValueError, TypeError) as exc:
            raise ModelFileError(f'{self.path}: unreadable {METADATA_KEY} metadata: {exc}') from None
        inputs = {i.name for i in self._session.get_inputs()}
        if inputs != {'crop', 'landmarks'} or tuple(self.info.emotions) != EMOTIONS:
            raise ModelFileError(f'{self.path}: expected inputs crop, landmarks and outputs over {EMOTIONS}')
        if self.info.crop and self.info.crop != crop_geometry():
            raise ModelFileError(f'{self.path} was trained on face crops framed as {self.info.crop}; this attune '
                                 f'cuts {crop_geometry()}: train it again (attune train asd-emotion)')

    @property
    def input_size(self) -> int:
        return self.info.input_size

    def prepare(self, image: npt.NDArray[Any], landmarks: npt.NDArray[Any] | None) -> FaceInputs:
        """The inputs of one face in an RGB (H, W, 3) or grey uint8 image: the crop at the model's
        input size (its metadata), framed as in training (`crop_geometry`), and the aligned landmarks.

        Raises:
            FaceInputError: missing, NaN or degenerate landmarks, or a crop outside the image.
        """
        if landmarks is None:
            raise FaceInputError('the face has no landmarks (the face node ran without FaceMesh?)')
        height, width = image.shape[:2]
        features = landmark_features(landmarks, width, height)
        return FaceInputs(face_crop(image, landmarks, self.info.input_size), features)

    def run(self, crops: npt.NDArray[Any], landmarks: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """(logits, probabilities), each (B, 7), for (B, S, S) uint8 crops and (B, 478, 3) landmarks."""
        crops = np.asarray(crops)
        if crops.ndim != 3 or crops.shape[1:] != (self.input_size, self.input_size):
            raise FaceInputError(f'crops must be (B, {self.input_size}, {self.input_size}), got {crops.shape}')
        landmarks = np.asarray(landmarks, dtype=np.float32)
        if landmarks.shape != (len(crops), NUM_NODES, 3):
            raise FaceInputError(f'landmarks must be ({len(crops)}, {NUM_NODES}, 3), got {landmarks.shape}')
        logits, probabilities = self._session.run(['logits', 'probabilities'], {
            'crop': normalize_crops(crops), 'landmarks': np.ascontiguousarray(landmarks)})
        return logits, probabilities

    def predict(self, faces: list[FaceInputs]) -> npt.NDArray[Any]:
        """(B, 7) probabilities of prepared faces (one batch)."""
        if not faces:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        return self.run(np.stack([f.crop for f in faces]), np.stack([f.landmarks for f in faces]))[1]
