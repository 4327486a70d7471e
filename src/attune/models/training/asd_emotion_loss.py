"""The ASD emotion model's training loss and class balance (attune.models.training.asd_emotion_training).

    L = sum_i w_kl(c_i) T^2 KL(softmax(log p_teacher,i / T) || softmax(z'_i / T)) / sum_i w_kl(c_i)
        + hard_weight * CE_w(z', y)          with z' = z + tau * log(prior)

z are the model's logits; the cross-entropy runs on the samples with a hard label, class c weighted by
count^-class_power. Three ways to balance the classes, each off at 0:

  * class_power: the cross-entropy weight of a class ~ count^-P (Cui et al. 2019 style re-weighting);
  * kl_class_power: the same weights for the distillation term, per face by its class (the hard label,
    else the teacher's argmax): the teacher's soft labels stay, rare classes' faces count more;
  * logit_adjust tau: the logit-adjusted loss of Menon et al. 2021 ("Long-tail learning via logit
    adjustment"): training sees z + tau log prior, where prior is the class distribution of the batches
    (after the balanced drawing), so the network's own logits z learn the balanced posterior and at run
    time, where z is used as is, rare classes are not pushed down by their rarity. Applied to both terms:
    the teacher's probabilities carry the same prior.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch.nn import functional as F  # noqa: N812

from attune.emotions import EMOTIONS


def distillation_loss(logits: torch.Tensor, soft: torch.Tensor, hard: torch.Tensor, temperature: float,
                      hard_weight: float, class_weights: torch.Tensor | None = None,
                      kl_weights: torch.Tensor | None = None,
                      logit_offsets: torch.Tensor | None = None) -> torch.Tensor:
    """The loss of the module docstring. `kl_weights`: per-class weights of the distillation term (None:
    equal); `logit_offsets`: tau log prior, added to the logits in training only (None: none)."""
    if logit_offsets is not None:
        logits = logits + logit_offsets
    target = torch.softmax(torch.log(soft.clamp_min(1e-6)) / temperature, dim=-1)
    student = torch.log_softmax(logits / temperature, dim=-1)
    if kl_weights is None:
        loss = F.kl_div(student, target, reduction='batchmean') * temperature ** 2
    else:
        per_face = F.kl_div(student, target, reduction='none').sum(dim=-1)
        weight = kl_weights[target_classes(soft, hard)]
        loss = (per_face * weight).sum() / weight.sum() * temperature ** 2
    labelled = hard >= 0
    if hard_weight > 0 and bool(labelled.any()):
        loss = loss + hard_weight * F.cross_entropy(logits[labelled], hard[labelled], weight=class_weights)
    return loss


def target_classes(soft: torch.Tensor, hard: torch.Tensor) -> torch.Tensor:
    """Each face's class: its hard label, else the teacher's most probable class."""
    return torch.where(hard >= 0, hard, soft.argmax(dim=-1))


def class_weights(hard: npt.NDArray[Any], power: float = 0.5) -> torch.Tensor:
    """Loss weight per class, count^-power, mean 1 over the classes present."""
    counts = np.bincount(hard[hard >= 0], minlength=len(EMOTIONS)).astype(np.float64)
    weights = np.where(counts > 0, np.maximum(counts, 1) ** -power, 0.0)
    weights = weights / weights[counts > 0].mean() if (counts > 0).any() else np.ones(len(EMOTIONS))
    return torch.tensor(weights, dtype=torch.float32)


def sampling_weights(hard: npt.NDArray[Any], power: float) -> torch.Tensor:
    """Draw probability of each sample ~ (faces of its hard class)^-power; teacher-only faces (-1) are
    a class of their own."""
    classes = np.where(hard >= 0, hard, len(EMOTIONS))
    counts = np.bincount(classes, minlength=len(EMOTIONS) + 1).astype(np.float64)
    weights = counts[classes] ** -power
    return torch.tensor(weights / weights.sum(), dtype=torch.float64)


def batch_prior(soft: npt.NDArray[Any], hard: npt.NDArray[Any], draw: torch.Tensor | None) -> npt.NDArray[Any]:
    """The class distribution the batches carry: each face's target (its hard label as one-hot, else the
    teacher's probabilities) weighted by its draw probability (None: all alike)."""
    target = np.where((hard >= 0)[:, None], np.eye(len(EMOTIONS))[np.maximum(hard, 0)], soft)
    p = np.full(len(hard), 1.0 / len(hard)) if draw is None else draw.numpy()
    prior: npt.NDArray[Any] = np.clip((p[:, None] * target).sum(axis=0), 1e-4, None)
    out: npt.NDArray[Any] = prior / prior.sum()
    return out


def logit_offsets(prior: npt.NDArray[Any], tau: float) -> torch.Tensor | None:
    """tau log prior as a (7,) tensor; None at tau 0."""
    return torch.tensor(tau * np.log(prior), dtype=torch.float32) if tau else None
