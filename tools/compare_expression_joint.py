#!/usr/bin/env python3
"""The FER CNN's top and the expression head trained jointly, against the shipped head, person-wise.

    nice -n 19 python tools/compare_expression_joint.py --data ../shared/data/faces --threads 1

Same person-wise folds over the training people (expression_head_training.person_folds; the quality
holdout is left out and not scored: this tool only chooses). Rows:
  shipped       the expression head's shipped settings on the shipped CNN's features;
  joint ...     per fold, the CNN's top and a new head trained together on that fold's training people
                (attune.models.training.expression_joint: the head's loss flows into the CNN, so the head
                never sees CNN features of photos the CNN was fitted to and then scored with others);
                `cnn frozen` trains the same way with the CNN's learning rate ~0 (what the augmented
                views alone do).
Each row prints the cross-validated London accuracy (uncalibrated and calibrated on the person's
neutral photo, margin 0.5), muxspace 5-class macro-F1 and accuracy, 7-class macro-F1, and the per-fold
London accuracy and mux5 F1 (their standard deviation is the fold spread the shipping rule uses).
Crops and trunk outputs stay in memory (float16); nothing but this table is written.

Measured 2026-11-30 (defaults; 5 folds over 1983 training people; 40 min on a 2-core machine at load 5-17,
of which 15 min the trunk views):

| model | London | calibrated | mux5 F1 | mux5 acc. | mux7 F1 | London per fold | mux5 F1 per fold |
|---|---|---|---|---|---|---|---|
| shipped | 0.906 | 1.000 | 0.676 | 0.786 | 0.508 | .90 .86 .92 1.0 .90 | .655 .730 .679 .626 .674 |
| joint, CNN lr 3e-4 | 0.917 | 1.000 | 0.658 | 0.782 | 0.479 | .95 .86 .92 1.0 .90 | .625 .733 .655 .634 .647 |

One more London photo right, muxspace worse (sad F1 0.36 -> 0.29, disgust 0.27 -> 0.18): not shipped.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from attune.expression.cnn import default_model_path
from attune.expression.dataset import extract, load_items, quality_holdout
from attune.models.layers.fer_minixception_net import load_onnx
from attune.models.training.expression_head_training import (
    HeadConfig,
    Matrix,
    build_matrix,
    fit,
    person_folds,
    predict_logits,
    scores,
)
from attune.models.training.expression_joint import JointConfig, fit_joint, joint_outputs, pair_views
from attune.models.training.fer_finetune import load_crops

#: The shipped head's settings (src/attune/models/resources/expression_head.md).
SHIPPED_HEAD = HeadConfig(hidden=128, dropout=0.5, epochs=40, lr=3e-3, weight_decay=1e-2, noise=0.1,
                          london_weight=8.0, seed=0, threads=1)
KEYS = ('london_accuracy', 'london_calibrated_accuracy', 'mux5_macro_f1', 'mux5_accuracy', 'mux7_macro_f1')
#: The calibration margin the shipped head uses (fixed here, so rows differ only in the model).
MARGIN = 0.5


def summary(name: str, logits: np.ndarray, m: Matrix, fold: np.ndarray, folds: int) -> dict[str, Any]:
    total = scores(logits, m, MARGIN)
    per = [scores(logits[fold == k], m.rows(fold == k), MARGIN) for k in range(folds)]
    row: dict[str, Any] = {'name': name, **{k: total[k] for k in KEYS},
                           'per_class_f1': total['mux7_per_class_f1']}
    for key in ('london_accuracy', 'mux5_macro_f1'):
        values = [p[key] for p in per]
        row[f'{key}_per_fold'] = values
        row[f'{key}_fold_std'] = round(float(np.std(values)), 4)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=Path('../shared/data/faces'))
    parser.add_argument('--cache', type=Path, default=Path.home() / '.cache' / 'attune' / 'expression')
    parser.add_argument('--folds', type=int, default=5)
    parser.add_argument('--cnn-lr', type=float, nargs='+', default=[3e-4],
                        help='CNN learning rates of the joint rows')
    parser.add_argument('--frozen-row', action='store_true', help='also the `cnn frozen` row')
    parser.add_argument('--aux-weight', type=float, default=JointConfig.aux_weight)
    parser.add_argument('--views', type=int, default=JointConfig.views)
    parser.add_argument('--threads', type=int, default=1)
    ns = parser.parse_args(argv)
    started = time.monotonic()
    items = load_items(ns.data)
    features = extract(items, ns.cache)
    everyone = build_matrix(items, features)
    m = everyone.rows(~np.array([quality_holdout(p) for p in everyone.person]))
    fold = person_folds(m.person, ns.folds, SHIPPED_HEAD.seed)
    london = m.source == 'london'
    base = JointConfig(aux_weight=ns.aux_weight, views=ns.views, threads=ns.threads)
    views = pair_views(load_onnx(default_model_path()), load_crops(items, features, m.index), base)
    print(f'trunk views ready ({time.monotonic() - started:.0f} s)', flush=True)

    logits = np.zeros((len(m.y), 7), np.float32)
    for k in range(ns.folds):
        logits[fold == k] = predict_logits(fit(m.rows(fold != k), SHIPPED_HEAD), m.x[fold == k])
    rows = [summary('shipped', logits, m, fold, ns.folds)]
    print(json.dumps(rows[-1]), flush=True)
    runs = [(f'joint, CNN lr {lr:g}', JointConfig(**{**base.__dict__, 'cnn_lr': lr})) for lr in ns.cnn_lr]
    if ns.frozen_row:
        runs.append(('cnn frozen', JointConfig(**{**base.__dict__, 'cnn_lr': 1e-12})))
    for name, config in runs:
        logits = np.zeros((len(m.y), 7), np.float32)
        for k in range(ns.folds):
            train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            model = fit_joint(load_onnx(default_model_path()), m.x[train], m.y[train], london[train],
                              views['views'][train], views['view_mirrors'][train], SHIPPED_HEAD, config,
                              log=lambda _: None)
            logits[test], _ = joint_outputs(model, m.x[test], views['plain'][test], views['mirror'][test])
            print(f'{name}, fold {k}: {json.dumps(scores(logits[test], m.rows(test), MARGIN))} '
                  f'({time.monotonic() - started:.0f} s)', flush=True)
        rows.append(summary(name, logits, m, fold, ns.folds))
        print(json.dumps(rows[-1]), flush=True)
    print('| model | London | calibrated | mux5 F1 | mux5 acc. | mux7 F1 |')
    for row in rows:
        print(f"| {row['name']} | " + ' | '.join(f'{row[k]:.3f}' for k in KEYS) + ' |')
    print(json.dumps({'head': SHIPPED_HEAD.__dict__, 'joint': base.__dict__, 'rows': rows,
                      'seconds': round(time.monotonic() - started, 1)}))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
