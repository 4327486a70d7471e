"""Training, evaluation and export of the sign models (used by `attune train sign` and bench/sign.py).

Isolated: windows of `window` consecutive frames of the training blocks, augmented (in-plane
rotation, anisotropic scale for an unknown camera aspect, landmark noise, a hand lost for a few
frames, sequences shorter than the window, mirroring where the glosses allow it), cross-entropy
with label smoothing. Continuous: sequences composed from the training blocks afresh every epoch
(attune.sign.compose), CTC loss. Both are scored on held-out blocks only; the split, the seed and
every setting are recorded in the model card.
"""
from __future__ import annotations

import math
import shlex
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from attune.sign.compose import ComposeOptions, SequenceComposer
from attune.sign.ctc import beam_decode, error_rate, greedy_decode, log_softmax
from attune.sign.datasets import LandmarkDataset, Split, split_blocks, windows
from attune.sign.features import FEATURE_DIM, GROUPS, IMAGE_PAIRS, SHAPE_PAIRS, VELOCITY_GROUPS, group_mask
from attune.sign.model import METADATA_KEY, SignModelInfo

_X = torch.tensor([p[0] for p in IMAGE_PAIRS])
_Y = torch.tensor([p[1] for p in IMAGE_PAIRS])
_SHAPE_X = torch.tensor([p[0] for p in SHAPE_PAIRS])
_VELOCITY = torch.tensor([c for g in VELOCITY_GROUPS for c in range(*GROUPS[g])])
_PRESENCE = GROUPS['presence'][0]


@dataclass(frozen=True)
class TrainConfig:
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
    compose: ComposeOptions = field(default_factory=ComposeOptions)


@dataclass
class TrainResult:
    model: nn.Module
    info: SignModelInfo
    metrics: dict[str, Any]
    split: Split
    config: TrainConfig


# --- augmentation ----------------------------------------------------------------------------------
def augment(x: torch.Tensor, generator: torch.Generator, *, mirror: bool, rotation_deg: float = 12.0,
            gaps: bool = True, short: bool = True) -> torch.Tensor:
    """Random camera roll (+-rotation_deg: turns the image-axis groups, the rotation-normalized shapes
    stay), x-scale (0.85-1.15: an unknown aspect), shape noise, mirroring; a hand missing for 1-3
    frames (bridged like the live extractor does: the last frame repeated without velocity); a
    sequence shorter than the window (padded in front like pad_window). x: (B, T, F)."""
    b, t, _ = x.shape
    x = x.clone()
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(rotation_deg)
    scale = 0.85 + 0.3 * torch.rand(b, generator=generator)
    if mirror:
        scale = scale * torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    xs, ys = x[..., _X] * scale[:, None, None], x[..., _Y]
    x[..., _X] = cos * xs - sin * ys
    x[..., _Y] = sin * xs + cos * ys
    x[..., _SHAPE_X] *= torch.sign(scale)[:, None, None]
    present = x[..., _PRESENCE:_PRESENCE + 1]
    shape = slice(*GROUPS['shape'])
    x[..., shape] += 0.03 * torch.randn(x[..., shape].shape, generator=generator) * present
    if gaps and t > 4:
        for i in torch.nonzero(torch.rand(b, generator=generator) < 0.15).flatten().tolist():
            start = int(torch.randint(1, t - 3, (1,), generator=generator))
            length = int(torch.randint(1, 4, (1,), generator=generator))
            x[i, start:start + length] = x[i, start - 1]
            x[i, start:start + length, _VELOCITY] = 0.0
    if short and t > 4:
        for i in torch.nonzero(torch.rand(b, generator=generator) < 0.1).flatten().tolist():
            keep = int(torch.randint(2, t, (1,), generator=generator))
            first = x[i, t - keep].clone()
            first[_VELOCITY] = 0.0
            x[i, : t - keep] = first
    return x


def _normalization(features: np.ndarray, groups: tuple[str, ...]) -> tuple[torch.Tensor, ...]:
    mask = torch.from_numpy(group_mask(groups))
    flat = torch.from_numpy(features.reshape(-1, FEATURE_DIM))
    present = flat[:, _PRESENCE] > 0
    rows = flat[present] if present.any() else flat
    return mask, rows.mean(0), rows.std(0)


