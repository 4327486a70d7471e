"""The FER CNN's top and the expression head trained together, end to end (no rclpy).

Stacking a head on a fine-tuned CNN has a trap: if the head is trained on the CNN's outputs for
photos the CNN was fine-tuned on, it learns features that are over-confident on its training rows
and not on new people. Training both at once avoids it without nested folds: the loss is the head's
(class-weighted cross-entropy over EMOTIONS, as attune.models.training.expression_head_training.fit)
and flows through the head's CNN inputs (the mean embedding and log-probabilities of a crop and its
mirror image, exactly what the node computes) into the CNN's top, plus a weighted cross-entropy on
the CNN's own logits so that its probabilities (published as the `cnn` source) stay a classifier.

The CNN's trunk stays frozen with its BatchNorm statistics (attune.models.training.fer_finetune), so
its outputs are computed once per augmented view (a view and its mirror image) and kept in memory
(float16; no crops or pixels on disk). The exported pair keeps the shipped graphs: the CNN's ONNX
graph with new weights (fer_minixception_net.write_onnx) and an ExpressionHeadNet.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from attune.emotions import EMOTIONS, FER2013_ORDER, FER2013_TO_EMOTIONS
from attune.expression.cnn import EMBEDDING_SIZE
from attune.models.layers.expression_head_net import ExpressionHeadNet
from attune.models.layers.fer_minixception_net import FerMiniXception
from attune.models.training.expression_head_training import HeadConfig, class_weights
from attune.models.training.fer_finetune import FineTuneConfig, augment, to_input

#: Head input columns the CNN supplies: after the 17 AUs and 15 measures, embedding then log-probabilities.
CNN_START = 32
CNN_STOP = CNN_START + EMBEDDING_SIZE + len(EMOTIONS)


@dataclass(frozen=True)
class JointConfig:
    """The CNN side of a joint run (the head side is a HeadConfig)."""

    cnn_lr: float = 3e-4
    cnn_weight_decay: float = 1e-4
    aux_weight: float = 0.5
    views: int = 4
    seed: int = 0
    threads: int = 1


def pair_views(net: FerMiniXception, crops: npt.NDArray[Any], config: JointConfig,
               batch: int = 256) -> dict[str, torch.Tensor]:
    """Frozen trunk outputs (float16, memory only): 'plain' and 'mirror' (N, C, H, W) of the crops as
    the node feeds them, 'views' and 'view_mirrors' (N, V, C, H, W) of augmented copies and their
    mirror images (the head reads the mean over a crop and its mirror, so training does too)."""
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    augmentation = FineTuneConfig(seed=config.seed)
    out: dict[str, list[torch.Tensor]] = {'plain': [], 'mirror': [], 'views': [], 'view_mirrors': []}
    net.eval()
    with torch.no_grad():
        for start in range(0, len(crops), batch):
            x = to_input(crops[start:start + batch])
            out['plain'].append(net.trunk(x).half())
            out['mirror'].append(net.trunk(x.flip(-1)).half())
            views = [augment(x, augmentation, generator) for _ in range(config.views)]
            out['views'].append(torch.stack([net.trunk(v).half() for v in views], dim=1))
            out['view_mirrors'].append(torch.stack([net.trunk(v.flip(-1)).half() for v in views], dim=1))
    return {k: torch.cat(v) for k, v in out.items()}


class JointModel(nn.Module):
    """CNN top (trunk outputs of a crop and its mirror) + fixed features -> head logits, CNN logits."""

    def __init__(self, net: FerMiniXception, head: ExpressionHeadNet) -> None:
        super().__init__()
        self.net, self.head = net, head

    def cnn_features(self, h: torch.Tensor, h_mirror: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(head CNN columns: mean embedding, log of the mean EMOTIONS-order probabilities; CNN logits)."""
        logits, embedding = self.net.top(h)
        logits_m, embedding_m = self.net.top(h_mirror)
        order = torch.from_numpy(FER2013_TO_EMOTIONS)
        probabilities = (torch.softmax(logits, 1) + torch.softmax(logits_m, 1))[:, order] / 2
        columns = torch.cat([(embedding + embedding_m) / 2, torch.log(probabilities + 1e-4)], dim=1)
        return columns, torch.cat([logits, logits_m])

    def inputs(self, fixed: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        return torch.cat([fixed[:, :CNN_START], columns, fixed[:, CNN_START:]], dim=1)

    def forward(self, fixed: torch.Tensor, h: torch.Tensor,
                h_mirror: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        columns, cnn_logits = self.cnn_features(h, h_mirror)
        return self.head(self.inputs(fixed, columns)), cnn_logits


def fixed_columns(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The head inputs that do not come from the CNN (AUs, measures, landmark shape)."""
    out: npt.NDArray[Any] = np.concatenate([x[:, :CNN_START], x[:, CNN_STOP:]], axis=1).astype(np.float32)
    return out


def fit_joint(net: FerMiniXception, x: npt.NDArray[Any], y: npt.NDArray[Any], london: npt.NDArray[Any],
              views: torch.Tensor, view_mirrors: torch.Tensor, head_config: HeadConfig, config: JointConfig,
              log: Callable[[str], object] = print) -> JointModel:
    """Train net's top (in place) and a new head on rows x (N, HEAD_FEATURE_SIZE; their CNN columns,
    from the shipped CNN, set the head's standardization only), labels y (EMOTIONS indices), with
    trunk views (N, V, ...) of the same rows."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    head = ExpressionHeadNet(x.shape[1], len(EMOTIONS), head_config.hidden, head_config.dropout)
    head.set_standardization(torch.from_numpy(np.asarray(x, np.float32)))
    model = JointModel(net, head)
    fixed = torch.from_numpy(fixed_columns(x))
    target = torch.from_numpy(np.asarray(y)).long()
    fer_target = torch.tensor([FER2013_ORDER.index(EMOTIONS[i]) for i in y]).long()
    weights = class_weights(np.asarray(y))
    fer_weights = weights[torch.tensor([EMOTIONS.index(e) for e in FER2013_ORDER])]
    sample_w = torch.from_numpy(np.where(london, head_config.london_weight, 1.0)).float()
    fixed_std = torch.cat([head.std[:CNN_START], head.std[CNN_STOP:]])
    groups = [{'params': list(head.parameters()), 'lr': head_config.lr, 'weight_decay': head_config.weight_decay},
              {'params': net.top_parameters(), 'lr': config.cnn_lr, 'weight_decay': config.cnn_weight_decay}]
    optimizer = torch.optim.AdamW(groups)
    steps = head_config.epochs * max(1, -(-len(target) // head_config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[head_config.lr, config.cnn_lr],
                                                   total_steps=steps)
    net.eval()  # BatchNorm statistics stay FER2013's; the network has no dropout
    head.train()
    for epoch in range(head_config.epochs):
        order = torch.randperm(len(target), generator=generator)
        view = torch.randint(views.shape[1], (len(target),), generator=generator)
        total = 0.0
        for start in range(0, len(target), head_config.batch_size):
            b = order[start:start + head_config.batch_size]
            noise = head_config.noise * torch.randn(len(b), fixed.shape[1], generator=generator) * fixed_std
            logits, cnn_logits = model(fixed[b] + noise, views[b, view[b]].float(), view_mirrors[b, view[b]].float())
            w = sample_w[b]
            loss = F.cross_entropy(logits, target[b], weight=weights, reduction='none',
                                   label_smoothing=head_config.label_smoothing)
            aux = F.cross_entropy(cnn_logits, fer_target[b].repeat(2), weight=fer_weights, reduction='none')
            loss = ((loss + config.aux_weight * aux.view(2, -1).mean(0)) * w).sum() / w.sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(b)
        if (epoch + 1) % 10 == 0:
            log(f'joint epoch {epoch + 1}/{head_config.epochs}: loss {total / len(target):.4f}')
    return model.eval()


def joint_outputs(model: JointModel, x: npt.NDArray[Any], plain: torch.Tensor,
                  mirror: torch.Tensor) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """(head logits (N, 7), head inputs (N, HEAD_FEATURE_SIZE)) of rows x whose CNN columns are replaced
    by the trained CNN's outputs for the plain crops and their mirrors (as the node computes them)."""
    model.eval()
    with torch.no_grad():
        columns, _ = model.cnn_features(plain.float(), mirror.float())
        inputs = model.inputs(torch.from_numpy(fixed_columns(x)), columns)
        return model.head(inputs).numpy(), inputs.numpy()
