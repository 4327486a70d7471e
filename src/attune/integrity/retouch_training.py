"""Training of the retouch check: a small torch MLP on retouch features, person-wise folds, ONNX export.

Folds are fixed by person (sha256 of 'attune-retouch' + the person id, modulo FOLDS), so no person's photos are on both
sides. `cross_validate` scores every person with a model that never saw them (the "unseen" numbers);
`fit` trains the shipped model on every fold but HELD_OUT_FOLD, which the quality test and the bench's
`unseen` block evaluate. The threshold is set on the out-of-fold scores of the training persons'
originals: at most THRESHOLD_FPR of them flagged.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from attune.integrity.retouch_features import FEATURES
from attune.integrity.retouch_metrics import threshold_at_fpr

FOLDS = 5
HELD_OUT_FOLD = 0
THRESHOLD_FPR = 0.05
METADATA_KEY = 'attune_retouch'


def person_fold(person: str, folds: int = FOLDS) -> int:
    """A person's fold: fixed by their id alone, so adding people never moves anyone."""
    return int(hashlib.sha256(f'attune-retouch{person}'.encode()).hexdigest(), 16) % folds


class RetouchNet(nn.Module):
    """score logit = MLP((x - mean) / scale), x with NaNs already replaced by `mean`.

    Shapes: features (N, F) float32 -> logits (N,), scores (N,) in [0, 1].
    """

    mean: torch.Tensor  # buffers (register_buffer), declared for the type checker
    scale: torch.Tensor

    def __init__(self, mean: npt.NDArray[Any], scale: npt.NDArray[Any], hidden: int = 24) -> None:
        super().__init__()
        self.register_buffer('mean', torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer('scale', torch.as_tensor(scale, dtype=torch.float32))
        self.body = nn.Sequential(nn.Linear(len(mean), hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.body((features - self.mean) / self.scale).squeeze(-1)
        return logits, torch.sigmoid(logits)


@dataclass(frozen=True)
class RetouchTrainConfig:
    hidden: int = 24
    epochs: int = 400
    lr: float = 0.015
    weight_decay: float = 3e-3
    seed: int = 0


def impute(x: npt.NDArray[Any], mean: npt.NDArray[Any]) -> npt.NDArray[Any]:
    x = np.asarray(x, np.float64)
    return np.where(np.isfinite(x), x, mean[None, :]).astype(np.float32)


def fit(x: npt.NDArray[Any], y: npt.NDArray[Any], config: RetouchTrainConfig) -> RetouchNet:
    """Full-batch Adam on class-balanced binary cross-entropy (deterministic for a seed)."""
    torch.manual_seed(config.seed)
    mean = np.nanmean(x, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    xi = impute(x, mean)
    scale = xi.std(axis=0) + 1e-6
    model = RetouchNet(mean, scale, config.hidden)
    features, target = torch.from_numpy(xi), torch.from_numpy(y.astype(np.float32))
    positive = float(target.mean())
    weight = torch.where(target > 0, 0.5 / positive, 0.5 / (1 - positive))
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = nn.BCEWithLogitsLoss(weight=weight)
    model.train()
    for _ in range(config.epochs):
        optimiser.zero_grad()
        loss = loss_fn(model(features)[0], target)
        loss.backward()
        optimiser.step()
    return model.eval()


def predict(model: RetouchNet, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    with torch.no_grad():
        scores: torch.Tensor = model(torch.from_numpy(impute(x, model.mean.numpy())))[1]
    return scores.numpy().astype(np.float64)


def cross_validate(x: npt.NDArray[Any], y: npt.NDArray[Any], persons: npt.NDArray[Any], config: RetouchTrainConfig,
                   folds: tuple[int, ...] = tuple(range(FOLDS)),
                   fit_on: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
    """Out-of-fold scores: rows of each fold in `folds` scored by a model fitted on the others' rows (NaN
    for rows outside `folds`); other folds' rows outside `folds` still train. `fit_on` (bool per row):
    only those rows are fitted on (every row of a fold is scored)."""
    fold = np.array([person_fold(p) for p in persons])
    usable = np.ones(len(y), bool) if fit_on is None else np.asarray(fit_on, bool)
    scores = np.full(len(y), np.nan)
    for k in folds:
        test = fold == k
        if test.any():
            scores[test] = predict(fit(x[~test & usable], y[~test & usable], config), x[test])
    return scores


def choose_threshold(original_scores: npt.NDArray[Any]) -> float:
    return float(threshold_at_fpr(original_scores, THRESHOLD_FPR))


def export_onnx(model: RetouchNet, path: Path, metadata: dict[str, Any]) -> dict[str, float]:
    """Write the model as ONNX (input features (N, F) float32, NaN-free; outputs logits, scores), with
    `metadata` as JSON; returns how far onnxruntime is from torch on random and batch-1 inputs."""
    import onnx

    from attune.inference import onnx_session

    path.parent.mkdir(parents=True, exist_ok=True)
    # The TorchScript exporter: for two linear layers it gives the same graph as dynamo in ~1 % of the time.
    torch.onnx.export(model, (torch.zeros(2, len(FEATURES)),), str(path), dynamo=False, input_names=['features'],
                      output_names=['logits', 'scores'], dynamic_axes={'features': {0: 'batch'}})
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    proto.producer_name = 'attune train retouch'
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    generator = torch.Generator().manual_seed(1)
    probe = model.mean + model.scale * torch.randn(7, len(FEATURES), generator=generator)
    with torch.no_grad():
        expected = model(probe)[1].numpy()
    session = onnx_session(path, what='retouch model')
    got = session.run(['scores'], {'features': probe.numpy()})[0]
    single = session.run(['scores'], {'features': probe[:1].numpy()})[0]
    return {'max_abs_diff': float(np.abs(got - expected).max()),
            'batch1_max_abs_diff': float(np.abs(single - expected[:1]).max())}
