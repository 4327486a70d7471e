"""A small CNN of our own on high-pass residuals of face patches (the retouch check's CNN route).

The net takes YCbCr uint8 patches (attune.integrity.retouch_patches) as float grey levels and first
applies fixed high-pass filters (SRM-style, as in steganalysis: the photo's content cancels, noise,
JPEG and editing traces remain): the 5 x 5 "KV" kernel on Y, Cb and Cr and the second-order
horizontal and vertical kernels on Y. Residuals are clipped at +-CLIP grey levels (a truncation
unit: large edges carry content, not traces). A few learned convolutions with average pooling, global
average pooling and a linear layer give one logit per patch; a photo's logit is the mean of its
patches' logits. Trained with person-wise folds (attune.integrity.retouch_training.person_fold).
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from attune.integrity.retouch_patches import PATCH

METADATA_KEY = 'attune_retouch_cnn'
CLIP = 8.0

_KV = np.array([[-1, 2, -2, 2, -1], [2, -6, 8, -6, 2], [-2, 8, -12, 8, -2], [2, -6, 8, -6, 2],
                [-1, 2, -2, 2, -1]], np.float32) / 12.0
_SECOND_ORDER = np.array([1, -2, 1], np.float32) / 2.0


def high_pass_kernels() -> torch.Tensor:
    """(5, 3, 5, 5) fixed filters: KV on Y, Cb, Cr; second order along x and along y on Y."""
    weight = np.zeros((5, 3, 5, 5), np.float32)
    for channel in range(3):
        weight[channel, channel] = _KV
    weight[3, 0, 2, 1:4] = _SECOND_ORDER
    weight[4, 0, 1:4, 2] = _SECOND_ORDER
    return torch.from_numpy(weight)


class ResidualPatchNet(nn.Module):
    """patch logits = body(clip(high_pass(patches))).

    Shapes: patches (N, 3, PATCH, PATCH) float32 grey levels 0-255 (Y, Cb, Cr) -> logits (N,).
    """

    high_pass: torch.Tensor  # buffer (register_buffer), declared for the type checker

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.register_buffer('high_pass', high_pass_kernels())

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(
            *block(5, width), nn.AvgPool2d(2),
            *block(width, 2 * width), nn.AvgPool2d(2),
            *block(2 * width, 4 * width), nn.AvgPool2d(2),
            *block(4 * width, 6 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6 * width, 1))

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        residual = nn.functional.conv2d(patches, self.high_pass)
        residual = torch.clamp(residual, -CLIP, CLIP) / CLIP
        logits: torch.Tensor = self.body(residual).squeeze(-1)
        return logits


@dataclass(frozen=True)
class CNNTrainConfig:
    width: int = 8
    epochs: int = 10
    patches_per_copy: int = 6      # drawn afresh each epoch from the copy's grid patches
    batch_copies: int = 16
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0


def _tensor(patches: npt.NDArray[Any]) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32))


def fit(patches: list[npt.NDArray[np.uint8]], y: npt.NDArray[Any], config: CNNTrainConfig,
        log: Any = None) -> ResidualPatchNet:
    """Adam on class-balanced binary cross-entropy of patch logits (every patch carries its copy's label);
    deterministic for a seed."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = ResidualPatchNet(config.width)
    labels = np.asarray(y, np.float32)
    positive = float(labels.mean())
    class_weight = np.where(labels > 0, 0.5 / positive, 0.5 / (1 - positive)).astype(np.float32)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * int(np.ceil(len(patches) / config.batch_copies))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=max(steps, 1))
    model.train()
    for epoch in range(config.epochs):
        order = rng.permutation(len(patches))
        total = 0.0
        for start in range(0, len(order), config.batch_copies):
            batch = order[start:start + config.batch_copies]
            xs, ts, ws = [], [], []
            for i in batch:
                picked = rng.choice(len(patches[i]), min(config.patches_per_copy, len(patches[i])), replace=False)
                xs.append(patches[i][picked])
                ts.append(np.full(len(picked), labels[i], np.float32))
                ws.append(np.full(len(picked), class_weight[i] / len(picked), np.float32))
            weight = torch.from_numpy(np.concatenate(ws))
            loss = (nn.functional.binary_cross_entropy_with_logits(
                model(_tensor(np.concatenate(xs))), torch.from_numpy(np.concatenate(ts)), reduction='none')
                * weight).sum() / len(batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        if log is not None:
            log(f'epoch {epoch + 1}/{config.epochs} loss {total / len(patches):.4f}')
    return model.eval()


def photo_logits(model: ResidualPatchNet, patches: list[npt.NDArray[np.uint8]], chunk: int = 512
                 ) -> npt.NDArray[np.float64]:
    """Mean patch logit of each copy (the photo's logit)."""
    sizes = [len(p) for p in patches]
    flat = np.concatenate(patches) if patches else np.zeros((0, 3, PATCH, PATCH), np.uint8)
    out = []
    with torch.no_grad():
        for start in range(0, len(flat), chunk):
            out.append(model(_tensor(flat[start:start + chunk])).numpy())
    logits = np.concatenate(out) if out else np.zeros(0, np.float32)
    bounds = np.cumsum([0, *sizes])
    return np.array([logits[a:b].mean() for a, b in itertools.pairwise(bounds)], np.float64)


def cross_validate(patches: list[npt.NDArray[np.uint8]], y: npt.NDArray[Any], persons: npt.NDArray[Any],
                   config: CNNTrainConfig, folds: tuple[int, ...], log: Any = None) -> npt.NDArray[np.float64]:
    """Out-of-fold photo logits: each fold in `folds` scored by a model fitted on the other folds of `folds`
    (rows of persons in no fold of `folds` are neither fitted on nor scored: NaN)."""
    from attune.integrity.retouch_training import person_fold

    fold = np.array([person_fold(p) for p in persons])
    inside = np.isin(fold, folds)
    scores = np.full(len(y), np.nan)
    for k in folds:
        test, train = fold == k, inside & (fold != k)
        if test.any():
            if log is not None:
                log(f'fold {k}: fitting on {int(train.sum())} copies')
            model = fit([patches[i] for i in np.flatnonzero(train)], y[train], config, log)
            scores[test] = photo_logits(model, [patches[i] for i in np.flatnonzero(test)])
    return scores


def export_onnx(model: ResidualPatchNet, path: Path, metadata: dict[str, Any]) -> dict[str, float]:
    """Write the model as ONNX (input patches (N, 3, PATCH, PATCH) float32; output logits (N,)) with
    `metadata` as JSON; returns how far onnxruntime is from torch on random and batch-1 inputs."""
    import onnx

    from attune.inference import onnx_session

    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    torch.onnx.export(model, (torch.zeros(2, 3, PATCH, PATCH),), str(path), dynamo=False, input_names=['patches'],
                      output_names=['logits'], dynamic_axes={'patches': {0: 'batch'}, 'logits': {0: 'batch'}})
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    proto.producer_name = 'attune train retouch-cnn'
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    generator = torch.Generator().manual_seed(1)
    probe = torch.randint(0, 256, (5, 3, PATCH, PATCH), generator=generator).float()
    with torch.no_grad():
        expected = model(probe).numpy()
    session = onnx_session(path, what='retouch CNN')
    got = session.run(['logits'], {'patches': probe.numpy()})[0]
    single = session.run(['logits'], {'patches': probe[:1].numpy()})[0]
    return {'max_abs_diff': float(np.abs(got - expected).max()),
            'batch1_max_abs_diff': float(np.abs(single - expected[:1]).max())}
