"""Training and evaluation of the ASD emotion model (`attune train asd-emotion`, bench, tests); export in
attune.models.training.asd_emotion_export, scores in attune.models.training.asd_emotion_metrics.

Loss, per batch (Hinton et al. 2015 distillation with the teacher's probabilities as soft targets; the
optional class-weighted KL and logit adjustment in attune.models.training.asd_emotion_loss):

    L = T^2 KL(softmax(log p_teacher / T) || softmax(z / T)) + hard_weight * CE_w(z, y)

where z are the model's logits, T the temperature, and the cross-entropy runs only on the samples with
a hard label, each class weighted by count^-class_power. Classes are balanced in the batches too: each
epoch draws its samples (with replacement) with probability ~ count^-sampling_power of their hard class
(teacher-only faces count as one more class). Rare classes (fear: a dozen training faces) would
otherwise barely move the network; together the two powers (0.5 each) weight a class like 1/count.

The split is by subject (`attune.affect.dataset.subject_split`): nobody is in both training and test. A
validation split of the training subjects picks the epoch whose weights are kept (best validation
macro-F1), then per-class offsets of the output biases that raise validation macro-F1 (tune_biases), and
served the design choices; the test split is only reported. Seeded: the same data and
settings give the same weights on the same machine and torch build.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from attune.affect.dataset import FaceDataset, stratified_subject_split, subject_split
from attune.affect.evaluation import resize_crops
from attune.affect.features import MIRROR, complete_landmarks, landmark_features
from attune.affect.mesh_graph import normalized_adjacency
from attune.emotions import EMOTIONS
from attune.models.layers.asd_emotion_net import AsdEmotionNet
from attune.models.layers.fer_encoder import FER_INPUT_SIZE, FerEncoder
from attune.models.layers.mesh_gcn import MeshGCN
from attune.models.layers.resnet import ResNet
from attune.models.training.asd_emotion_loss import (
    batch_prior,
    class_weights,
    distillation_loss,
    logit_offsets,
    sampling_weights,
)
from attune.models.training.asd_emotion_metrics import classification, metrics, softmax, tune_biases


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run (recorded in the model card and the ONNX metadata)."""

    backbone: str = 'resnet'
    depth: int = 18
    input_size: int = 64
    width: int = 16
    gcn_hidden: int = 64
    gcn_embedding: int = 128
    fusion_hidden: int = 128
    dropout: float = 0.3
    frozen_blocks: int = 2
    backbone_lr_scale: float = 0.2
    epochs: int = 24
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    temperature: float = 2.0
    hard_weight: float = 1.0
    class_power: float = 0.5
    sampling_power: float = 0.5
    #: Class balance of the distillation term and the logit-adjusted loss (asd_emotion_loss); 0 = off.
    kl_class_power: float = 0.0
    logit_adjust: float = 0.0
    select_best: bool = True
    tune_bias: bool = True
    test_fraction: float = 0.2
    val_fraction: float = 0.15
    split: str = 'stratified'
    seed: int = 0
    #: Seed of the training randomness (initialization, batches, augmentation); -1: `seed`. The split
    #: always follows `seed`, so members of a seed ensemble share it.
    train_seed: int = -1
    threads: int = 2
    augment: bool = True


def canonical_reference() -> npt.NDArray[Any]:
    """The canonical neutral face as landmark features (478, 3): the GCN's reference."""
    from attune.face.head_pose import canonical_face_model

    model = canonical_face_model()  # metres, model axes; project it as a camera would see it, frontal
    width = height = 1000
    fx = 1000.0
    z = 0.5
    points = np.empty((468, 3))
    points[:, 0] = (fx * model[:, 0] / z + width / 2) / width
    points[:, 1] = (-fx * model[:, 1] / z + height / 2) / height
    points[:, 2] = -model[:, 2] * fx / z / width
    return landmark_features(complete_landmarks(points), width, height)


#: Crop encoders (`--backbone`): a ResNet from scratch, or the pretrained FER2013 mini-Xception fine-tuned.
BACKBONES = ('resnet', 'fer-minixception')


