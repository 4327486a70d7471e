"""Training, evaluation and ONNX export of the spiking FER model (CS3D) and its C3D twin.

Used by `attune train spiking-fer` (attune.cli.train_spiking_fer) and by tests. Both networks are
distilled from the frame-based expression teacher with the same data, seed and schedule, evaluated on
the same held-out people, and their operations are counted on the same windows, so the card's
comparison is like for like.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional

from attune.emotions import EMOTIONS
from attune.events.emulated_windows import SACCADE_SCALE
from attune.events.energy import OpEnergy
from attune.events.window_set import WindowSet, WindowSpec, headline, metrics
from attune.models.layers.c3d import C3DTwin
from attune.models.layers.cs3d import CS3D

#: `Expression.source` of the spiking model, and of its twin when it is deployed for comparison.
SOURCE_NAME = 'cs3d_snn'
TWIN_SOURCE_NAME = 'c3d_twin'

#: Either network: both have `counted` (logits and operation counts), `convs` and `readout`.
FerNet = CS3D | C3DTwin


@dataclass(frozen=True)
class SpikingFerTrainConfig:
    """Optimisation settings (the same for CS3D and its twin)."""

    epochs: int = 8
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1
    channels: tuple[int, int, int] = (8, 16, 32)
    class_balance: float = 0.25  #: class weight = count ** -class_balance (0: plain distillation)
    readout: int = 4  #: firing rates averaged onto a readout x readout grid per channel before the head
    shift_px: int = 2  #: random translation of each training window by up to this many pixels (0: none)
    event_dropout: float = 0.1  #: fraction of a training window's events dropped at random (sensor variation)
    change_weight: float = 1.0  #: loss weight of onset/offset windows (the expression changing) against stills
    target_temperature: float = 1.0  #: targets sharpened (< 1) or softened (> 1) as y ** (1 / T), renormalised
    val_fraction: float = 0.0  #: of each source's training people, a seeded fraction kept for model selection


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def build(kind: str, config: SpikingFerTrainConfig) -> FerNet:
    """A fresh network: kind 'cs3d' (spiking) or 'c3d' (the twin)."""
    if kind == 'cs3d':
        return CS3D(len(EMOTIONS), channels=config.channels, readout=config.readout)
    if kind == 'c3d':
        return C3DTwin(len(EMOTIONS), channels=config.channels, readout=config.readout)
    raise ValueError(f"unknown model kind {kind!r} (cs3d, c3d)")


def _class_weights(y: npt.NDArray[Any], power: float) -> torch.Tensor:
    counts = np.bincount(y.argmax(axis=1), minlength=y.shape[1]).astype(np.float64)
    weights = np.where(counts > 0, np.maximum(counts, 1) ** -power, 0.0)
    weights *= (counts > 0).sum() / max(weights.sum(), 1e-9)
    return torch.tensor(weights, dtype=torch.float32)


def sharpen(y: npt.NDArray[Any], temperature: float) -> npt.NDArray[Any]:
    """Soft targets raised to 1 / temperature and renormalised (temperature 1: unchanged)."""
    if temperature == 1.0:
        return y
    powered = np.power(np.clip(y, 0.0, 1.0), 1.0 / temperature)
    out: npt.NDArray[np.float32] = (powered / np.maximum(powered.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)
    return out


def sample_weights(data: WindowSet, config: SpikingFerTrainConfig) -> torch.Tensor:
    """Per-window loss weight: the class weight of the window's target times `change_weight` for
    onset/offset windows."""
    weights = _class_weights(data.y, config.class_balance)[torch.from_numpy(data.y.argmax(axis=1))]
    change = torch.from_numpy(np.isin(data.kind, ('onset', 'offset')))
    return weights * torch.where(change, config.change_weight, 1.0)


def validation_mask(data: WindowSet, fraction: float, seed: int) -> npt.NDArray[Any]:
    """Windows of validation people: per source, a seeded `fraction` of the people not held out for
    testing (another draw than the test split's), so model selection never sees a test person."""
    mask = np.zeros(len(data), bool)
    if fraction <= 0:
        return mask
    for source in sorted(set(data.source[~data.test].tolist())):
        people = sorted(set(data.subject[~data.test & (data.source == source)].tolist()))
        if len(people) < 2:
            continue
        # a stable number per source (hash() is salted per process); 7 makes it another draw than the test split
        rng = np.random.default_rng([seed, 7, int.from_bytes(source.encode()[:8].ljust(8, b'_'), 'little')])
        rng.shuffle(people)
        chosen = people[:min(max(1, math.ceil(fraction * len(people))), len(people) - 1)]
        mask |= ~data.test & (data.source == source) & np.isin(data.subject, chosen)
    return mask


def augment(x: torch.Tensor, config: SpikingFerTrainConfig, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips, translations (a detector's box is never exactly centred; zero fill) and
    event dropout of a (B, 2, T, H, W) batch of training windows."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    x[flip] = x[flip].flip(-1)
    s = config.shift_px
    if s > 0:
        padded = functional.pad(x, (s, s, s, s))
        h, w = x.shape[-2:]
        offsets = torch.randint(0, 2 * s + 1, (len(x), 2), generator=generator).tolist()
        x = torch.stack([padded[i, ..., dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])
    if config.event_dropout > 0:
        x = x * (torch.rand(x.shape, generator=generator) >= config.event_dropout)
    return x


def train(model: nn.Module, data: WindowSet, config: SpikingFerTrainConfig,
          log: Callable[[str], object] = print) -> list[float]:
    """Train on `data` (soft-label cross-entropy, class-balanced, augmented by `augment`); return the
    mean loss per epoch. Seeded: the same data and config give the same weights."""
    seed_everything(config.seed)
    torch.set_num_threads(config.threads)
    x_all = torch.from_numpy(data.x)
    y_all = torch.from_numpy(sharpen(data.y, config.target_temperature))
    weights = sample_weights(data, config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(data) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=max(steps, 1))
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(data), generator=generator)
        total, start = 0.0, time.perf_counter()
        for i in range(0, len(data), config.batch_size):
            idx = order[i:i + config.batch_size]
            x = x_all[idx].float()
            x = augment(x, config, generator)
            y = y_all[idx]
            logits = model(x)
            per_sample = -(y * functional.log_softmax(logits, dim=1)).sum(dim=1)
            loss = (per_sample * weights[idx]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(data))
        log(f'  epoch {epoch + 1}/{config.epochs}: loss {losses[-1]:.3f} ({time.perf_counter() - start:.0f} s)')
    model.eval()
    return losses


@torch.no_grad()
def predict(model: FerNet, x: npt.NDArray[Any], batch_size: int = 64) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """(probabilities (N, K), ops (N, 2)) of a model in eval mode on uint8/float frames."""
    model.eval()
    probs, ops = [], []
    for i in range(0, len(x), batch_size):
        logits, o = model.counted(torch.from_numpy(x[i:i + batch_size]).float())
        probs.append(torch.softmax(logits, dim=1).numpy())
        ops.append(o.numpy())
    k = len(EMOTIONS)
    return (np.concatenate(probs) if probs else np.zeros((0, k), np.float32),
            np.concatenate(ops) if ops else np.zeros((0, 2), np.float32))


class Deployed(nn.Module):
    """What is exported: frames -> (probabilities (B, K), ops (B, 2) = [accumulates, MACs])."""

    def __init__(self, model: FerNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, ops = self.model.counted(frames)
        return torch.softmax(logits, dim=1), ops


def export_onnx(model: FerNet, path: Path, spec: WindowSpec, source: str,
                energy: OpEnergy | None = None) -> None:
    """Export to ONNX (dynamo exporter, opset 18, batch dimension dynamic) with the metadata the node
    reads: labels, window_s, bins, size, source, the per-op energies used on the card, the face window's
    margin and the saccade amplitude the windows were emulated with (and the range of factors of it drawn
    in training)."""
    import onnx

    model.eval()
    energy = energy or OpEnergy()
    window = spec.window_options()  # what build_window_set emulates with
    example = torch.zeros(1, 2, spec.bins, spec.size, spec.size)
    batch = torch.export.Dim('batch', min=1, max=64)
    program = torch.onnx.export(Deployed(model).eval(), (example,), dynamo=True, input_names=['frames'],
                                output_names=['probabilities', 'ops'], dynamic_shapes=({0: batch},),
                                opset_version=18, verbose=False)
    if program is None:
        raise RuntimeError('torch.onnx.export returned no program')
    program.optimize()
    proto = program.model_proto
    meta = {'labels': ','.join(EMOTIONS), 'window_s': repr(spec.window_s), 'bins': str(spec.bins),
            'size': str(spec.size), 'source': source, 'mac_pj': repr(energy.mac_pj), 'ac_pj': repr(energy.ac_pj),
            'channels': ','.join(str(c) for c in channels_of(model)), 'readout': str(model.readout),
            'window_margin': repr(window.margin), 'saccade_amplitude_px': repr(window.saccade_amplitude_px),
            'saccade_scale': ','.join(repr(v) for v in SACCADE_SCALE)}
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(proto)
    onnx.save_model(proto, str(path))


def channels_of(model: FerNet) -> tuple[int, ...]:
    """The stage widths of a CS3D or C3D twin (from its weights, so a loaded state dict tells them too)."""
    widths = []
    for conv in model.convs:
        spatial: Any = getattr(conv, 'spatial', conv)  # CS3D: a DecomposedConv3d's spatial convolution
        widths.append(int(spatial.out_channels))
    return tuple(widths)


def config_dict(config: SpikingFerTrainConfig) -> dict[str, Any]:
    d = asdict(config)
    d['channels'] = list(config.channels)
    return d


@dataclass(frozen=True)
class RunResult:
    """What a training run produced (paths and the numbers on the card)."""

    onnx: Path
    twin_onnx: Path | None
    card: Path
    summary: dict[str, Any]


def real_windows(path: Path, spec: WindowSpec, step_s: float = 0.05) -> npt.NDArray[Any]:
    """Face windows of a real event recording (AEDAT4), every step_s, for the energy measurement."""
    from attune.events.aedat4 import read_aedat4
    from attune.events.sensor_roi import recording_windows

    recording = read_aedat4(path)
    windows = recording_windows(recording.events, spec.window_ns, int(step_s * 1e9), spec.bins, spec.size)
    if not windows:
        return np.zeros((0, 2, spec.bins, spec.size, spec.size), np.uint8)
    stacked: npt.NDArray[np.uint8] = np.stack(windows).astype(np.uint8)
    return stacked


def run(data: WindowSet, out_dir: Path, name: str, spec: WindowSpec, config: SpikingFerTrainConfig, *,
        twin: bool = True, real_events: Path | None = None, command: str = '', data_notes: list[str] | None = None,
        checkpoint_dir: Path | None = None, log: Callable[[str], object] = print) -> RunResult:
    """Train CS3D (and its C3D twin) on the training subjects of `data`, evaluate both on the held-out
    subjects, count their operations on held-out and (optionally) real event windows, export ONNX and
    write the model card `<name>.md` beside `<name>.onnx`."""
    from attune.events.energy import compare_energy
    from attune.models.training.spiking_fer_card import model_card

    out_dir.mkdir(parents=True, exist_ok=True)
    val = validation_mask(data, config.val_fraction, config.seed)
    train_set, val_set, test_set = data.subset(~data.test & ~val), data.subset(val), data.subset(data.test)
    if not len(train_set):
        raise ValueError('no training windows (every subject is held out)')
    log(f'{len(train_set)} training windows, {len(val_set)} validation windows, {len(test_set)} held-out windows')
    models: dict[str, FerNet] = {}
    for kind in ('cs3d', 'c3d') if twin else ('cs3d',):
        seed_everything(config.seed)  # the initial weights too: torch's own seed differs per process
        models[kind] = build(kind, config)
    summary: dict[str, Any] = {'config': config_dict(config), 'spec': asdict(spec), 'train_windows': len(train_set),
                     'validation_windows': len(val_set), 'test_windows': len(test_set), 'models': {}}
    ops: dict[str, dict[str, npt.NDArray[Any]]] = {}
    real = real_windows(real_events, spec) if real_events is not None else None
    for kind, model in models.items():
        log(f'training {kind} ({sum(p.numel() for p in model.parameters())} parameters)')
        start = time.perf_counter()
        losses = train(model, train_set, config, log)
        entry: dict[str, Any] = {'parameters': sum(p.numel() for p in model.parameters()),
                                 'train_s': time.perf_counter() - start,
                                 'final_loss': losses[-1] if losses else float('nan')}
        ops[kind] = {}
        if len(val_set):
            entry['validation'] = headline(metrics(predict(model, val_set.x)[0], val_set))
            log(f'{kind} validation: {entry["validation"]}')
        if len(test_set):
            probs, test_ops = predict(model, test_set.x)
            entry['held_out'] = metrics(probs, test_set)
            entry['eval'] = headline(entry['held_out'])
            log(f'{kind} held out: {entry["eval"]}')
            ops[kind]['held_out'] = test_ops
        if real is not None and len(real):
            _, ops[kind]['real'] = predict(model, real)
        summary['models'][kind] = entry
        if checkpoint_dir is not None:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
            torch.save(model.state_dict(), checkpoint_dir / f'{name}_{kind}.pt')
    energy = {}
    if twin:
        for where in ('held_out', 'real'):
            if where in ops['cs3d'] and where in ops['c3d']:
                energy[where] = compare_energy(ops['cs3d'][where], ops['c3d'][where]).as_dict()
    summary['energy'] = energy
    if 'held_out' in ops['cs3d']:
        rates = ops['cs3d']['held_out'][:, 0]
        summary['snn_accumulates_per_window'] = float(rates.mean())
    onnx_path = out_dir / f'{name}.onnx'
    export_onnx(models['cs3d'], onnx_path, spec, SOURCE_NAME)
    torch.save(models['cs3d'].state_dict(), out_dir / f'{name}.pt')  # for the torch/ONNX agreement test
    twin_path = None
    if twin:
        twin_path = out_dir / f'{name}_c3d_twin.onnx'
        export_onnx(models['c3d'], twin_path, spec, TWIN_SOURCE_NAME)
    if checkpoint_dir is not None:
        import json

        (checkpoint_dir / f'{name}_summary.json').write_text(json.dumps(summary, indent=1, default=str))
    card = out_dir / f'{name}.md'
    card.write_text(model_card(name, summary, command, data_notes or [], real_events), encoding='utf-8')
    return RunResult(onnx_path, twin_path, card, summary)
