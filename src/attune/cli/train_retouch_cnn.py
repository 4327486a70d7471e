"""`attune train retouch-cnn`: a small CNN on high-pass residual face patches (the retouch check's CNN route).

The same originals and retouched copies as `attune train retouch` (same seed, same generator) are
made in memory and reduced to face patches (attune.integrity.retouch_patches); no pixel, crop or
patch is written anywhere. Persons are split into the same fixed folds: the model is fitted on every
fold but the held-out one. Validation: 4-fold person-wise cross-validation among the training
persons (the numbers to compare recipes on; they also set the threshold: 5 % of the training
persons' originals flagged). With --classical FEATURES.npz (a feature cache of `attune train
retouch` made with the same seed and originals), the classical MLP's out-of-fold score on the same
copies is fused with the CNN's by a logistic regression and measured the same way. The held-out
persons are scored once, by the model fitted on all training persons. Writes the ONNX model and
<name>.eval.json.

    attune train retouch-cnn --data ../shared/data/faces --out retouch_cnn.onnx \\
        --classical ~/.cache/attune/retouch/features-faces-v2-seed2026-originals3-30features.npz
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('retouch-cnn', help='retouch check: a small CNN on residual face patches (ONNX)',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', type=Path, default=Path('../shared/data/faces'),
                   help='faces-kind folder (london_ccby/{neutral,smiling}/<ID>_*.jpg) (default: %(default)s)')
    p.add_argument('--out', type=Path, default=Path('retouch_cnn.onnx'), help='ONNX file (default: %(default)s)')
    p.add_argument('--seed', type=int, default=2026, help='seeds generation and training (default: %(default)s)')
    p.add_argument('--originals', type=int, default=3, help='delivered copies of each original (default: %(default)s)')
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--width', type=int, default=8, help='channels of the first learned layer (default: %(default)s)')
    p.add_argument('--patches-per-copy', type=int, default=6)
    p.add_argument('--classical', type=Path, default=None,
                   help='feature cache (.npz) of `attune train retouch` with the same seed and originals: '
                        'measure fusion with the classical MLP')
    p.add_argument('--validate-only', action='store_true',
                   help='cross-validate among the training persons only: no final fit, no held-out scores, no file')
    p.add_argument('--limit', type=int, default=None, help='only the first N photos (a smoke test)')
    p.add_argument('--threads', type=int, default=1, help='torch and OpenCV threads (default: %(default)s)')
    p.set_defaults(handler=run)


def _log(message: str) -> None:
    print(f'{time.strftime("%H:%M:%S")} {message}', file=sys.stderr, flush=True)


def classical_oof(path: Path, keys: list[tuple[str, str, int, int]], persons_fold: dict[str, int],
                  folds: tuple[int, ...], seed: int) -> np.ndarray:
    """The classical MLP's out-of-fold logit (shipped settings) for each key, NaN where the cache lacks it."""
    from attune.integrity import retouch_training as rt
    from attune.integrity.retouch_features import FEATURES
    from attune.integrity.retouch_fusion import logit
    from attune.integrity.retouch_patches import sample_keys

    with np.load(path) as data:
        names = [str(n) for n in data['names']]
        x = data['features'][:, [names.index(f) for f in FEATURES]]
        person, photo, operation, strength = data['person'], data['photo'], data['operation'], data['strength']
    inside = np.array([persons_fold.get(p, -1) in folds for p in person])
    label = (operation != 'original').astype(np.int64)
    scores = np.full(len(person), np.nan)
    scores[inside] = rt.cross_validate(x[inside], label[inside], person[inside],
                                       rt.RetouchTrainConfig(epochs=600, seed=seed), folds=folds)
    by_key = dict(zip(sample_keys(photo, operation, strength), logit(scores), strict=True))
    return np.array([by_key.get(k, np.nan) for k in keys])


