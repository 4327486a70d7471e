"""Training, evaluation and ONNX export of the ASD emotion model (`attune train asd-emotion`, bench, tests).

Loss, per batch (Hinton et al. 2015 distillation with the teacher's probabilities as soft targets):

    L = T^2 KL(softmax(log p_teacher / T) || softmax(z / T)) + hard_weight * CE_w(z, y)

where z are the model's logits, T the temperature, and the cross-entropy (class-weighted by inverse
square-root frequency) runs only on the samples with a hard label. The split is by subject
(`attune.affect.dataset.subject_split`): nobody is in both training and test. A validation split of the
training subjects serves choices (depth, input size); the test split is only reported. Seeded: the same
data and settings give the same weights on the same machine and torch build.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from attune.affect.dataset import FaceDataset, subject_split
from attune.affect.features import MIRROR, complete_landmarks, landmark_features
from attune.affect.mesh_graph import normalized_adjacency
from attune.affect.model import METADATA_KEY
from attune.expression.labels import EMOTIONS
from attune.models.asd_emotion_net import AsdEmotionNet
from attune.models.mesh_gcn import MeshGCN
from attune.models.resnet import ResNet


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run (recorded in the model card and the ONNX metadata)."""

    depth: int = 18
    input_size: int = 64
    width: int = 16
    gcn_hidden: int = 64
    gcn_embedding: int = 128
    fusion_hidden: int = 128
    dropout: float = 0.3
    epochs: int = 24
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    temperature: float = 2.0
    hard_weight: float = 1.0
    test_fraction: float = 0.2
    val_fraction: float = 0.15
    seed: int = 0
    threads: int = 2
    augment: bool = True


def canonical_reference() -> np.ndarray:
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


def build_model(config: TrainConfig) -> AsdEmotionNet:
    """A freshly initialized network for `config` (seed torch first for reproducible weights)."""
    resnet = ResNet(config.depth, config.input_size, in_channels=1, width=config.width)
    gcn = MeshGCN(torch.from_numpy(normalized_adjacency()), torch.from_numpy(canonical_reference()),
                  hidden=config.gcn_hidden, embedding=config.gcn_embedding, dropout=0.1)
    return AsdEmotionNet(resnet, gcn, len(EMOTIONS), hidden=config.fusion_hidden, dropout=config.dropout)


def resize_crops(crops: np.ndarray, size: int) -> np.ndarray:
    """(M, S, S) uint8 crops resized to (M, size, size) (area averaging when shrinking)."""
    import cv2

    if crops.shape[1] == size:
        return crops
    interpolation = cv2.INTER_AREA if size < crops.shape[1] else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (size, size), interpolation=interpolation) for c in crops]) if len(crops) else \
        np.zeros((0, size, size), np.uint8)


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


