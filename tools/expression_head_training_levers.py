#!/usr/bin/env python3
"""How the expression head is trained, and a second FER2013 CNN: levers scored against the shipped head.

    nice -n 19 python tools/expression_head_training_levers.py --data ../shared/data/faces --threads 2 \
        [--second-cnn DIR]

The same person-wise folds, settings and scores as tools/expression_head_levers.py (the quality holdout is
left out and never scored). Test rows are always the shipped inputs; the levers change what the head is
trained on or how its outputs are combined. Rows, each for head seeds 0 and 1 (seed spread):
  shipped                     the shipped recipe;
  mirror views as rows        every training photo also as two more rows, the CNN inputs of its plain crop
                              and of its mirror crop alone (the shipped input is their mean);
  jittered crops as rows      every training photo also as K more rows (default 4): the CNN inputs of crops
                              cut with a random roll (+-10 deg), scale (+-8 %) and shift (+-4 % of the face
                              width) of the landmarks, then a random gamma, contrast and brightness, each
                              mirror-averaged as shipped. Crops in memory only;
  jittered + mirror rows      both.
  With more rows the epochs are divided by the number of copies (at least 8), so every row trains about
  as many steps as the shipped head.
Then, on the shipped inputs:
  3 seeds                     the mean log-probabilities of heads of seeds 0, 1, 2;
  logistic regression C       an L2 logistic regression on standardized inputs, the head's class weights and
                              London weight, alone and pooled with the 3 seeds (mean log-probabilities);
  nested offsets              per-class logit offsets (-1..1, coordinate ascent) chosen per fold on the other
                              folds' out-of-fold logits (London accuracy + mux5 F1), on seed 0 and on 3 seeds;
  + second CNN                with --second-cnn DIR (the `facial_emotion_recognition` folder of that PyPI
                              sdist, 0.3.4, MIT: `pip download --no-deps facial_emotion_recognition==0.3.4`):
                              its FER2013 network (48x48 grey) on attune's crop, hidden layer (256) and
                              log-probabilities (7), mirror-averaged, as extra inputs (raw, or PCA 64 per fold).
Prints one JSON row per lever, then a table.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from attune.expression.cnn import CropError, FerCnn, prepare_crop
from attune.expression.dataset import read_rgb
from attune.expression.head import head_features, mirror_mean
from attune.expression.shape import landmark_shape
from attune.models.training.expression_head_training import (
    Matrix,
    class_weights,
    fit,
    predict_logits,
    scores,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from expression_head_levers import (
    MARGIN,
    SHIPPED_HEAD,
    cross_validated,
    lever_parser,
    report,
    summary,
    training_people,
)


def views(items: list[Any], features: Any, m: Matrix, jitters: int, seed: int = 2026) -> dict[str, np.ndarray]:
    """Alternative training inputs for m's rows: the plain crop's and the mirror crop's CNN alone, and
    `jitters` jittered crops (mirror-averaged). (N, F) arrays in m's row order."""
    idx = m.index
    shape = np.stack([landmark_shape(features.landmarks[i], int(features.size[i][0]), int(features.size[i][1]))
                      for i in idx])

    def inputs(rows: np.ndarray, embedding: np.ndarray, probabilities: np.ndarray, shapes: np.ndarray) -> np.ndarray:
        return head_features(features.au[rows], features.measures[rows], embedding, probabilities, shapes)

    out = {'plain': inputs(idx, features.embedding[idx], features.cnn_probabilities[idx], shape),
           'mirror': inputs(idx, features.mirror_embedding[idx], features.mirror_probabilities[idx], shape)}
    cnn = FerCnn()
    rng = np.random.default_rng(seed)
    jittered = np.zeros((jitters, len(idx), out['plain'].shape[1]), np.float32)
    for r, i in enumerate(idx):
        rgb = read_rgb(items[i].path)
        h, w = rgb.shape[:2]
        points = features.landmarks[i][:, :2] * (w, h)
        centre, face_width = points.mean(axis=0), float(np.ptp(points[:, 0]))
        crops = []
        for _ in range(jitters):
            a, s = np.radians(rng.uniform(-10, 10)), rng.uniform(0.92, 1.08)
            turn = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            moved = features.landmarks[i].copy()
            moved[:, :2] = ((points - centre) @ turn.T + centre + rng.uniform(-0.04, 0.04, 2) * face_width) / (w, h)
            try:
                crop = prepare_crop(rgb, moved).astype(np.float32)
            except CropError:
                crop = prepare_crop(rgb, features.landmarks[i]).astype(np.float32)
            crop = 255.0 * (crop / 255.0) ** np.exp(rng.uniform(-0.35, 0.35))
            crop = (crop - crop.mean()) * rng.uniform(0.8, 1.2) + crop.mean() + rng.uniform(-15, 15)
            crops.append(np.clip(crop, 0, 255).astype(np.uint8))
        plain, mirror = cnn.with_mirror(np.stack(crops))
        embedding, probabilities = mirror_mean(plain.embedding, plain.probabilities, mirror.embedding,
                                               mirror.probabilities)
        jittered[:, r] = inputs(np.full(jitters, i), embedding, probabilities, np.repeat(shape[r:r + 1], jitters, 0))
    out.update({f'jitter{k}': jittered[k] for k in range(jitters)})
    return out