def run(ns: argparse.Namespace) -> int:
    import cv2
    import torch

    from attune.integrity import retouch_cnn as cnn
    from attune.integrity import retouch_patches as rp
    from attune.integrity import retouch_training as rt
    from attune.integrity.retouch_data import GENERATOR_VERSION, ORIGINAL, faces_photos
    from attune.integrity.retouch_fusion import fused_cross_validated, per_fold_d_eer
    from attune.integrity.retouch_metrics import report, threshold_at_fpr

    torch.set_num_threads(ns.threads)
    cv2.setNumThreads(ns.threads)
    photos = faces_photos(ns.data)[:ns.limit]
    _log(f'generating copies of {len(photos)} photos (patches in memory only)')
    data = rp.generate(photos, ns.seed, originals=ns.originals,
                       progress=lambda i, n: _log(f'photos {i}/{n}') if i % 10 == 0 or i == n else None)
    y, fold = data.label, np.array([rt.person_fold(p) for p in data.person])
    train = fold != rt.HELD_OUT_FOLD
    folds = tuple(k for k in range(rt.FOLDS) if k != rt.HELD_OUT_FOLD)
    config = cnn.CNNTrainConfig(width=ns.width, epochs=ns.epochs, patches_per_copy=ns.patches_per_copy, seed=ns.seed)

    def both(scores: np.ndarray, rows: np.ndarray, threshold: float | None = None) -> dict[str, Any]:
        out = report(scores[rows], data.operation[rows], data.strength[rows], threshold=threshold)
        keep = data.visible[rows]
        out['visible'] = {'left_out': int((~keep).sum()),
                          **report(scores[rows][keep], data.operation[rows][keep], data.strength[rows][keep],
                                   threshold=threshold)}
        return out

    started = time.time()
    oof = cnn.cross_validate(data.patches, y, data.person, config, folds, log=_log)
    validation: dict[str, Any] = {'cnn': both(oof, train), 'cnn_folds': per_fold_d_eer(oof, y, fold, folds)}
    _log(f'validation D-EER {validation["cnn"]["d_eer"]} folds {validation["cnn_folds"]} '
         f'({time.time() - started:.0f} s)')
    if ns.classical is not None:
        keys = data.keys()
        classical = classical_oof(ns.classical, keys, dict(zip(data.person, fold, strict=True)), folds, ns.seed)
        both_there = train & np.isfinite(classical)
        columns = np.stack([oof, classical], axis=1)
        fused = np.full(len(y), np.nan)
        fused[both_there], weights = fused_cross_validated(columns[both_there], y[both_there], fold[both_there],
                                                           folds)
        validation.update({
            'matched_copies': int(both_there.sum()),
            'classical': both(classical, both_there), 'classical_folds': per_fold_d_eer(
                np.where(both_there, classical, np.nan), np.where(both_there, y, -1), fold, folds),
            'cnn_on_matched': round(float(report(oof[both_there], data.operation[both_there],
                                                 data.strength[both_there])['d_eer']), 4),
            'fused': both(fused, both_there), 'fused_folds': per_fold_d_eer(
                np.where(both_there, fused, np.nan), np.where(both_there, y, -1), fold, folds),
            'fusion_weights': weights})
        _log(f'classical {validation["classical"]["d_eer"]} fused {validation["fused"]["d_eer"]} '
             f'{validation["fused_folds"]}')
    if ns.validate_only:
        print(json.dumps({'validation': validation, 'command': 'attune ' + shlex.join(sys.argv[1:])}))
        return 0
    threshold = float(threshold_at_fpr(oof[train & (data.operation == ORIGINAL)], rt.THRESHOLD_FPR))
    _log('fitting on every training person')
    model = cnn.fit([data.patches[i] for i in np.flatnonzero(train)], y[train], config, log=_log)
    held = ~train
    held_scores = np.full(len(y), np.nan)
    held_scores[held] = cnn.photo_logits(model, [data.patches[i] for i in np.flatnonzero(held)])
    persons = {'train': sorted(set(data.person[train].tolist())), 'held_out': sorted(set(data.person[held].tolist()))}
    results: dict[str, Any] = {
        'validation': validation, 'held_out': both(held_scores, held, threshold) if held.any() else {},
        'threshold': threshold, 'persons': persons, 'samples': int(len(y)), 'skipped': data.skipped,
        'command': 'attune ' + shlex.join(sys.argv[1:])}
    metadata = {'threshold': threshold, 'train_persons': persons['train'], 'held_out_fold': rt.HELD_OUT_FOLD,
                'folds': rt.FOLDS, 'seed': ns.seed, 'generator_version': GENERATOR_VERSION, 'config': asdict(config),
                'patch': rp.PATCH, 'step': rp.STEP, 'max_patches': rp.MAX_PATCHES, 'data': ns.data.resolve().name}
    results['onnx_vs_torch'] = cnn.export_onnx(model, ns.out, metadata)
    ns.out.with_suffix('.eval.json').write_text(json.dumps(results, indent=1) + '\n')
    print(json.dumps({'validation_d_eer': validation['cnn']['d_eer'], 'validation_folds': validation['cnn_folds'],
                      'fused_d_eer': validation.get('fused', {}).get('d_eer'),
                      'held_out_d_eer': results['held_out'].get('d_eer'), 'threshold': round(threshold, 4),
                      'onnx_vs_torch': results['onnx_vs_torch'], 'out': str(ns.out)}))
    return 0
