"""Training of the sign models (used by `attune train sign` and bench/sign.py); export and model
cards are in sign_export and sign_card.

Isolated: every epoch, the training blocks re-rendered as other signers and cameras would record
them (attune.sign.augment: hand proportions, tilt, roll, distance, aspect, speed, jitter, the other
hand; a share `clean_fraction` of the blocks as recorded), cut into windows of `window` frames and
augmented at feature level (a hand lost for a few frames, sequences shorter than the window;
attune.models.training.sign_augment), cross-entropy with label smoothing. Continuous: sequences composed
from the training blocks afresh every epoch (attune.sign.compose), feature-level augmentation, CTC
loss. Both are scored on held-out blocks only; the split, the seed and every setting are recorded
in the model card.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from attune.models.training.sign_augment import augment
from attune.sign.augment import SignerVariation, signer_variation, vary_segment
from attune.sign.compose import ComposedSequence, ComposeOptions, SequenceComposer
from attune.sign.ctc import beam_decode, error_rate, greedy_decode, log_softmax
from attune.sign.datasets import LandmarkDataset, SignSplit, split_blocks, windows
from attune.sign.evaluation import VARIED_SEED, robustness, window_scores
from attune.sign.features import FEATURE_DIM, GROUPS, group_mask
from attune.sign.model import SignModelInfo

if TYPE_CHECKING:
    from attune.models.layers.sign_encoder import SignEncoder

_PRESENCE = GROUPS['presence'][0]


@dataclass(frozen=True)
class SignTrainConfig:
    """Every setting of one training run (recorded in the model card)."""

    task: Literal['isolated', 'continuous'] = 'isolated'
    window: int = 16
    max_len: int = 512
    dim: int = 64
    depth: int = 3
    bottleneck: int = 32
    kernel_size: int = 5
    dropout: float = 0.1
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-2
    label_smoothing: float = 0.05
    test_fraction: float = 0.25
    split_seed: int = 0
    split_strategy: Literal['random', 'tail'] = 'random'
    seed: int = 0
    stride: int = 2
    sequences_per_epoch: int = 1024
    test_sequences: int = 400
    beam_width: int = 8
    threads: int = 2
    vary_signer: bool = True
    clean_fraction: float = 0.25
    joint_angles: int = 0  # SignEncoder joint_angles: 0 off, 1 added, 2 instead of positions
    compose: ComposeOptions = field(default_factory=ComposeOptions)


@dataclass
class SignTrainResult:
    model: nn.Module
    info: SignModelInfo
    metrics: dict[str, Any]
    split: SignSplit
    config: SignTrainConfig


def _normalization(features: npt.NDArray[Any], groups: tuple[str, ...]) -> tuple[torch.Tensor, ...]:
    mask = torch.from_numpy(group_mask(groups))
    flat = torch.from_numpy(features.reshape(-1, FEATURE_DIM))
    present = flat[:, _PRESENCE] > 0
    rows = flat[present] if present.any() else flat
    return mask, rows.mean(0), rows.std(0)


def _architecture(config: SignTrainConfig, max_len: int) -> dict[str, Any]:
    architecture = {'dim': config.dim, 'depth': config.depth, 'bottleneck': config.bottleneck,
                    'kernel_size': config.kernel_size, 'max_len': max_len, 'dropout': config.dropout}
    return {**architecture, 'joint_angles': config.joint_angles} if config.joint_angles else architecture


def _encoder(config: SignTrainConfig, max_len: int) -> SignEncoder:
    from attune.models.layers.sign_encoder import SignEncoder

    return SignEncoder(FEATURE_DIM, **_architecture(config, max_len))


def _schedule(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = max(1, steps // 20)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))


# --- isolated --------------------------------------------------------------------------------------
def train_isolated(dataset: LandmarkDataset, config: SignTrainConfig, name: str,
                   log: Callable[[str], None] = print, *,
                   variation: SignerVariation | None = None) -> SignTrainResult:
    """Train an IsolatedSignClassifier on the training blocks; score it on the held-out blocks, as
    recorded and as other signers would show them (attune.sign.evaluation.robustness).
    variation: the signer variation of training and of the check (default: the data set's,
    attune.sign.augment.signer_variation)."""
    from attune.models.layers.sign_classifier import IsolatedSignClassifier

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    split = split_blocks(dataset, test_fraction=config.test_fraction, seed=config.split_seed,
                         strategy=config.split_strategy)
    x_clean, y_clean, _ = windows(split.train, config.window, config.stride)
    x_test, y_test, _ = windows(split.test, config.window, 1)
    log(f'{dataset.name}: {len(dataset.segments)} blocks, {len(split.test_blocks)} held out; '
        f'{len(x_clean)} training windows per epoch, {len(x_test)} test windows')
    model = IsolatedSignClassifier(_encoder(config, config.window), len(dataset.glosses))
    model.encoder.set_normalization(*_normalization(x_clean, dataset.groups))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(x_clean) * 1.1 / config.batch_size)  # variation changes the count a little
    scheduler = _schedule(optimizer, config.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    variation = signer_variation(dataset) if variation is None else variation
    feature_level: dict[str, Any] = dict(mirror=dataset.mirror_augment and not config.vary_signer,
                         rotation_deg=0.0 if config.vary_signer else dataset.rotation_deg,
                         aspect=0.0 if config.vary_signer else 0.15, noise=0.0 if config.vary_signer else 0.03)
    start, steps = time.monotonic(), 0
    for epoch in range(config.epochs):
        x_train, y_train = _epoch_windows(split.train, config, variation, rng) if config.vary_signer \
            else (x_clean, y_clean)
        xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for i in range(math.ceil(len(xt) / config.batch_size)):
            idx = order[i * config.batch_size:(i + 1) * config.batch_size]
            x = augment(xt[idx], generator, **feature_level)
            loss = loss_fn(model(x), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if steps < config.epochs * steps_per_epoch - 1:
                scheduler.step()
                steps += 1
            total += float(loss.detach()) * len(idx)
        if epoch % 5 == 4 or epoch == config.epochs - 1:
            accuracy = isolated_accuracy(model, x_test, y_test)
            log(f'epoch {epoch + 1}/{config.epochs}: loss {total / len(xt):.4f}, held-out window accuracy '
                f'{accuracy:.4f} ({time.monotonic() - start:.0f} s)')
    model.eval()
    training_s = round(time.monotonic() - start, 1)
    predict = lambda x: _predict(model, x)  # noqa: E731
    scores = window_scores(predict, split.test, config.window)
    varied = robustness(predict, split.test, config.window, variation, seed=VARIED_SEED)
    metrics = {
        'held_out_window_accuracy': scores['window_accuracy'],
        'held_out_block_accuracy': scores['block_accuracy'],
        'held_out_varied_window_accuracy': varied['all'],
        'held_out_varied_by_component': {k: v for k, v in varied.items() if k != 'all'},
        'train_windows': int(len(x_clean)), 'test_windows': int(len(x_test)),
        'blocks': len({s.block for s in dataset.segments}),
        'test_blocks': len(split.test_blocks), 'guard_frames_dropped': split.dropped_frames,
        'per_gloss_accuracy': scores['per_gloss'],
        'training_s': training_s,
    }
    info = SignModelInfo(name=name, task='isolated', glosses=dataset.glosses, window=config.window,
                         groups=dataset.groups, dataset=dataset.name, architecture=_architecture(config, config.window))
    return SignTrainResult(model, info, metrics, split, config)


def _epoch_windows(train: LandmarkDataset, config: SignTrainConfig, variation: SignerVariation,
                   rng: np.random.Generator) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """One epoch's training windows: each block as another signer would record it (a share
    clean_fraction as recorded), windows at a random offset of the stride."""
    segments = tuple(s if rng.random() < config.clean_fraction
                     else vary_segment(s, variation, rng, hand_free=train.mirror_augment) for s in train.segments)
    offset = int(rng.integers(0, config.stride))
    varied = replace(train, segments=tuple(replace(s, points=s.points[offset:],
                                                   depth=None if s.depth is None else s.depth[offset:],
                                                   stamps_s=None if s.stamps_s is None else s.stamps_s[offset:])
                                           if len(s) > config.window + offset else s for s in segments))
    x, y, _ = windows(varied, config.window, config.stride)
    return x, y


def _predict(model: nn.Module, x: npt.NDArray[Any], batch: int = 1024) -> npt.NDArray[Any]:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])).argmax(1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def isolated_accuracy(model: nn.Module, x: npt.NDArray[Any], y: npt.NDArray[Any]) -> float:
    if not len(y):
        return float('nan')
    return float((_predict(model, x) == y).mean())


# --- continuous ------------------------------------------------------------------------------------
def _pad(sequences: list[npt.NDArray[Any]]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in sequences])
    x = torch.zeros(len(sequences), int(lengths.max()), FEATURE_DIM)
    for i, s in enumerate(sequences):
        x[i, :len(s)] = torch.from_numpy(s)
    return x, lengths


def train_continuous(dataset: LandmarkDataset, config: SignTrainConfig, name: str,
                     log: Callable[[str], None] = print) -> SignTrainResult:
    """Train a ContinuousSignRecognizer with CTC on sequences composed from the training blocks;
    score greedy and beam decoding on sequences composed from the held-out blocks."""
    from attune.models.layers.sign_ctc import ContinuousSignRecognizer

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    split = split_blocks(dataset, test_fraction=config.test_fraction, seed=config.split_seed,
                         strategy=config.split_strategy)
    composer = SequenceComposer(split.train, config.compose)
    test = held_out_sequences(split, config)
    log(f'{dataset.name}: continuous, {len(split.test_blocks)} blocks held out, {len(test)} test sequences')
    probe = [composer.sample(rng).features for _ in range(200)]
    model = ContinuousSignRecognizer(_encoder(config, config.max_len), len(dataset.glosses))
    model.encoder.set_normalization(*_normalization(np.concatenate(probe)[None], dataset.groups))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    batch = min(config.batch_size, 32)
    batches = math.ceil(config.sequences_per_epoch / batch)
    scheduler = _schedule(optimizer, config.epochs * batches)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    start = time.monotonic()
    for epoch in range(config.epochs):
        model.train()
        total = 0.0
        for _ in range(batches):
            sequences = [composer.sample(rng) for _ in range(batch)]
            x, lengths = _pad([s.features for s in sequences])
            x = augment(x, generator, mirror=dataset.mirror_augment, rotation_deg=dataset.rotation_deg, short=False)
            targets = torch.tensor([k + 1 for s in sequences for k in s.labels])
            target_lengths = torch.tensor([len(s.labels) for s in sequences])
            log_probs = torch.log_softmax(model(x), dim=-1).transpose(0, 1)
            loss = ctc(log_probs, targets, lengths, target_lengths)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            total += float(loss.detach())
        if epoch % 5 == 4 or epoch == config.epochs - 1:
            cer = continuous_error_rates(model, test[:100], beam_width=0)['greedy']
            log(f'epoch {epoch + 1}/{config.epochs}: CTC loss {total / batches:.4f}, held-out greedy error rate '
                f'(100 seq.) {cer:.4f} ({time.monotonic() - start:.0f} s)')
    model.eval()
    rates = continuous_error_rates(model, test, beam_width=config.beam_width)
    metrics = {
        'held_out_error_rate_greedy': rates['greedy'], 'held_out_error_rate_beam': rates['beam'],
        'held_out_sequence_accuracy_greedy': rates['greedy_sequence_accuracy'],
        'test_sequences': len(test), 'mean_test_glosses': float(np.mean([len(s.labels) for s in test])),
        'mean_test_frames': float(np.mean([len(s.features) for s in test])),
        'test_blocks': len(split.test_blocks), 'guard_frames_dropped': split.dropped_frames,
        'training_s': round(time.monotonic() - start, 1),
    }
    info = SignModelInfo(name=name, task='continuous', glosses=dataset.glosses, window=config.max_len,
                         groups=dataset.groups, dataset=dataset.name,
                         architecture=_architecture(config, config.max_len))
    return SignTrainResult(model, info, metrics, split, config)


def held_out_sequences(split: SignSplit, config: SignTrainConfig) -> list[ComposedSequence]:
    """The fixed held-out composed sequences (seeded independently of training)."""
    composer = SequenceComposer(split.test, config.compose)
    rng = np.random.default_rng(10_000 + config.split_seed)
    return [composer.sample(rng) for _ in range(config.test_sequences)]


def continuous_error_rates(model: Any, sequences: list[ComposedSequence], beam_width: int = 8) -> dict[str, float]:
    """Greedy and beam error rates of a torch model or an attune.sign.model.SignModel."""
    references, greedy, beam = [], [], []
    for s in sequences:
        if isinstance(model, nn.Module):
            with torch.no_grad():
                logits = model(torch.from_numpy(s.features)[None])[0].numpy()
            lp = log_softmax(logits.astype(np.float64))
        else:
            lp = model.log_probs(s.features)
        references.append(s.labels)
        greedy.append(greedy_decode(lp).labels)
        if beam_width:
            beam.append(beam_decode(lp, beam_width)[0].labels)
    return {'greedy': error_rate(references, greedy),
            'beam': error_rate(references, beam) if beam_width else float('nan'),
            'greedy_sequence_accuracy': float(np.mean([r == g for r, g in zip(references, greedy)]))}
