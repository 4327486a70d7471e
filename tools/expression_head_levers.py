#!/usr/bin/env python3
"""More expression head inputs and a decision bias, scored person-wise against the shipped head.

    nice -n 19 python tools/expression_head_levers.py --data ../shared/data/faces --threads 1

Every row: the shipped head settings, the same 5 person-wise folds over the training people (the quality
holdout is left out and never scored here), calibration margin 0.5. Rows:
  shipped                  the shipped inputs (attune.expression.head.head_inputs);
  happy bias (nested)      a constant added to the happy logit, chosen per fold on the other folds'
                           out-of-fold logits (London accuracy + mux5 F1): the "threshold" lever;
  rules pool (nested)      the head's log-probabilities pooled with the EMFACS rules' (no training),
                           (1 - w) log p_head + w log p_rules, w chosen per fold likewise (the pool the
                           ASD node makes with its teacher, attune.affect.teacher_fusion);
  + cheek/chin landmarks   aligned x, y of 45 FaceMesh landmarks of the cheeks, nasolabial folds and chin;
  + all landmarks          aligned x, y of every FaceMesh landmark the shape lacks;
  + mouth HOG              HOG (mean over the crop and its mirror image) of a 64x64 crop of the lower
                           face (9 cm square around the mouth: twice the face crop's resolution), raw
                           (16-pixel cells, 324 values) or 8-pixel cells reduced by a PCA fitted per fold
                           to 64; `+ eyes` adds the same of an 11 cm square around the eyes.
Crops are kept in memory only. Prints one JSON row per lever, then a table.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from attune.expression import cnn as cnn_module
from attune.expression.action_units import aligned_landmarks
from attune.expression.dataset import extract, load_items, quality_holdout, read_rgb
from attune.expression.shape import SHAPE_LANDMARKS
from attune.face.head_pose import canonical_face_model
from attune.models.training.expression_head_training import (
    HeadConfig,
    Matrix,
    build_matrix,
    fit,
    person_folds,
    predict_logits,
    scores,
)

SHIPPED_HEAD = HeadConfig(hidden=128, dropout=0.5, epochs=40, lr=3e-3, weight_decay=1e-2, noise=0.1,
                          london_weight=8.0, seed=0, threads=1)
KEYS = ('london_accuracy', 'london_calibrated_accuracy', 'mux5_macro_f1', 'mux5_accuracy', 'mux7_macro_f1')
MARGIN = 0.5
CHEEK_CHIN = (50, 101, 36, 205, 187, 123, 116, 117, 118, 119, 100, 280, 330, 266, 425, 411, 352, 345, 346, 347,
              348, 329, 92, 322, 206, 426, 216, 436, 212, 432, 57, 287, 43, 273, 106, 335, 182, 406, 83, 313, 18,
              200, 199, 175, 152)
#: Extra crops: canonical-face centre (cm) and side (cm), warped to 64x64 as the face crop is.
CROPS = {'mouth': ((0.0, -3.3), 9.0), 'eyes': ((0.0, 2.2), 11.0)}
HAPPY_BIASES = np.arange(0.0, 2.01, 0.25)


def region_crops(items: list[Any], features: Any, rows: np.ndarray) -> dict[str, np.ndarray]:
    """(N, 64, 64) uint8 crops of each CROPS region (memory only), cut like the face crop."""
    out = {name: np.zeros((len(rows), 64, 64), np.uint8) for name in CROPS}
    saved = cnn_module.CROP_CENTER_CM, cnn_module.CROP_SIDE_CM
    try:
        for k, i in enumerate(rows):
            rgb = read_rgb(items[i].path)
            for name, (centre, side) in CROPS.items():
                cnn_module.CROP_CENTER_CM, cnn_module.CROP_SIDE_CM = centre, side
                out[name][k] = cnn_module.prepare_crop(rgb, features.landmarks[i])
    finally:
        cnn_module.CROP_CENTER_CM, cnn_module.CROP_SIDE_CM = saved
    return out


def hog(crops: np.ndarray, cell: int) -> np.ndarray:
    import cv2

    descriptor = cv2.HOGDescriptor((64, 64), (2 * cell, 2 * cell), (cell, cell), (cell, cell), 9)
    plain = np.stack([descriptor.compute(c).ravel() for c in crops])
    mirror = np.stack([descriptor.compute(np.ascontiguousarray(c[:, ::-1])).ravel() for c in crops])
    out: np.ndarray = (plain + mirror) / 2
    return out


def cross_validated(m: Matrix, fold: np.ndarray, blocks: list[np.ndarray], pca: int,
                    config: HeadConfig = SHIPPED_HEAD) -> np.ndarray:
    """Out-of-fold logits of the head on m.x plus blocks (each PCA-reduced per fold when pca > 0)."""
    from sklearn.decomposition import PCA

    logits = np.zeros((len(m.y), 7), np.float32)
    for k in range(int(fold.max()) + 1):
        train = fold != k
        parts_train, parts_test = [m.x[train]], [m.x[~train]]
        for block in blocks:
            if pca:
                reducer = PCA(pca, random_state=0).fit(block[train])
                parts_train.append(reducer.transform(block[train]))
                parts_test.append(reducer.transform(block[~train]))
            else:
                parts_train.append(block[train])
                parts_test.append(block[~train])
        rows = m.rows(train)
        model = fit(replace(rows, x=np.hstack(parts_train).astype(np.float32)), config)
        logits[~train] = predict_logits(model, np.hstack(parts_test).astype(np.float32))
    return logits


def bias_value(logits: np.ndarray, m: Matrix, bias: float) -> float:
    """London accuracy + mux5 F1 with the happy logit shifted by bias."""
    s = scores(logits + bias * np.eye(7, dtype=np.float32)[1], m, MARGIN)
    return float(s['london_accuracy'] + s['mux5_macro_f1'])


def nested_bias(logits: np.ndarray, m: Matrix, fold: np.ndarray) -> np.ndarray:
    """The happy logit shifted per fold by the bias the other folds' out-of-fold logits liked best."""
    out = logits.copy()
    for k in range(int(fold.max()) + 1):
        train = fold != k
        values = [bias_value(logits[train], m.rows(train), b) for b in HAPPY_BIASES]
        out[~train, 1] += HAPPY_BIASES[int(np.argmax(values))]
    return out


