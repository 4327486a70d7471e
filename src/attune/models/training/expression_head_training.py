"""Training, person-wise evaluation and ONNX export of the expression head (`attune train expression`).

Loss: class-weighted cross-entropy (inverse square-root class frequency, so fear's few photos count
without dominating), with label smoothing, AdamW, full-batch-free mini-batches, Gaussian noise on the
standardized inputs. Hyper-parameters are chosen by GroupKFold cross-validation over PEOPLE
(`Item.person`): every number reported for a fold comes from people the fold's model never saw.
Seeded: the same features and settings give the same weights on the same machine and torch build.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch.nn import functional as F  # noqa: N812

from attune.emotions import EMOTIONS
from attune.expression.dataset import Features, Item
from attune.expression.head import HEAD_FEATURE_SIZE, head_inputs
from attune.models.layers.expression_head_net import ExpressionHeadNet

#: The muxspace classes with enough photos for a 5-class score (as bench/expression_accuracy.py).
FIVE = ('anger', 'happy', 'neutral', 'sad', 'surprise')


@dataclass(frozen=True)
class HeadConfig:
    """Every setting of one training run (recorded in the model card and the ONNX metadata)."""

    hidden: int = 128
    dropout: float = 0.3
    epochs: int = 40
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-2
    label_smoothing: float = 0.1
    noise: float = 0.1
    london_weight: float = 2.0
    seed: int = 0
    threads: int = 2


@dataclass(frozen=True)
class Matrix:
    """The usable rows (a face was found): inputs x (N, HEAD_FEATURE_SIZE), class index y, person,
    source ('london' / 'mux'), and the row's index in the item list."""

    x: npt.NDArray[Any]
    y: npt.NDArray[Any]
    person: npt.NDArray[Any]
    source: npt.NDArray[Any]
    index: npt.NDArray[Any]

    def rows(self, keep: npt.NDArray[Any]) -> Matrix:
        return Matrix(self.x[keep], self.y[keep], self.person[keep], self.source[keep], self.index[keep])


def build_matrix(items: list[Item], features: Features) -> Matrix:
    rows = np.flatnonzero(features.found)
    x = head_inputs(features.subset(rows))
    assert x.shape[1] == HEAD_FEATURE_SIZE
    y = np.array([EMOTIONS.index(items[i].label) for i in rows])
    return Matrix(x, y, np.array([items[i].person for i in rows]), np.array([items[i].source for i in rows]), rows)


def class_weights(y: npt.NDArray[Any]) -> torch.Tensor:
    counts = np.bincount(y, minlength=len(EMOTIONS)).astype(np.float64)
    w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1)), 0.0)
    return torch.tensor(w / w[counts > 0].mean(), dtype=torch.float32)


def fit(m: Matrix, config: HeadConfig) -> ExpressionHeadNet:
    """Train a head on all rows of m."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    generator = torch.Generator().manual_seed(config.seed)
    x = torch.from_numpy(m.x)
    y = torch.from_numpy(m.y).long()
    sample_w = torch.from_numpy(np.where(m.source == 'london', config.london_weight, 1.0)).float()
    model = ExpressionHeadNet(x.shape[1], len(EMOTIONS), config.hidden, config.dropout)
    model.set_standardization(x)
    weights = class_weights(m.y)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * max(1, -(-len(x) // config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=steps)
    model.train()
    for _ in range(config.epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), config.batch_size):
            batch = order[start:start + config.batch_size]
            xb = x[batch] + config.noise * torch.randn(len(batch), x.shape[1], generator=generator) * model.std
            loss = F.cross_entropy(model(xb), y[batch], weight=weights, reduction='none',
                                   label_smoothing=config.label_smoothing)
            loss = (loss * sample_w[batch]).sum() / sample_w[batch].sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def predict_logits(model: ExpressionHeadNet, x: npt.NDArray[Any]) -> npt.NDArray[Any]:
    with torch.no_grad():
        out: npt.NDArray[Any] = model(torch.from_numpy(np.asarray(x, np.float32))).numpy()
        return out


def person_folds(person: npt.NDArray[Any], folds: int, seed: int) -> npt.NDArray[Any]:
    """A fold number per row: people shuffled (seeded) and dealt round-robin, so folds are balanced."""
    people = np.unique(person)
    np.random.default_rng(seed).shuffle(people)
    fold_of = {p: i % folds for i, p in enumerate(people)}
    return np.array([fold_of[p] for p in person])


#: Calibration margins tried (logit units): calibrated logits are z - r + margin * e_neutral.
MARGINS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)


def scores(logits: npt.NDArray[Any], m: Matrix, margin: float | None = None) -> dict[str, Any]:
    """London binary accuracy (uncalibrated, and calibrated on the person's neutral photo with the
    given margin, or the best of MARGINS when None), muxspace 5-class and 7-class macro-F1 and
    per-class F1."""
    from sklearn.metrics import f1_score

    out: dict[str, Any] = {}
    london = m.source == 'london'
    happy = EMOTIONS.index('happy')
    if london.any():
        pred = logits[london].argmax(axis=1) == happy
        out['london_accuracy'] = round(float(np.mean(pred == (m.y[london] == happy))), 4)
        tried = {d: london_calibrated(logits[london], m.rows(london), d) for d in
                 ((margin,) if margin is not None else MARGINS)}
        best = max(tried.values())
        chosen = [d for d, v in tried.items() if v == best]
        out['calibration_margin'] = float(chosen[len(chosen) // 2])
        out['london_calibrated_accuracy'] = best
    mux = m.source == 'mux'
    five = mux & np.isin(m.y, [EMOTIONS.index(c) for c in FIVE])
    if five.any():
        cols = [EMOTIONS.index(c) for c in FIVE]
        pred5 = np.array(cols)[logits[five][:, cols].argmax(axis=1)]
        out['mux5_macro_f1'] = round(float(f1_score(m.y[five], pred5, labels=cols, average='macro')), 4)
        out['mux5_accuracy'] = round(float(np.mean(pred5 == m.y[five])), 4)
    if mux.any():
        pred7 = logits[mux].argmax(axis=1)
        present = sorted(set(m.y[mux]))
        out['mux7_macro_f1'] = round(float(f1_score(m.y[mux], pred7, labels=present, average='macro')), 4)
        per_class = f1_score(m.y[mux], pred7, labels=present, average=None)
        out['mux7_per_class_f1'] = {EMOTIONS[c]: round(float(v), 4) for c, v in zip(present, per_class)}
    return out


def calibrated_logits(logits: npt.NDArray[Any], reference: npt.NDArray[Any], margin: float) -> npt.NDArray[Any]:
    """Logits relative to a person's neutral reference (as ExpressionHead.calibrated)."""
    out: npt.NDArray[Any] = np.asarray(logits) - np.asarray(reference) + margin * np.eye(len(EMOTIONS))[0]
    return out