def _architecture(config: TrainConfig, max_len: int) -> dict[str, int | float]:
    return {'dim': config.dim, 'depth': config.depth, 'bottleneck': config.bottleneck,
            'kernel_size': config.kernel_size, 'max_len': max_len, 'dropout': config.dropout}


def _encoder(config: TrainConfig, max_len: int):
    from attune.models.sign_encoder import SignEncoder

    return SignEncoder(FEATURE_DIM, **_architecture(config, max_len))


def build_model(info: SignModelInfo) -> nn.Module:
    """An untrained torch model of the architecture `info` describes."""
    from attune.models.sign_classifier import IsolatedSignClassifier
    from attune.models.sign_ctc import ContinuousSignRecognizer
    from attune.models.sign_encoder import SignEncoder

    encoder = SignEncoder(info.feature_dim, **info.architecture)
    if info.task == 'isolated':
        return IsolatedSignClassifier(encoder, len(info.glosses))
    return ContinuousSignRecognizer(encoder, len(info.glosses))


def torch_model_from_onnx(path: Path) -> tuple[nn.Module, SignModelInfo]:
    """The torch model of an exported sign model, its weights read back from the ONNX
    initializers (export keeps them under their state_dict names)."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    info = SignModelInfo.from_json(meta[METADATA_KEY])
    model = build_model(info)
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in proto.graph.initializer}
    model.load_state_dict({k: weights[k] for k in model.state_dict()}, strict=True)
    return model.eval(), info


def _schedule(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = max(1, steps // 20)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))


# --- isolated --------------------------------------------------------------------------------------
def train_isolated(dataset: LandmarkDataset, config: TrainConfig, name: str,
                   log=print) -> TrainResult:
    """Train an IsolatedSignClassifier on the training blocks; score it on the held-out blocks."""
    from attune.models.sign_classifier import IsolatedSignClassifier

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    split = split_blocks(dataset, test_fraction=config.test_fraction, seed=config.split_seed,
                         strategy=config.split_strategy)
    x_train, y_train, _ = windows(split.train, config.window, config.stride)
    x_test, y_test, b_test = windows(split.test, config.window, 1)
    log(f'{dataset.name}: {len(dataset.segments)} blocks, {len(split.test_blocks)} held out; '
        f'{len(x_train)} training windows, {len(x_test)} test windows')
    model = IsolatedSignClassifier(_encoder(config, config.window), len(dataset.glosses))
    model.encoder.set_normalization(*_normalization(x_train, dataset.groups))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    batches = math.ceil(len(x_train) / config.batch_size)
    scheduler = _schedule(optimizer, config.epochs * batches)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    start = time.monotonic()
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for i in range(batches):
            idx = order[i * config.batch_size:(i + 1) * config.batch_size]
            x = augment(xt[idx], generator, mirror=dataset.mirror_augment, rotation_deg=dataset.rotation_deg)
            loss = loss_fn(model(x), yt[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(idx)
        if epoch % 5 == 4 or epoch == config.epochs - 1:
            accuracy = isolated_accuracy(model, x_test, y_test)
            log(f'epoch {epoch + 1}/{config.epochs}: loss {total / len(xt):.4f}, held-out window accuracy '
                f'{accuracy:.4f} ({time.monotonic() - start:.0f} s)')
    model.eval()
    predictions = _predict(model, x_test)
    metrics = {
        'held_out_window_accuracy': float((predictions == y_test).mean()) if len(y_test) else float('nan'),
        'held_out_block_accuracy': _block_vote(predictions, y_test, b_test),
        'train_windows': int(len(x_train)), 'test_windows': int(len(x_test)),
        'blocks': len({s.block for s in dataset.segments}),
        'test_blocks': len(split.test_blocks), 'guard_frames_dropped': split.dropped_frames,
        'per_gloss_accuracy': {g: float((predictions[y_test == k] == k).mean())
                               for k, g in enumerate(dataset.glosses) if (y_test == k).any()},
        'training_s': round(time.monotonic() - start, 1),
    }
    info = SignModelInfo(name=name, task='isolated', glosses=dataset.glosses, window=config.window,
                         groups=dataset.groups, dataset=dataset.name, architecture=_architecture(config, config.window))
    return TrainResult(model, info, metrics, split, config)


def _predict(model: nn.Module, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])).argmax(1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def isolated_accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    if not len(y):
        return float('nan')
    return float((_predict(model, x) == y).mean())


def _block_vote(predictions: np.ndarray, labels: np.ndarray, blocks: np.ndarray) -> float:
    """Accuracy of the majority prediction per held-out block."""
    correct = []
    for b in np.unique(blocks):
        member = blocks == b
        correct.append(np.bincount(predictions[member]).argmax() == labels[member][0])
    return float(np.mean(correct)) if correct else float('nan')


# --- continuous ------------------------------------------------------------------------------------
def _pad(sequences: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in sequences])
    x = torch.zeros(len(sequences), int(lengths.max()), FEATURE_DIM)
    for i, s in enumerate(sequences):
        x[i, :len(s)] = torch.from_numpy(s)
    return x, lengths


def train_continuous(dataset: LandmarkDataset, config: TrainConfig, name: str, log=print) -> TrainResult:
    """Train a ContinuousSignRecognizer with CTC on sequences composed from the training blocks;
    score greedy and beam decoding on sequences composed from the held-out blocks."""
    from attune.models.sign_ctc import ContinuousSignRecognizer

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
    return TrainResult(model, info, metrics, split, config)


def held_out_sequences(split: Split, config: TrainConfig) -> list:
    """The fixed held-out composed sequences (seeded independently of training)."""
    composer = SequenceComposer(split.test, config.compose)
    rng = np.random.default_rng(10_000 + config.split_seed)
    return [composer.sample(rng) for _ in range(config.test_sequences)]


def continuous_error_rates(model: Any, sequences: list, beam_width: int = 8) -> dict[str, float]:
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


# --- export ----------------------------------------------------------------------------------------
def export_onnx(result: TrainResult, path: Path) -> Path:
    """Write the model as ONNX (dynamic time axis) with its SignModelInfo as metadata."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = result.model.eval()
    length = result.info.window if result.info.task == 'isolated' else 64
    example = torch.zeros(2, length, FEATURE_DIM)
    batch = torch.export.Dim('batch', min=1, max=4096)
    frames = torch.export.Dim('frames', min=1, max=result.model.encoder.max_len)
    # optimize=False keeps every weight as an initializer under its state_dict name, so the torch
    # model can be rebuilt from the file (torch_model_from_onnx); onnxruntime optimizes at load.
    program = torch.onnx.export(model, (example,), dynamo=True, dynamic_shapes=({0: batch, 1: frames},),
                                input_names=['features'], output_names=['logits'], verbose=False,
                                optimize=False)
    program.save(str(path))
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, result.info.to_json()
    proto.doc_string = f'attune sign model {result.info.name} ({result.info.task})'
    onnx.save(proto, str(path))
    return path