RULES_WEIGHTS = np.round(np.linspace(0.0, 1.0, 11), 2)


def rules_log_probabilities(features: Any, m: Matrix) -> np.ndarray:
    """(N, 7) log-probabilities of the EMFACS rules over EMOTIONS (contempt left out) for m's rows."""
    from attune.emotions import EMOTIONS, RULE_LABELS
    from attune.expression.rules import classify

    index = [RULE_LABELS.index(e) for e in EMOTIONS]
    p = np.array([np.asarray(classify(features.au[i]).probabilities)[index] for i in m.index])
    out: np.ndarray = np.log(np.clip(p / p.sum(axis=1, keepdims=True), 1e-6, 1.0))
    return out


def nested_rules_pool(logits: np.ndarray, rules: np.ndarray, m: Matrix, fold: np.ndarray) -> np.ndarray:
    """Per fold, the pool with the rules at the weight the other folds' out-of-fold logits liked best."""
    z = logits - logits.max(axis=1, keepdims=True)
    head = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    out = np.zeros_like(head)
    for k in range(int(fold.max()) + 1):
        train = fold != k
        values = [bias_value((1 - w) * head[train] + w * rules[train], m.rows(train), 0.0) for w in RULES_WEIGHTS]
        w = RULES_WEIGHTS[int(np.argmax(values))]
        print(f'fold {k}: rules weight {w}', flush=True)
        out[~train] = (1 - w) * head[~train] + w * rules[~train]
    return out.astype(np.float32)


