"""Scoring an isolated sign model on recorded blocks: window and block accuracy as recorded, and the
robustness check (the same blocks as other signers and cameras would show them).

The public data sets have one signer each, so no held-out number says how a model does on new
people. `robustness` re-renders the held-out blocks with each component of the signer variation of
attune.sign.augment (hand proportions, tilt, roll, distance, aspect, speed, jitter, the other
hand) at its full training range, one at a time and all together, with a fixed seed: a
deterministic proxy for unseen signers. It is a proxy: the variation is simulated from the same
signer's hands, and a model trained with it has seen that kind of variation (of other blocks).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from attune.sign.augment import COMPONENTS, SignerVariation, vary_dataset
from attune.sign.segments import LandmarkDataset, windows

if TYPE_CHECKING:
    from attune.sign.model import SignModel

#: (N, T, FEATURE_DIM) float32 windows -> (N,) predicted gloss indices.
Predict = Callable[[npt.NDArray[Any]], npt.NDArray[Any]]
#: The seed of the robustness check's variation (fixed: the check is deterministic).
VARIED_SEED = 20_260_601


def onnx_predictor(model: SignModel, batch: int = 512) -> Predict:
    """A Predict of an attune.sign.model.SignModel (onnxruntime)."""
    def predict(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if not len(x):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([model.probabilities(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])

    return predict


def block_vote(predictions: npt.NDArray[Any], labels: npt.NDArray[Any], blocks: npt.NDArray[Any]) -> float:
    """Accuracy of the majority prediction per block."""
    correct = [np.bincount(predictions[blocks == b]).argmax() == labels[blocks == b][0] for b in np.unique(blocks)]
    return float(np.mean(correct)) if correct else float('nan')


def window_scores(predict: Predict, dataset: LandmarkDataset, window: int, stride: int = 1) -> dict[str, Any]:
    """Window accuracy, block accuracy (majority vote) and per-gloss window accuracy of every window
    of every segment of `dataset` (NaN where it has none)."""
    x, y, blocks = windows(dataset, window, stride)
    if not len(y):
        return {'windows': 0, 'window_accuracy': float('nan'), 'block_accuracy': float('nan'), 'per_gloss': {}}
    predictions = predict(x)
    return {'windows': int(len(y)), 'window_accuracy': float((predictions == y).mean()),
            'block_accuracy': block_vote(predictions, y, blocks),
            'per_gloss': {g: float((predictions[y == k] == k).mean())
                          for k, g in enumerate(dataset.glosses) if (y == k).any()}}


def robustness(predict: Predict, dataset: LandmarkDataset, window: int, variation: SignerVariation, *,
               seed: int = VARIED_SEED, stride: int = 2) -> dict[str, float]:
    """Window accuracy on `dataset` varied by each component of `variation` alone (keys of
    attune.sign.augment.COMPONENTS; components the variation leaves off are skipped) and by all at
    once ('all'). Deterministic for a seed."""
    out: dict[str, float] = {}
    for k, component in enumerate(COMPONENTS):
        single = variation.only(component)
        if single == SignerVariation():
            continue
        if component == 'mirror':
            single = SignerVariation(mirror=1.0)  # always the other hand: the check of that path
        out[component] = _accuracy(predict, vary_dataset(dataset, single, seed + k), window, stride)
    out['all'] = _accuracy(predict, vary_dataset(dataset, variation, seed), window, stride)
    return out


def _accuracy(predict: Predict, dataset: LandmarkDataset, window: int, stride: int) -> float:
    return float(window_scores(predict, dataset, window, stride)['window_accuracy'])