def build_encoder(config: TrainConfig) -> ResNet | FerEncoder:
    """The crop encoder of `config.backbone`.

    Raises:
        ValueError: an unknown backbone, or an input size the pretrained mini-Xception was not trained at.
    """
    if config.backbone == 'resnet':
        return ResNet(config.depth, config.input_size, in_channels=1, width=config.width)
    if config.backbone == 'fer-minixception':
        if config.input_size != FER_INPUT_SIZE:
            raise ValueError(f'the fer-minixception backbone takes {FER_INPUT_SIZE}x{FER_INPUT_SIZE} crops, '
                             f'got input size {config.input_size}')
        return FerEncoder.pretrained(frozen_blocks=config.frozen_blocks)
    raise ValueError(f'backbone must be one of {", ".join(BACKBONES)}, got {config.backbone!r}')


def build_model(config: TrainConfig) -> AsdEmotionNet:
    """A network for `config`: fresh weights (seed torch first for reproducible ones), except a pretrained
    backbone's."""
    resnet = build_encoder(config)
    gcn = MeshGCN(torch.from_numpy(normalized_adjacency()), torch.from_numpy(canonical_reference()),
                  hidden=config.gcn_hidden, embedding=config.gcn_embedding, dropout=0.1)
    return AsdEmotionNet(resnet, gcn, len(EMOTIONS), hidden=config.fusion_hidden, dropout=config.dropout)


@dataclass
class Tensors:
    crops: torch.Tensor      # (M, 1, S, S) float32 in [-1, 1]
    landmarks: torch.Tensor  # (M, 478, 3)
    soft: torch.Tensor       # (M, 7)
    hard: torch.Tensor       # (M,) int64, -1 = none

    def __len__(self) -> int:
        return len(self.hard)


def to_tensors(data: FaceDataset, size: int) -> Tensors:
    crops = torch.from_numpy(resize_crops(data.crops, size)).float().div(127.5).sub(1.0).unsqueeze(1)
    return Tensors(crops, torch.from_numpy(data.landmarks).float(), torch.from_numpy(data.soft).float(),
                   torch.from_numpy(data.hard).long())


def augment(crops: torch.Tensor, landmarks: torch.Tensor,
            generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random mirror (crop and landmarks together), brightness/contrast, a shift of up to 1/16 of the
    crop, and landmark jitter (about 1 mm)."""
    b = crops.shape[0]
    flip = torch.rand(b, generator=generator) < 0.5
    mirror = torch.from_numpy(MIRROR)
    crops = torch.where(flip[:, None, None, None], crops.flip(-1), crops)
    mirrored = landmarks[:, mirror] * torch.tensor([-1.0, 1.0, 1.0])
    landmarks = torch.where(flip[:, None, None], mirrored, landmarks)
    contrast = 1.0 + 0.25 * (2 * torch.rand(b, 1, 1, 1, generator=generator) - 1)
    brightness = 0.2 * (2 * torch.rand(b, 1, 1, 1, generator=generator) - 1)
    crops = (crops * contrast + brightness).clamp(-1, 1)
    size = crops.shape[-1]
    pad = max(1, size // 16)
    padded = F.pad(crops, (pad, pad, pad, pad), mode='replicate')
    dx, dy = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=generator))
    crops = padded[..., dy:dy + size, dx:dx + size]
    landmarks = landmarks + 0.01 * torch.randn(landmarks.shape, generator=generator)
    return crops, landmarks


def parameter_groups(model: AsdEmotionNet, config: TrainConfig) -> list[dict[str, Any]]:
    """The trainable parameters; a pretrained backbone's at `backbone_lr_scale` times the rate (fine-tuning
    should move it less than the freshly initialized GCN and fusion layers)."""
    encoder = [p for p in model.resnet.parameters() if p.requires_grad]
    rest = [p for name, p in model.named_parameters() if not name.startswith('resnet.') and p.requires_grad]
    if config.backbone == 'resnet':
        return [{'params': encoder + rest}]
    return [{'params': rest}, {'params': encoder, 'lr': config.lr * config.backbone_lr_scale}]


@dataclass
class Split:
    train: npt.NDArray[Any]
    val: npt.NDArray[Any]
    test: npt.NDArray[Any]

    def counts(self, data: FaceDataset) -> dict[str, Any]:
        return {name: {'faces': int(mask.sum()), 'subjects': len(set(data.subjects[mask])),
                       'hard_labelled': int((data.hard[mask] >= 0).sum())}
                for name, mask in (('train', self.train), ('val', self.val), ('test', self.test))}


def split(data: FaceDataset, config: TrainConfig) -> Split:
    """Subject-wise test split, then a subject-wise validation split of the rest (other seed).

    `config.split` 'stratified' (default): `stratified_subject_split`, about the same share of every
    class in each part; 'hashed': `subject_split` (a seeded hash per person, blind to classes; models
    made before the stratified split). Only subjects with hard labels are held out: people seen with
    teacher labels only (the videos) always train, since without hard labels they cannot score
    accuracy, and one video is a large share of all faces."""
    labelled = np.isin(data.subjects, np.unique(data.subjects[data.hard >= 0]))
    val_share = min(config.val_fraction / (1.0 - config.test_fraction), 0.99) if config.val_fraction else 0.0
    if config.split == 'hashed':
        test = labelled & subject_split(data.subjects, config.test_fraction, config.seed)
        val = labelled & ~test & subject_split(data.subjects, val_share, config.seed + 1_000_003)
    elif config.split == 'stratified':
        test = stratified_subject_split(data.subjects, data.hard, config.test_fraction, config.seed, labelled)
        val = stratified_subject_split(data.subjects, data.hard, val_share, config.seed + 1_000_003,
                                       labelled & ~test)
    else:
        raise ValueError(f"split must be 'stratified' or 'hashed', got {config.split!r}")
    return Split(~test & ~val, val, test)


def predict(model: nn.Module, tensors: Tensors, batch_size: int = 128) -> npt.NDArray[Any]:
    """(M, 7) logits of a model in eval mode."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(tensors), batch_size):
            out.append(model(tensors.crops[i:i + batch_size], tensors.landmarks[i:i + batch_size]))
    return torch.cat(out).numpy() if out else np.zeros((0, len(EMOTIONS)), np.float32)


