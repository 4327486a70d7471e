"""Fine-tuning the FER2013 mini-Xception on attune's FaceMesh-aligned crops (no rclpy).

Starts from the shipped fer_minixception.onnx weights (attune.models.layers.fer_minixception_net.load_onnx).
The trunk (first convolutions and two residual blocks) stays frozen, with every BatchNorm's FER2013
statistics: our few thousand photos are too few to retrain low-level filters, and a frozen trunk
lets its outputs be computed once per augmented view (`trunk_views`) and shared by every fold.
The top (last two residual blocks and the classifier) is trained at a low learning rate on the
labelled photos of a faces folder, cropped exactly as the expression node crops them
(attune.expression.cnn.prepare_crop on the FaceMesh landmarks). Augmentation: mirror, small
rotation / scale / shift, brightness and contrast. Loss: cross-entropy with inverse square-root
class weights (as the head) and a weight on London photos. Crops and trunk outputs live in memory
only: nothing but numbers is written to disk.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch.nn import functional as F  # noqa: N812

from attune.emotions import FER2013_ORDER, FER2013_TO_EMOTIONS
from attune.expression.dataset import Features, Item, read_rgb
from attune.models.layers.fer_minixception_net import FerMiniXception


@dataclass(frozen=True)
class FineTuneConfig:
    """Every setting of one fine-tuning run."""

    epochs: int = 5
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 1e-4
    london_weight: float = 4.0
    views: int = 4
    rotate_deg: float = 10.0
    scale: float = 0.08
    shift: float = 0.06
    seed: int = 0
    threads: int = 1


def load_crops(items: Sequence[Item], features: Features, rows: npt.NDArray[Any],
               log: Callable[[str], object] = print) -> npt.NDArray[Any]:
    """(len(rows), 64, 64) uint8 aligned grey crops of items[rows], from the photos and the landmarks
    already in features (no second FaceMesh pass). Kept in memory only."""
    from attune.expression.cnn import prepare_crop

    crops = np.zeros((len(rows), 64, 64), np.uint8)
    for k, i in enumerate(rows):
        if k % 500 == 0:
            log(f'crops: {k}/{len(rows)}')
        rgb = read_rgb(items[i].path)
        if rgb is None or tuple(rgb.shape[1::-1]) != tuple(features.size[i]):
            raise ValueError(f'{items[i].path}: photo changed since its features were computed')
        crops[k] = prepare_crop(rgb, features.landmarks[i])
    return crops


def to_input(crops: npt.NDArray[Any]) -> torch.Tensor:
    """uint8 (N, 64, 64) -> (N, 1, 64, 64) float32 in [-1, 1] (as attune.expression.cnn.preprocess)."""
    return torch.from_numpy((np.asarray(crops, np.float32) / 255.0 - 0.5) * 2.0)[:, None]


def augment(x: torch.Tensor, config: FineTuneConfig, generator: torch.Generator) -> torch.Tensor:
    """Random mirror, rotation, scale, shift (one affine warp, border replicated), brightness, contrast."""
    n = len(x)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-1, 1) * math.radians(config.rotate_deg)
    scale = 1 + uniform(-1, 1) * config.scale
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) / scale * flip
    theta[:, 0, 1] = -torch.sin(angle) / scale
    theta[:, 1, 0] = torch.sin(angle) / scale * flip
    theta[:, 1, 1] = torch.cos(angle) / scale
    theta[:, :, 2] = uniform(-1, 1)[:, None] * config.shift * 2
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode='border', align_corners=False)
    contrast = uniform(0.75, 1.25)[:, None, None, None]
    brightness = uniform(-0.2, 0.2)[:, None, None, None]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * contrast + mean + brightness).clamp(-1, 1)


def trunk_views(net: FerMiniXception, crops: npt.NDArray[Any], config: FineTuneConfig,
                batch: int = 256) -> dict[str, torch.Tensor]:
    """The frozen trunk's outputs (float16, in memory): 'plain' and 'mirror' (N, 32, 15, 15) of the
    crops as the node feeds them, and 'views' (N, config.views, 32, 15, 15) of augmented copies."""
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    out: dict[str, list[torch.Tensor]] = {'plain': [], 'mirror': [], 'views': []}
    net.eval()
    with torch.no_grad():
        for start in range(0, len(crops), batch):
            x = to_input(crops[start:start + batch])
            out['plain'].append(net.trunk(x).half())
            out['mirror'].append(net.trunk(x.flip(-1)).half())
            out['views'].append(torch.stack([net.trunk(augment(x, config, generator)).half()
                                             for _ in range(config.views)], dim=1))
    return {k: torch.cat(v) for k, v in out.items()}


def fer_targets(labels: Sequence[str]) -> npt.NDArray[Any]:
    """EMOTIONS labels -> the CNN's FER2013 class indices."""
    return np.array([FER2013_ORDER.index(label) for label in labels])


def fine_tune(net: FerMiniXception, views: torch.Tensor, labels: Sequence[str], london: npt.NDArray[Any],
              config: FineTuneConfig, log: Callable[[str], object] = print) -> FerMiniXception:
    """Fine-tune net's top in place on trunk views (N, V, 32, 15, 15) of photos with EMOTIONS labels;
    returns net in eval mode (BatchNorm statistics unchanged)."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    y = torch.from_numpy(fer_targets(labels)).long()
    counts = np.bincount(y.numpy(), minlength=len(FER2013_ORDER)).astype(np.float64)
    w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    class_w = torch.tensor(w / w[counts > 0].mean(), dtype=torch.float32)
    sample_w = torch.from_numpy(np.where(london, config.london_weight, 1.0)).float()
    params = net.top_parameters()
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * max(1, -(-len(y) // config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps, pct_start=0.2)
    net.eval()  # dropout-free network; eval keeps the BatchNorm statistics frozen
    for epoch in range(config.epochs):
        order = torch.randperm(len(y), generator=generator)
        view = torch.randint(views.shape[1], (len(y),), generator=generator)
        total = 0.0
        for start in range(0, len(y), config.batch_size):
            batch = order[start:start + config.batch_size]
            logits, _ = net.top(views[batch, view[batch]].float())
            loss = F.cross_entropy(logits, y[batch], weight=class_w, reduction='none')
            loss = (loss * sample_w[batch]).sum() / sample_w[batch].sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        log(f'fine-tune epoch {epoch + 1}/{config.epochs}: loss {total / len(y):.4f}')
    return net.eval()


def cnn_outputs(net: FerMiniXception, plain: torch.Tensor, mirror: torch.Tensor) -> dict[str, npt.NDArray[Any]]:
    """The CNN fields of Features (EMOTIONS-order probabilities and embeddings of the crop and its
    mirror image) from trunk outputs (trunk_views' 'plain' and 'mirror')."""
    out = {}
    net.eval()
    with torch.no_grad():
        for prefix, h in (('', plain), ('mirror_', mirror)):
            logits, embedding = net.top(h.float())
            probabilities = torch.softmax(logits, dim=1).numpy()[:, FER2013_TO_EMOTIONS]
            out[f'{prefix}probabilities' if prefix else 'cnn_probabilities'] = probabilities.astype(np.float32)
            out[f'{prefix}embedding'] = embedding.numpy().astype(np.float32)
    return out