def write_model_card(result: TrainResult, path: Path, command: list[str], data_note: str) -> Path:
    """`<model>.md` beside the ONNX file: data and licence, the exact command, measured quality, limits."""
    info, m = result.info, result.metrics
    lines = [f'# Sign model `{info.name}` ({info.task})', '',
             f'- Vocabulary ({len(info.glosses)}): {", ".join(info.glosses)}',
             f'- Input: (B, T, {FEATURE_DIM}) features of attune.sign.features, groups read: {", ".join(info.groups)}; '
             + (f'window T = {info.window} frames' if info.task == 'isolated' else f'T <= {info.window} frames'),
             f'- Output: {"(B, C) logits" if info.task == "isolated" else "(B, T, C + 1) logits, CTC blank = 0"}',
             '- Architecture: SignEncoder (frame MLP blocks with TemporalAdapters: learned positional embeddings + '
             'depthwise temporal convolution, after USTM\'s TAPE) + '
             + ('attention pooling and a linear classifier' if info.task == 'isolated' else 'a frame-wise CTC head'),
             f'- Parameters: {sum(p.numel() for p in result.model.parameters()):,}', '',
             '## Data and licence', '', data_note, '',
             '## How it was made', '', '```', shlex.join(command), '```', '',
             'Settings: ' + ', '.join(f'{k}={v}' for k, v in asdict(result.config).items() if k != 'compose'), '',
             '## Measured quality (held-out recording blocks)', '']
    for key, value in m.items():
        if key == 'per_gloss_accuracy':
            worst = sorted(value.items(), key=lambda kv: kv[1])[:5]
            lines.append('- worst glosses: ' + ', '.join(f'{g} {v:.3f}' for g, v in worst))
        elif key == 'training_s':
            lines.append(f'- {key}: {value:.0f} (2 shared CPU cores)')
        elif isinstance(value, float):
            lines.append(f'- {key}: {value:.4f}' if abs(value) >= 1e-3 or value == 0 else f'- {key}: {value:.1e}')
        else:
            lines.append(f'- {key}: {value}')
    lines += ['', '## Limits', '', *_limits(info)]
    Path(path).write_text('\n'.join(lines) + '\n')
    return Path(path)