def summary(name: str, logits: np.ndarray, m: Matrix, fold: np.ndarray) -> dict[str, Any]:
    total = scores(logits, m, MARGIN)
    per = [scores(logits[fold == k], m.rows(fold == k), MARGIN) for k in range(int(fold.max()) + 1)]
    row = {'name': name, **{k: total[k] for k in KEYS}}
    for key in ('london_accuracy', 'mux5_macro_f1'):
        row[f'{key}_fold_std'] = round(float(np.std([p[key] for p in per])), 4)
    print(json.dumps(row), flush=True)
    return row


def lever_parser(doc: str | None) -> argparse.ArgumentParser:
    """The arguments every lever tool takes: --data, --cache, --threads."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=Path('../shared/data/faces'))
    parser.add_argument('--cache', type=Path, default=Path.home() / '.cache' / 'attune' / 'expression')
    parser.add_argument('--threads', type=int, default=1)
    return parser


def training_people(data: Path, cache: Path) -> tuple[list[Any], Any, Matrix, np.ndarray]:
    """Items, features, the rows of the training people (quality holdout left out) and their 5 folds."""
    items = load_items(data)
    features = extract(items, cache)
    everyone = build_matrix(items, features)
    m = everyone.rows(~np.array([quality_holdout(p) for p in everyone.person]))
    return items, features, m, person_folds(m.person, 5, SHIPPED_HEAD.seed)


def main(argv: list[str] | None = None) -> int:
    parser = lever_parser(__doc__)
    parser.add_argument('--quick', action='store_true', help='only the shipped row and the nested levers')
    ns = parser.parse_args(argv)
    started = time.monotonic()
    items, features, m, fold = training_people(ns.data, ns.cache)
    config = replace(SHIPPED_HEAD, threads=ns.threads)
    rows = []
    shipped = cross_validated(m, fold, [], 0, config)
    rows.append(summary('shipped', shipped, m, fold))
    rows.append(summary('happy bias (nested)', nested_bias(shipped, m, fold), m, fold))
    rules = rules_log_probabilities(features, m)
    rows.append(summary('rules pool (nested)', nested_rules_pool(shipped, rules, m, fold), m, fold))
    if ns.quick:
        return report(rows, started)
    canonical = canonical_face_model()[:468, :2] * 100.0
    delta = np.stack([aligned_landmarks(features.landmarks[i], int(features.size[i][0]),
                                        int(features.size[i][1]))[0][:468, :2] for i in m.index]) - canonical
    others = [i for i in range(468) if i not in set(SHAPE_LANDMARKS)]
    for name, ids in (('+ cheek/chin landmarks', list(CHEEK_CHIN)), ('+ all landmarks', others)):
        rows.append(summary(name, cross_validated(m, fold, [delta[:, ids].reshape(len(m.y), -1)], 0, config), m, fold))
    crops = region_crops(items, features, m.index)
    h = {(name, cell): hog(crops[name], cell) for name in CROPS for cell in (16, 8)}
    del crops
    for name, blocks, pca in (('+ mouth HOG', [h['mouth', 16]], 0),
                              ('+ mouth HOG 8px, PCA 64', [h['mouth', 8]], 64),
                              ('+ mouth, eyes HOG', [h['mouth', 16], h['eyes', 16]], 0),
                              ('+ mouth, eyes HOG 8px, PCA 64 each', [h['mouth', 8], h['eyes', 8]], 64)):
        rows.append(summary(name, cross_validated(m, fold, blocks, pca, config), m, fold))
    return report(rows, started)


def report(rows: list[dict[str, Any]], started: float) -> int:
    print('| lever | London | calibrated | mux5 F1 | mux5 acc. | mux7 F1 |')
    for row in rows:
        print(f"| {row['name']} | " + ' | '.join(f'{row[k]:.3f}' for k in KEYS) + ' |')
    print(json.dumps({'rows': rows, 'seconds': round(time.monotonic() - started, 1)}))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