def london_calibrated(logits: npt.NDArray[Any], m: Matrix, margin: float) -> float:
    """Accuracy when each person's neutral photo is their calibration reference."""
    happy = EMOTIONS.index('happy')
    reference = {p: logits[i] for i, p in enumerate(m.person) if m.y[i] == EMOTIONS.index('neutral')}
    right = []
    for i, p in enumerate(m.person):
        z = calibrated_logits(logits[i], reference[p], margin) if p in reference else logits[i]
        right.append((z.argmax() == happy) == (m.y[i] == happy))
    return round(float(np.mean(right)), 4)


def cross_validate(m: Matrix, config: HeadConfig, folds: int = 5) -> tuple[dict[str, Any], npt.NDArray[Any]]:
    """Out-of-fold logits of person-wise folds and their scores."""
    fold = person_folds(m.person, folds, config.seed)
    logits = np.zeros((len(m.y), len(EMOTIONS)), np.float32)
    for k in range(folds):
        model = fit(m.rows(fold != k), config)
        logits[fold == k] = predict_logits(model, m.x[fold == k])
    return scores(logits, m), logits


def selection_score(s: dict[str, Any]) -> float:
    """What model selection maximizes: muxspace 5-class macro-F1 plus London accuracy."""
    return float(s.get('mux5_macro_f1', 0.0)) + float(s.get('london_accuracy', 0.0))


def search(m: Matrix, base: HeadConfig, grid: dict[str, list[Any]], folds: int = 5,
           log: Any = print) -> tuple[HeadConfig, list[dict[str, Any]]]:
    """Each grid point (one setting changed at a time from base, then the best combination of the
    per-setting winners) scored by person-wise cross-validation; returns the best config and the table."""
    table = []

    def run(config: HeadConfig) -> float:
        s, _ = cross_validate(m, config, folds)
        table.append({'config': {k: getattr(config, k) for k in grid}, **s})
        log(f'cv {table[-1]}')
        return selection_score(s)

    best_value = run(base)
    best = base
    winners = {}
    for name, values in grid.items():
        for value in values:
            if value == getattr(base, name):
                continue
            score = run(replace(base, **{name: value}))
            if score > best_value:
                best_value, best = score, replace(base, **{name: value})
                winners[name] = value
    if len(winners) > 1:
        combined = replace(base, **winners)
        if run(combined) > best_value:
            best = combined
    return best, table


def export_onnx(model: ExpressionHeadNet, margin: float, config: HeadConfig, path: Path | str,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the head as ONNX (input features (N, HEAD_FEATURE_SIZE), output logits (N, 7)), with labels, the
    calibration margin and settings in metadata; check onnxruntime against torch. Returns the check."""
    import onnx
    import onnxruntime as ort

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    example = (torch.zeros(2, HEAD_FEATURE_SIZE),)
    batch = torch.export.Dim('batch', min=1, max=4096)
    program = torch.onnx.export(model, example, dynamo=True, input_names=['features'], output_names=['logits'],
                                dynamic_shapes={'x': {0: batch}}, verbose=False)
    if program is None:  # dynamo=True always returns the program
        raise RuntimeError('torch.onnx.export returned no ONNX program')
    program.save(str(path))
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    meta = {'labels': json.dumps(list(EMOTIONS)), 'calibration_margin': json.dumps(float(margin)),
            'config': json.dumps(asdict(config)), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = 'attune train expression'
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    generator = torch.Generator().manual_seed(1)
    x = model.mean + model.std * torch.randn(6, HEAD_FEATURE_SIZE, generator=generator)
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    got = session.run(['logits'], {'features': x.numpy()})[0]
    single = session.run(['logits'], {'features': x[:1].numpy()})[0]
    return {'max_abs_diff': float(np.abs(got - expected).max()),
            'batch1_max_abs_diff': float(np.abs(single - expected[:1]).max()), 'bytes': path.stat().st_size}