@dataclass
class TrainResult:
    model: nn.Module  # an AsdEmotionNet, or a MeanLogits ensemble of them (asd_emotion_ensemble)
    config: TrainConfig
    split: Split
    history: list[dict[str, float]]
    evaluation: dict[str, Any]
    neutral_reference: npt.NDArray[Any]
    seconds: float
    majority_class: int = 0  # the most frequent hard label of the training faces (the trivial baseline)


def train(data: FaceDataset, config: TrainConfig, log: Any = print,
          init: dict[str, torch.Tensor] | None = None,
          init_gcn: dict[str, torch.Tensor] | None = None) -> TrainResult:
    """Train on the training subjects, keep the epoch best on the validation subjects (macro-F1), and
    evaluate on every split (with the teacher and the majority class as baselines). `init`: weights to
    start from (a state dict of a network with the same settings, e.g. trained before with another
    teacher on the same split) instead of a fresh initialization. `init_gcn`: such a state dict whose
    landmark branch (`gcn.*`) alone is taken, e.g. from a run with another crop encoder."""
    seed = config.seed if config.train_seed < 0 else config.train_seed
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(seed)
    parts = split(data, config)
    if not parts.train.any():
        raise ValueError('no training faces after the subject split')
    train_t = to_tensors(data.subset(parts.train), config.input_size)
    val = data.subset(parts.val)
    val_t = to_tensors(val, config.input_size) if config.select_best and (val.hard >= 0).any() else None
    model = build_model(config)
    if init is not None:
        model.load_state_dict(init)
    if init_gcn is not None:
        model.gcn.load_state_dict({k.removeprefix('gcn.'): v for k, v in init_gcn.items() if k.startswith('gcn.')})
    optimizer = torch.optim.AdamW(parameter_groups(model, config), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(train_t) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g['lr'] for g in optimizer.param_groups],
                                                    total_steps=max(steps, 1), pct_start=0.15)
    weights = class_weights(data.hard[parts.train], config.class_power)
    draw = sampling_weights(data.hard[parts.train], config.sampling_power) if config.sampling_power else None
    kl_weights = class_weights(train_t.hard.numpy(), config.kl_class_power) if config.kl_class_power else None
    adjust = logit_offsets(batch_prior(train_t.soft.numpy(), train_t.hard.numpy(), draw), config.logit_adjust)
    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    start = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(train_t), generator=generator) if draw is None else \
            torch.multinomial(draw, len(train_t), replacement=True, generator=generator)
        total, batches = 0.0, 0
        for i in range(0, len(order), config.batch_size):
            index = order[i:i + config.batch_size]
            if len(index) < 2:
                continue  # BatchNorm needs two samples
            crops, landmarks = train_t.crops[index], train_t.landmarks[index]
            if config.augment:
                crops, landmarks = augment(crops, landmarks, generator)
            loss = distillation_loss(model(crops, landmarks), train_t.soft[index], train_t.hard[index],
                                     config.temperature, config.hard_weight, weights, kl_weights, adjust)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
            batches += 1
        entry: dict[str, Any] = {'epoch': epoch + 1, 'loss': round(total / max(batches, 1), 4)}
        if val_t is not None:
            scores = classification(predict(model, val_t).argmax(axis=1)[val.hard >= 0], val.hard[val.hard >= 0])
            entry.update(val_accuracy=scores['accuracy'], val_macro_f1=scores['macro_f1'])
            if best is None or scores['macro_f1'] > best[0]:
                best = (scores['macro_f1'], epoch + 1, copy.deepcopy(model.state_dict()))
        history.append(entry)
        if log:
            log(f'epoch {epoch + 1}/{config.epochs}: ' + ', '.join(f'{k} {v}' for k, v in entry.items()
                                                                  if k != 'epoch')
                + f' ({time.perf_counter() - start:.0f} s)')
    seconds = time.perf_counter() - start
    if best is not None:
        model.load_state_dict(best[2])
        history.append({'kept_epoch': best[1], 'val_macro_f1': best[0]})
        if log:
            log(f'kept epoch {best[1]} (validation macro-F1 {best[0]})')
    model.eval()
    if config.tune_bias and val_t is not None:
        labelled = val.hard >= 0
        offsets = tune_biases(predict(model, val_t)[labelled], val.hard[labelled])
        with torch.no_grad():
            model.classifier.bias.add_(torch.tensor(offsets, dtype=torch.float32))
        history.append({'bias_offsets': [round(float(x), 3) for x in offsets]})
        if log:
            log(f'class bias offsets from the validation people: {np.round(offsets, 2).tolist()}')
    evaluation = evaluate(model, data, parts, config.input_size)
    neutral = data.hard[parts.train] == EMOTIONS.index('neutral')
    if neutral.any():
        reference = softmax(predict(model, to_tensors(data.subset(parts.train).subset(neutral), config.input_size)))
        neutral_reference = reference.mean(axis=0)
    else:
        neutral_reference = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS))
    train_hard = data.hard[parts.train]
    majority = int(np.bincount(train_hard[train_hard >= 0], minlength=len(EMOTIONS)).argmax())
    return TrainResult(model, config, parts, history, evaluation, neutral_reference.astype(np.float64), seconds,
                       majority)


def evaluate(model: nn.Module, data: FaceDataset, parts: Split, input_size: int) -> dict[str, Any]:
    """Model and baselines (teacher argmax, majority class of the training hard labels) on each split."""
    out: dict[str, Any] = {}
    train_hard = data.hard[parts.train]
    majority = int(np.bincount(train_hard[train_hard >= 0], minlength=len(EMOTIONS)).argmax()) \
        if (train_hard >= 0).any() else 0
    for name, mask in (('train', parts.train), ('val', parts.val), ('test', parts.test)):
        subset = data.subset(mask)
        probabilities = softmax(predict(model, to_tensors(subset, input_size))) if len(subset) else \
            np.zeros((0, len(EMOTIONS)))
        result = metrics(probabilities, subset.soft, subset.hard)
        labelled = subset.hard >= 0
        result['teacher'] = classification(subset.soft[labelled].argmax(axis=1), subset.hard[labelled])
        result['majority'] = classification(np.full(int(labelled.sum()), majority), subset.hard[labelled])
        out[name] = result
    return out
