"""Scoring the shipped ASD emotion model (onnxruntime; pooled with its teacher as the node publishes it, and
the network alone) and its teacher on labelled faces (bench, quality test).

Every score is against the hard labels of the faces (`attune.models.training.asd_emotion_metrics`): accuracy,
macro-F1 over the classes present, F1 per class, confusion matrix. The teacher is scored by the argmax of
its soft labels on the same faces; the majority baseline always answers the class most frequent in the
model's training data (stored in the model; neutral for older models).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attune.affect.dataset import FaceDataset
from attune.affect.model import AsdEmotionModel
from attune.emotions import EMOTIONS
from attune.models.training.asd_emotion_metrics import classification, metrics


def resize_crops(crops: npt.NDArray[Any], size: int) -> npt.NDArray[Any]:
    """(M, S, S) uint8 crops resized to (M, size, size) (area averaging when shrinking)."""
    import cv2

    if crops.shape[1] == size:
        return crops
    if not len(crops):
        return np.zeros((0, size, size), np.uint8)
    interpolation = cv2.INTER_AREA if size < crops.shape[1] else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (size, size), interpolation=interpolation) for c in crops])


def model_probabilities(model: AsdEmotionModel, data: FaceDataset, batch: int = 64) -> npt.NDArray[Any]:
    """(M, 7) probabilities of the ONNX model on every face of `data`."""
    if not len(data):
        return np.zeros((0, len(EMOTIONS)), np.float32)
    crops = resize_crops(data.crops, model.input_size)
    return np.concatenate([model.run(crops[i:i + batch], data.landmarks[i:i + batch])[1]
                           for i in range(0, len(data), batch)])


def published_probabilities(model: AsdEmotionModel, data: FaceDataset, fusion: bool = True) -> npt.NDArray[Any]:
    """(M, 7) what the ASD emotion node publishes for every face of `data` before its per-child calibration:
    the network's probabilities pooled with the teacher's soft labels the faces carry when the model has a
    teacher fusion (attune.affect.teacher_fusion) and `fusion` is on, else the network's alone. A face the
    teacher could not label (NaN; the node skips such a face) keeps the network's output, so that every
    face is scored.
    """
    network = model_probabilities(model, data)
    pool = model.info.teacher_fusion if fusion else None
    if pool is None or not len(data):
        return network
    taught = np.isfinite(data.soft).all(axis=1)
    out = network.copy()
    if taught.any():
        out[taught] = pool.fuse(network[taught], data.soft[taught])
    return out


def score(probabilities: npt.NDArray[Any], data: FaceDataset, majority_class: int, teacher: bool = True
          ) -> dict[str, Any]:
    """Model, teacher (if `teacher` and the faces carry its labels) and majority baseline on the
    hard-labelled faces of `data`, with the counts they rest on."""
    labelled = data.hard >= 0
    y = data.hard[labelled]
    has_teacher = teacher and bool(np.isfinite(data.soft).all()) and len(data)
    model = metrics(probabilities, data.soft if has_teacher else probabilities, data.hard)
    if not has_teacher:
        model.pop('kl_teacher')
    result: dict[str, Any] = {
        'faces': len(data), 'people': len(set(data.subjects[labelled].tolist())), 'hard_labelled': int(labelled.sum()),
        'class_counts': {EMOTIONS[c]: int((y == c).sum()) for c in range(len(EMOTIONS))},
        'model': {k: v for k, v in model.items() if k not in ('faces', 'hard_labelled')},
        'majority': classification(np.full(len(y), majority_class), y)}
    if has_teacher:
        result['teacher'] = classification(data.soft[labelled].argmax(axis=1), y)
    return result


def score_by_set(probabilities: npt.NDArray[Any], data: FaceDataset, majority_class: int, teacher: bool = True
                 ) -> dict[str, Any]:
    """`score` for each data set (the first part of the subject, e.g. 'muxspace', 'london_ccby')."""
    sets = np.array([str(s).split('/')[0] for s in data.subjects])
    out = {}
    for name in sorted(set(sets.tolist())):
        mask = sets == name
        if (data.hard[mask] >= 0).any():
            scores = score(probabilities[mask], data.subset(mask), majority_class, teacher)
            out[name] = {k: scores[k] for k in ('hard_labelled', 'people', 'model', 'teacher') if k in scores}
    return out