def distillation_loss(logits: torch.Tensor, soft: torch.Tensor, hard: torch.Tensor, temperature: float,
                      hard_weight: float, class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """T^2 KL(teacher_T || student_T) + hard_weight * CE on the hard-labelled samples (module docstring)."""
    target = torch.softmax(torch.log(soft.clamp_min(1e-6)) / temperature, dim=-1)
    student = torch.log_softmax(logits / temperature, dim=-1)
    loss = F.kl_div(student, target, reduction='batchmean') * temperature ** 2
    labelled = hard >= 0
    if hard_weight > 0 and bool(labelled.any()):
        loss = loss + hard_weight * F.cross_entropy(logits[labelled], hard[labelled], weight=class_weights)
    return loss


def class_weights(hard: np.ndarray) -> torch.Tensor:
    counts = np.bincount(hard[hard >= 0], minlength=len(EMOTIONS)).astype(np.float64)
    weights = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    weights = weights / weights[counts > 0].mean() if (counts > 0).any() else np.ones(len(EMOTIONS))
    return torch.tensor(weights, dtype=torch.float32)


@dataclass
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def counts(self, data: FaceDataset) -> dict[str, Any]:
        return {name: {'faces': int(mask.sum()), 'subjects': len(set(data.subjects[mask])),
                       'hard_labelled': int((data.hard[mask] >= 0).sum())}
                for name, mask in (('train', self.train), ('val', self.val), ('test', self.test))}


def split(data: FaceDataset, config: TrainConfig) -> Split:
    """Subject-wise test split, then a subject-wise validation split of the rest (different hash seed).

    Only subjects with hard labels are held out: people seen with teacher labels only (the videos)
    always train, since without hard labels they cannot score accuracy, and one video is a large
    share of all faces."""
    labelled = np.isin(data.subjects, np.unique(data.subjects[data.hard >= 0]))
    test = labelled & subject_split(data.subjects, config.test_fraction, config.seed)
    val_share = config.val_fraction / (1.0 - config.test_fraction) if config.val_fraction else 0.0
    val = labelled & ~test & subject_split(data.subjects, min(val_share, 0.99), config.seed + 1_000_003)
    return Split(~test & ~val, val, test)


def predict(model: nn.Module, tensors: Tensors, batch_size: int = 128) -> np.ndarray:
    """(M, 7) logits of a model in eval mode."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(tensors), batch_size):
            out.append(model(tensors.crops[i:i + batch_size], tensors.landmarks[i:i + batch_size]))
    return torch.cat(out).numpy() if out else np.zeros((0, len(EMOTIONS)), np.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def metrics(probabilities: np.ndarray, soft: np.ndarray, hard: np.ndarray) -> dict[str, Any]:
    """accuracy and macro-F1 against the hard labels (classes present in them), mean KL(teacher || model)
    in nats, and the counts they rest on."""
    p = np.clip(probabilities, 1e-7, 1.0)
    q = np.clip(soft, 1e-7, 1.0)
    kl = float(np.mean(np.sum(q * (np.log(q) - np.log(p)), axis=1))) if len(p) else math.nan
    labelled = hard >= 0
    y, pred = hard[labelled], probabilities[labelled].argmax(axis=1) if labelled.any() else np.zeros(0, int)
    result: dict[str, Any] = {'faces': len(p), 'hard_labelled': int(labelled.sum()), 'kl_teacher': _r(kl)}
    result.update(classification(pred, y))
    return result


def classification(pred: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """accuracy, macro-F1 over the classes present in y, per-class F1 and the confusion matrix."""
    if len(y) == 0:
        return {'accuracy': None, 'macro_f1': None, 'f1': {}, 'confusion': []}
    confusion = np.zeros((len(EMOTIONS), len(EMOTIONS)), dtype=int)
    for t, p in zip(y, pred):
        confusion[t, p] += 1
    f1 = {}
    for c in sorted(set(y.tolist())):
        tp = confusion[c, c]
        precision = tp / confusion[:, c].sum() if confusion[:, c].sum() else 0.0
        recall = tp / confusion[c].sum()
        f1[EMOTIONS[c]] = _r(2 * precision * recall / (precision + recall)) if precision + recall else 0.0
    return {'accuracy': _r(float((pred == y).mean())), 'macro_f1': _r(float(np.mean(list(f1.values())))),
            'f1': f1, 'confusion': confusion.tolist()}


def _r(x: float) -> float | None:
    return round(float(x), 4) if x is not None and math.isfinite(x) else None


@dataclass
class TrainResult:
    model: AsdEmotionNet
    config: TrainConfig
    split: Split
    history: list[dict[str, float]]
    evaluation: dict[str, Any]
    neutral_reference: np.ndarray
    seconds: float


def train(data: FaceDataset, config: TrainConfig, log: Any = print) -> TrainResult:
    """Train on the training subjects; evaluate on validation and test subjects (and the teacher itself)."""
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    parts = split(data, config)
    if not parts.train.any():
        raise ValueError('no training faces after the subject split')
    train_t = to_tensors(data.subset(parts.train), config.input_size)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(train_t) / config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max(steps, 1),
                                                    pct_start=0.15)
    weights = class_weights(data.hard[parts.train])
    history = []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(train_t), generator=generator)
        total, batches = 0.0, 0
        for i in range(0, len(order), config.batch_size):
            index = order[i:i + config.batch_size]
            if len(index) < 2:
                continue  # BatchNorm needs two samples
            crops, landmarks = train_t.crops[index], train_t.landmarks[index]
            if config.augment:
                crops, landmarks = augment(crops, landmarks, generator)
            loss = distillation_loss(model(crops, landmarks), train_t.soft[index], train_t.hard[index],
                                     config.temperature, config.hard_weight, weights)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
            batches += 1
        history.append({'epoch': epoch + 1, 'loss': round(total / max(batches, 1), 4)})
        if log and ((epoch + 1) % 5 == 0 or epoch == 0 or epoch + 1 == config.epochs):
            log(f'epoch {epoch + 1}/{config.epochs}: loss {total / max(batches, 1):.4f} '
                f'({time.perf_counter() - start:.0f} s)')
    seconds = time.perf_counter() - start
    evaluation = evaluate(model, data, parts, config.input_size)
    neutral = data.hard[parts.train] == EMOTIONS.index('neutral')
    if neutral.any():
        reference = softmax(predict(model, to_tensors(data.subset(parts.train).subset(neutral), config.input_size)))
        neutral_reference = reference.mean(axis=0)
    else:
        neutral_reference = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS))
    return TrainResult(model, config, parts, history, evaluation, neutral_reference.astype(np.float64), seconds)


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


def torch_reference(result: TrainResult, data: FaceDataset, count: int = 8) -> dict[str, np.ndarray]:
    """Real inputs (the first `count` test faces, else any) and the torch model's outputs on them: what a
    test compares onnxruntime against without torch."""
    index = np.flatnonzero(result.split.test)[:count]
    if len(index) < count:
        index = np.arange(min(count, len(data)))
    subset = data.subset(index)
    tensors = to_tensors(subset, result.config.input_size)
    logits = predict(result.model, tensors)
    return {'crops': resize_crops(subset.crops, result.config.input_size), 'landmarks': subset.landmarks,
            'logits': logits.astype(np.float32), 'probabilities': softmax(logits).astype(np.float32)}


# --- export ----------------------------------------------------------------------------------------
class _Exported(nn.Module):
    def __init__(self, model: AsdEmotionNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, crop: torch.Tensor, landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(crop, landmarks)
        return logits, torch.softmax(logits, dim=-1)


def metadata(result: TrainResult) -> dict[str, Any]:
    c = result.config
    return {'depth': c.depth, 'width': c.width, 'input_size': c.input_size, 'emotions': list(EMOTIONS),
            'temperature': c.temperature, 'neutral_reference': [round(float(x), 6) for x in result.neutral_reference],
            'config': asdict(c)}


def export_onnx(result: TrainResult, path: Path | str) -> dict[str, Any]:
    """Write the model as ONNX (inputs crop, landmarks; outputs logits, probabilities; dynamic batch),
    with the settings in metadata; check onnxruntime against torch. Returns the check's numbers."""
    import onnx
    import onnxruntime as ort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = _Exported(result.model).eval()
    size = result.config.input_size
    example = (torch.zeros(2, 1, size, size), torch.zeros(2, 478, 3))
    batch = torch.export.Dim('batch', min=1, max=1024)
    program = torch.onnx.export(model, example, dynamo=True, input_names=['crop', 'landmarks'],
                                output_names=['logits', 'probabilities'],
                                dynamic_shapes={'crop': {0: batch}, 'landmarks': {0: batch}}, verbose=False)
    program.save(str(path))
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata(result))
    proto.producer_name = 'attune train asd-emotion'
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    # onnxruntime against torch on random and batch-1 inputs
    generator = torch.Generator().manual_seed(1)
    crops = torch.rand(5, 1, size, size, generator=generator) * 2 - 1
    landmarks = torch.from_numpy(canonical_reference())[None].repeat(5, 1, 1) + 0.02 * torch.randn(
        5, 478, 3, generator=generator)
    with torch.no_grad():
        expected = model(crops, landmarks)[1].numpy()
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(['probabilities'], {'crop': crops.numpy(), 'landmarks': landmarks.numpy()})[0]
    single = session.run(['probabilities'], {'crop': crops[:1].numpy(), 'landmarks': landmarks[:1].numpy()})[0]
    return {'max_abs_diff': float(np.abs(got - expected).max()),
            'batch1_max_abs_diff': float(np.abs(single - expected[:1]).max()),
            'bytes': path.stat().st_size}
