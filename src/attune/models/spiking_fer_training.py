"""Training, evaluation and ONNX export of the spiking FER model (CS3D) and its C3D twin.

Used by `attune train spiking-fer` (attune.cli.train_spiking_fer) and by tests. Both networks are
trained with the same data, seed and schedule, evaluated on the same held-out subjects, and their
operations are counted on the same windows, so the card's comparison is like for like.
"""
from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from attune.events.dataset import WindowSet, WindowSpec, metrics
from attune.events.energy import OpEnergy
from attune.expression.labels import EMOTIONS
from attune.models.c3d import C3DTwin
from attune.models.cs3d import CS3D

#: `Expression.source` of the spiking model, and of its twin when it is deployed for comparison.
SOURCE_NAME = 'cs3d_snn'
TWIN_SOURCE_NAME = 'c3d_twin'


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (the same for CS3D and its twin)."""

    epochs: int = 15
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 2
    channels: tuple[int, int, int] = (16, 32, 64)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def build(kind: str, config: TrainConfig) -> nn.Module:
    """A fresh network: kind 'cs3d' (spiking) or 'c3d' (the twin)."""
    if kind == 'cs3d':
        return CS3D(len(EMOTIONS), channels=config.channels)
    if kind == 'c3d':
        return C3DTwin(len(EMOTIONS), channels=config.channels)
    raise ValueError(f"unknown model kind {kind!r} (cs3d, c3d)")


def _class_weights(y: np.ndarray) -> torch.Tensor:
    counts = np.bincount(y.argmax(axis=1), minlength=y.shape[1]).astype(np.float64)
    weights = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    weights *= (counts > 0).sum() / max(weights.sum(), 1e-9)
    return torch.tensor(weights, dtype=torch.float32)


def train(model: nn.Module, data: WindowSet, config: TrainConfig,
          log: Callable[[str], object] = print) -> list[float]:
    """Train on `data` (soft-label cross-entropy, class-balanced, random horizontal flips); return the
    mean loss per epoch. Seeded: the same data and config give the same weights."""
    seed_everything(config.seed)
    torch.set_num_threads(config.threads)
    x_all = torch.from_numpy(data.x)
    y_all = torch.from_numpy(data.y)
    weights = _class_weights(data.y)
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
            flip = torch.rand(len(idx), generator=generator) < 0.5
            x[flip] = x[flip].flip(-1)
            y = y_all[idx]
            logits = model(x)
            per_sample = -(y * functional.log_softmax(logits, dim=1)).sum(dim=1)
            loss = (per_sample * weights[y.argmax(dim=1)]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss) * len(idx)
        losses.append(total / len(data))
        log(f'  epoch {epoch + 1}/{config.epochs}: loss {losses[-1]:.3f} ({time.perf_counter() - start:.0f} s)')
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
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

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, ops = self.model.counted(frames)
        return torch.softmax(logits, dim=1), ops


def export_onnx(model: nn.Module, path: Path, spec: WindowSpec, source: str,
                energy: OpEnergy | None = None) -> None:
    """Export to ONNX (dynamo exporter, opset 18, batch dimension dynamic) with the metadata the node
    reads: labels, window_s, bins, size, source, and the per-op energies used on the card."""
    import onnx

    model.eval()
    energy = energy or OpEnergy()
    example = torch.zeros(1, 2, spec.bins, spec.size, spec.size)
    batch = torch.export.Dim('batch', min=1, max=64)
    program = torch.onnx.export(Deployed(model).eval(), (example,), dynamo=True, input_names=['frames'],
                                output_names=['probabilities', 'ops'], dynamic_shapes=({0: batch},),
                                opset_version=18, verbose=False)
    program.optimize()
    proto = program.model_proto
    meta = {'labels': ','.join(EMOTIONS), 'window_s': repr(spec.window_s), 'bins': str(spec.bins),
            'size': str(spec.size), 'source': source, 'mac_pj': repr(energy.mac_pj), 'ac_pj': repr(energy.ac_pj)}
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(proto)
    onnx.save_model(proto, str(path))


def config_dict(config: TrainConfig) -> dict:
    d = asdict(config)
    d['channels'] = list(config.channels)
    return d


@dataclass(frozen=True)
class RunResult:
    """What a training run produced (paths and the numbers on the card)."""

    onnx: Path
    twin_onnx: Path | None
    card: Path
    summary: dict


def real_windows(path: Path, spec: WindowSpec, step_s: float = 0.05) -> np.ndarray:
    """Face windows of a real event recording (AEDAT4), every step_s, for the energy measurement."""
    from attune.events.aedat4 import read_aedat4
    from attune.events.sensor_roi import recording_windows

    recording = read_aedat4(path)
    windows = recording_windows(recording.events, spec.window_ns, int(step_s * 1e9), spec.bins, spec.size)
    if not windows:
        return np.zeros((0, 2, spec.bins, spec.size, spec.size), np.uint8)
    return np.stack(windows).astype(np.uint8)


def run(data: WindowSet, out_dir: Path, name: str, spec: WindowSpec, config: TrainConfig, *,
        twin: bool = True, real_events: Path | None = None, command: str = '', data_notes: list[str] | None = None,
        checkpoint_dir: Path | None = None, log: Callable[[str], object] = print) -> RunResult:
    """Train CS3D (and its C3D twin) on the training subjects of `data`, evaluate both on the held-out
    subjects, count their operations on held-out and (optionally) real event windows, export ONNX and
    write the model card `<name>.md` beside `<name>.onnx`."""
    from attune.events.energy import compare_energy

    out_dir.mkdir(parents=True, exist_ok=True)
    train_set, test_set = data.subset(~data.test), data.subset(data.test)
    if not len(train_set):
        raise ValueError('no training windows (every subject is held out)')
    log(f'{len(train_set)} training windows, {len(test_set)} held-out windows')
    models = {'cs3d': build('cs3d', config)}
    if twin:
        models['c3d'] = build('c3d', config)
    summary: dict = {'config': config_dict(config), 'spec': asdict(spec), 'train_windows': len(train_set),
                     'test_windows': len(test_set), 'models': {}}
    ops: dict[str, dict[str, np.ndarray]] = {}
    real = real_windows(real_events, spec) if real_events is not None else None
    for kind, model in models.items():
        log(f'training {kind} ({sum(p.numel() for p in model.parameters())} parameters)')
        start = time.perf_counter()
        losses = train(model, train_set, config, log)
        entry = {'parameters': sum(p.numel() for p in model.parameters()), 'train_s': time.perf_counter() - start,
                 'final_loss': losses[-1] if losses else float('nan')}
        ops[kind] = {}
        if len(test_set):
            probs, test_ops = predict(model, test_set.x)
            entry['held_out'] = metrics(probs, test_set)
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


def _fmt(v: float) -> str:
    return f'{v:.3f}' if isinstance(v, float) else str(v)


def model_card(name: str, summary: dict, command: str, notes: list[str], real_events: Path | None) -> str:
    """The Markdown model card of a run."""
    energy = OpEnergy()
    lines = [f'# {name}: spiking facial-expression recognition on event windows (CS3D)', '',
             'Produced by `attune train spiking-fer`; inference: `attune.nodes.spiking_fer_node` (onnxruntime).', '',
             '## Model',
             f"- CS3D: 3 stages of decomposed 3D convolution (1x3x3 spatial, LIF, 3x1x1 temporal) + LIF, "
             f"channels {summary['config']['channels']}, spatio-temporal attention before the last neurons, "
             'firing-rate pooling, linear head; LIF with soft reset, beta 0.5, threshold 1, arctan surrogate gradient.',
             f"- Input: (1, 2, {summary['spec']['bins']}, {summary['spec']['size']}, {summary['spec']['size']}) "
             f"binary OFF/ON occupancy frames of a {summary['spec']['window_s']} s face window; "
             'output `probabilities` over ' + ', '.join(EMOTIONS) + ' and `ops` = [accumulates, MACs] of that window.',
             f"- Parameters: {summary['models']['cs3d']['parameters']}.", '',
             '## Data and licences',
             '- london_ccby (Face Research Lab London Set, DeBruine & Jones 2017, CC BY 4.0): neutral and smiling '
             'photos; smiling -> happy.',
             '- muxspace facial_expressions subset (repo Apache-2.0; images scraped from LFW, IMFDB and stock photos '
             '= third-party rights; student labels, noisy); contempt dropped.',
             '- LivePortrait driving videos d0, d3, d6 (MIT repo; likeness of the people is third-party content), '
             "soft labels from attune's expression teacher (rules + FER CNN ensemble), one label per frame.",
             '- All events are emulated (attune.events emulator, saccades for photos, randomized sensor settings). '
             'No image or event data ships with the model; only weights learned from them.',
             ] + [f'- {n}' for n in notes] + ['',
             '## Command', '', '```', command or '(not recorded)', '```', '',
             '## Held-out results (subjects never seen in training)', '',
             '| model | source | windows | subjects | accuracy | 2-way | teacher agreement | majority rate |',
             '|---|---|---|---|---|---|---|---|']
    for kind, entry in summary['models'].items():
        for source, m in entry.get('held_out', {}).items():
            lines.append(f"| {kind} | {source} | {m['windows']} | {m['subjects']} | {_fmt(m.get('accuracy', '-'))} | "
                         f"{_fmt(m.get('accuracy_2way', '-'))} | {_fmt(m.get('teacher_agreement', '-'))} | "
                         f"{_fmt(m['majority_rate'])} |")
    lines += ['', 'accuracy: top-1 of 7 against the photo label; 2-way: top-1 among the two labels the source has; '
              "teacher agreement: top-1 equals the teacher's top label (the teacher is itself imperfect); "
              'majority rate: what always answering the most frequent label scores. With a few held-out '
              'subjects per source these numbers carry wide uncertainty (12 windows of 6 photos move by 8 '
              'points per window).', '',
              '## Energy (measured, same windows for both models)', '',
              f'Per-op energies: MAC {energy.mac_pj} pJ, AC {energy.ac_pj} pJ ({energy.source}). '
              'CS3D: accumulates = spikes x fan-out counted on the actual spikes '
              '(first layer: input events x fan-out), '
              'MACs = LIF membrane updates + attention + head. C3D twin: MACs of its dense 3D convolutions '
              '(3x3x3, same depth and widths) + head.', '',
              '| windows | n | CS3D accumulates | CS3D MACs | C3D MACs | CS3D uJ | C3D uJ | ratio |',
              '|---|---|---|---|---|---|---|---|']
    for where, e in summary.get('energy', {}).items():
        label = 'held-out (emulated)' if where == 'held_out' else f'real ({real_events.name if real_events else ""})'
        lines.append(f"| {label} | {e['windows']} | {e['snn_accumulates']:.0f} | {e['snn_macs']:.0f} | "
                     f"{e['dense_macs']:.0f} | {e['snn_energy_uJ']:.2f} | {e['dense_energy_uJ']:.2f} | "
                     f"{e['energy_ratio']:.3f} |")
    lines += ['', '## Limits',
              '- Tiny, noisy training data (24 + ~370 labelled photos, 3 unlabelled videos); the photo windows are '
              'emulated saccades over still faces, not real expression dynamics. Treat the labels as a weak cue.',
              '- Trained on emulated events only; on a real event camera the input statistics differ (noise, '
              'bandwidth, face size); the real recording above is used for energy only (it has no labels).',
              '- Energy counts arithmetic only (no memory traffic), as the CS3D paper and most SNN papers do; on a CPU '
              'or GPU the spiking model is not cheaper: the saving needs event-driven hardware.', '']
    return '\n'.join(lines)