def _limits(info: SignModelInfo) -> list[str]:
    notes = ['- Held-out blocks come from the same recordings as the training blocks (one session per gloss): '
             'the numbers measure generalization to other moments of a recording, not to new signers, '
             'cameras or lighting. Expect lower accuracy on new people.']
    if info.dataset == 'asl_alphabet':
        notes.append('- One signer, one hand, one camera; J and Z (letters drawn in the air) are learned from that '
                     "signer's recordings only.")
    if info.task == 'continuous':
        notes.append('- Trained and scored on sequences composed from isolated recordings (interpolated '
                     'transitions, timing jitter), not on natural continuous signing, whose co-articulation '
                     'is richer.')
    return notes


def check_onnx(result: TrainResult, path: Path, tolerance: float = 1e-3) -> float:
    """Largest |torch - onnxruntime| logit difference on held-out inputs; raises above tolerance."""
    from attune.errors import ModelFileError
    from attune.sign.model import SignModel

    model = result.model.eval()
    onnx_model = SignModel(str(path))
    if result.info.task == 'isolated':
        x, _, _ = windows(result.split.test, result.info.window, 7)
        inputs = [x[:256]] if len(x) else [np.zeros((1, result.info.window, FEATURE_DIM), np.float32)]
    else:
        inputs = [s.features[None] for s in held_out_sequences(result.split, result.config)[:20]]
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            expected = model(torch.from_numpy(x)).numpy()
            worst = max(worst, float(np.abs(onnx_model.logits(x) - expected).max()))
    if worst > tolerance:
        raise ModelFileError(f'{path}: ONNX and torch disagree by {worst:.2e} (> {tolerance:.0e})')
    return worst


_DATA_NOTES = {
    'asl_alphabet': 'ASL fingerspelling letters A-Z: `asl_alphabet/landmarks.csv` of ../shared/data/hands, '
                    'MediaPipe Hands landmarks of one signer, one recording per letter (~320 frames), from '
                    'borisgraudt/asl-ai (dataset card: CC0-1.0; repository: MIT).',
    'kinivi_handshape': 'kinivi hand shapes Open/Close/Pointer/OK: `kinivi/keypoint.csv` of ../shared/data/hands, '
                        'from kinivi/hand-gesture-recognition-mediapipe (Apache-2.0).',
    'kinivi_trajectory': 'kinivi fingertip gestures Stop/Clockwise/Counter Clockwise/Move: '
                         '`kinivi/point_history.csv` of ../shared/data/hands, from '
                         'kinivi/hand-gesture-recognition-mediapipe (Apache-2.0).',
}


def data_note(dataset: LandmarkDataset) -> str:
    note = _DATA_NOTES.get(dataset.name, f'{dataset.description} (licence: that of your recordings).')
    return (f'{note} {len(dataset.segments)} segments in {len({s.block for s in dataset.segments})} recording '
            f'blocks, {dataset.frames()} frames; blocks as in attune.sign.datasets.')