def with_training_views(m: Matrix, fold: np.ndarray, extra: list[np.ndarray], config: Any) -> np.ndarray:
    """Out-of-fold logits of heads trained on m's rows plus the same rows' `extra` inputs; tested on m.x."""
    logits = np.zeros((len(m.y), 7), np.float32)
    copies = 1 + len(extra)
    for k in range(int(fold.max()) + 1):
        train = fold != k
        rows = Matrix(np.vstack([m.x[train]] + [e[train] for e in extra]).astype(np.float32),
                      np.tile(m.y[train], copies), np.tile(m.person[train], copies),
                      np.tile(m.source[train], copies), np.tile(m.index[train], copies))
        model = fit(rows, replace(config, epochs=max(8, config.epochs // copies)))
        logits[~train] = predict_logits(model, m.x[~train])
    return logits


def log_probabilities(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    out: np.ndarray = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


def logistic_regression(m: Matrix, fold: np.ndarray, c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    logits = np.full((len(m.y), 7), -30.0, np.float32)
    for k in range(int(fold.max()) + 1):
        train = fold != k
        scaler = StandardScaler().fit(m.x[train])
        weight = class_weights(m.y[train]).numpy()[m.y[train]]
        weight = weight * np.where(m.source[train] == 'london', SHIPPED_HEAD.london_weight, 1.0)
        model = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(m.x[train]), m.y[train],
                                                            sample_weight=weight)
        logits[np.ix_(~train, model.classes_)] = model.decision_function(scaler.transform(m.x[~train]))
    return logits


def nested_offsets(z: np.ndarray, m: Matrix, fold: np.ndarray) -> np.ndarray:
    grid = np.arange(-1.0, 1.01, 0.25)

    def value(logits: np.ndarray, rows: np.ndarray) -> float:
        s = scores(logits, m.rows(rows), MARGIN)
        return float(s['london_accuracy'] + s['mux5_macro_f1'])

    out = z.copy()
    for k in range(int(fold.max()) + 1):
        train = fold != k
        offsets = np.zeros(7, np.float32)
        for _ in range(2):
            for c in range(7):
                tried = []
                for g in grid:
                    trial = offsets.copy()
                    trial[c] = g
                    tried.append(value(z[train] + trial, train))
                offsets[c] = grid[int(np.argmax(tried))]
        print(f'fold {k}: offsets {offsets.tolist()}', flush=True)
        out[~train] += offsets
    return out


def second_cnn(folder: Path, items: list[Any], features: Any, m: Matrix) -> np.ndarray:
    """(N, 263) hidden layer and log-probabilities (FER2013 order) of the sdist's network on attune's crop."""
    import cv2
    import torch

    sys.path.insert(0, str(folder))
    from networks import NetworkV2  # the sdist's own module

    net = NetworkV2(1, 32, 7)
    state = torch.load(folder / 'model' / 'model.pkl', map_location='cpu', weights_only=False)
    net.load_state_dict(state['network'])
    net.eval()
    crops = np.stack([cv2.resize(prepare_crop(read_rgb(items[i].path), features.landmarks[i]), (48, 48),
                                 interpolation=cv2.INTER_AREA) for i in m.index]).astype(np.float32) / 255.0
    outputs = []
    for view in (crops, crops[:, :, ::-1]):
        with torch.no_grad():
            h = torch.from_numpy((np.ascontiguousarray(view) - 0.5) / 0.5)[:, None]
            for block in (net.conv_1, net.conv_2, net.conv_3, net.conv_4):
                h = block(h)
            hidden = net.linear[1](net.linear[0](h.reshape(len(h), -1)))
            p = net.linear[3](net.linear[2](hidden))
        outputs.append(np.hstack([hidden.numpy(), np.log(p.numpy() + 1e-4)]))
    out: np.ndarray = ((outputs[0] + outputs[1]) / 2).astype(np.float32)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = lever_parser(__doc__)
    parser.add_argument('--jitters', type=int, default=4)
    parser.add_argument('--second-cnn', type=Path, help='the facial_emotion_recognition folder of its sdist')
    ns = parser.parse_args(argv)
    started = time.monotonic()
    items, features, m, fold = training_people(ns.data, ns.cache)
    alternatives = views(items, features, m, ns.jitters)
    jittered = [alternatives[f'jitter{k}'] for k in range(ns.jitters)]
    mirrored = [alternatives['plain'], alternatives['mirror']]
    rows = []
    seeds = {}
    for seed in (0, 1, 2):
        config = replace(SHIPPED_HEAD, seed=seed, threads=ns.threads)
        seeds[seed] = cross_validated(m, fold, [], 0, config)
        if seed == 2:
            break
        rows.append(summary(f'shipped, seed {seed}', seeds[seed], m, fold))
        for name, extra in (('mirror views as rows', mirrored), (f'{ns.jitters} jittered crops as rows', jittered),
                            ('jittered + mirror rows', jittered + mirrored)):
            rows.append(summary(f'{name}, seed {seed}', with_training_views(m, fold, extra, config), m, fold))
    pooled = np.mean([log_probabilities(z) for z in seeds.values()], axis=0)
    rows.append(summary('3 seeds', pooled, m, fold))
    for c in (0.01, 0.03, 0.1):
        linear = logistic_regression(m, fold, c)
        rows.append(summary(f'logistic regression C={c}', linear, m, fold))
        rows.append(summary(f'3 seeds + logistic regression C={c}', (pooled + log_probabilities(linear)) / 2, m, fold))
    rows.append(summary('nested offsets, seed 0', nested_offsets(seeds[0], m, fold), m, fold))
    rows.append(summary('nested offsets, 3 seeds', nested_offsets(pooled, m, fold), m, fold))
    if ns.second_cnn:
        block = second_cnn(ns.second_cnn, items, features, m)
        config = replace(SHIPPED_HEAD, threads=ns.threads)
        rows.append(summary('+ second CNN (263)', cross_validated(m, fold, [block], 0, config), m, fold))
        rows.append(summary('+ second CNN, PCA 64', cross_validated(m, fold, [block], 64, config), m, fold))
    return report(rows, started)


if __name__ == '__main__':
    raise SystemExit(main())
