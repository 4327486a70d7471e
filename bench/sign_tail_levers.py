#!/usr/bin/env python3
"""Levers on the tail split of an isolated sign recipe (docs/sign.md, "Levers on the tail split").

    python bench/sign_tail_levers.py --data kinivi_handshape --lever lift --stage validation

The tail split holds out the last recorded blocks of each gloss (later moments of each recording,
like the recordings kept aside for evaluation). To choose among levers without peeking at it,
`--stage validation` carves a validation split out of the tail split's training part the same way
(its own last blocks held out) and trains on the rest; `--stage tail` trains on the tail split's
training part and scores its held-out blocks. Either way the recipe is the shipped one (`attune
train sign isolated`, stride 1) with one lever changed:

  training levers (--lever): baseline (the data set's signer variation), lift (+ fingers bent out
      of the palm plane, attune.sign.augment finger_lift_deg), tilt70 (whole-hand tilt +-70 deg),
      lift_tilt70 (both), clean50 (half of the blocks as recorded each epoch), angles (the encoder
      also reads the turn between consecutive finger bones, SignEncoder joint_angles: view-invariant
      curl), angles_lift (angles and lift), angles_only (the angles instead of the landmark positions)
  inference levers (scored on the same run, no retraining): `mirror_tta` (the window and its mirror
      image averaged), `smoothed` (the node's moving average of the probabilities over consecutive
      windows, weight 0.5), `knn_mix_w` (the model's probabilities mixed with weight w with a
      1-nearest-neighbour prototype score per gloss, as bench/sign.py's baseline features)

Prints one JSON object last.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'hands'
LEVERS = ('baseline', 'lift', 'tilt70', 'lift_tilt70', 'clean50', 'angles', 'angles_lift', 'angles_only')
MIX_WEIGHTS = (0.25, 0.5, 0.75)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def variation_for(lever: str, dataset):
    from attune.sign.augment import signer_variation

    base = signer_variation(dataset)
    if lever in ('lift', 'lift_tilt70', 'angles_lift'):
        base = replace(base, finger_lift_deg=80.0)
    if lever in ('tilt70', 'lift_tilt70'):
        base = replace(base, tilt_deg=70.0)
    return base


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def prototype_scores(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, classes: int) -> np.ndarray:
    """Per gloss, softmax of minus the nearest training window's distance (in units of the median
    nearest distance), on bench/sign.py's 1-NN features."""
    best = np.full((len(test_x), classes), np.inf)
    train_sq = (train_x ** 2).sum(1)
    for i in range(0, len(test_x), 512):
        chunk = test_x[i:i + 512]
        d = np.maximum(train_sq[None, :] - 2 * chunk @ train_x.T + (chunk ** 2).sum(1)[:, None], 0.0) ** 0.5
        for k in range(classes):
            if (train_y == k).any():
                best[i:i + 512, k] = d[:, train_y == k].min(1)
    scale = float(np.median(best.min(1))) or 1.0
    return softmax(-best / scale)


def smoothed(probs: np.ndarray, blocks: np.ndarray, weight: float = 0.5) -> np.ndarray:
    """The node's moving average over consecutive windows of each block."""
    out = probs.copy()
    for t in range(1, len(probs)):
        if blocks[t] == blocks[t - 1]:
            out[t] = weight * out[t - 1] + (1 - weight) * probs[t]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default='kinivi_handshape', help='built-in data set')
    parser.add_argument('--data-dir', type=Path, default=DEFAULT_DATA)
    parser.add_argument('--lever', choices=LEVERS, default='baseline')
    parser.add_argument('--stage', choices=('validation', 'tail'), default='validation')
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--stride', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save-probs', type=Path, help='write the held-out probabilities and labels (.npz)')
    args = parser.parse_args()

    import torch

    from attune.models.training.sign_training import SignTrainConfig, train_isolated
    from attune.sign.datasets import load_builtin, split_blocks, windows
    from attune.sign.features import GROUPS, group_mask

    sys.path.insert(0, str(REPO / 'bench'))
    from sign import baseline_features  # the 1-NN features of bench/sign.py

    dataset = load_builtin(args.data, args.data_dir)
    if args.stage == 'validation':  # never sees the tail split's held-out blocks
        dataset = split_blocks(dataset, strategy='tail').train
    config = SignTrainConfig(epochs=args.epochs, stride=args.stride, threads=1, split_strategy='tail',
                             seed=args.seed, clean_fraction=0.5 if args.lever == 'clean50' else 0.25,
                             joint_angles=2 if args.lever == 'angles_only' else int(args.lever.startswith('angles')))
    result = train_isolated(dataset, config, f'{args.data}_{args.lever}', log=log,
                            variation=variation_for(args.lever, dataset))
    model = result.model.eval()
    window, classes = config.window, len(dataset.glosses)
    x_test, y_test, blocks = windows(result.split.test, window, 1)
    x_train, y_train, _ = windows(result.split.train, window, 2)

    def probabilities(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return softmax(model(torch.from_numpy(x)).numpy().astype(np.float64))

    probs = probabilities(x_test)
    mirrored = x_test.copy()
    start, stop = GROUPS['shape']
    mirrored[..., start:stop:2] *= -1.0  # x of the rotation-normalized shape: the other hand
    mask = group_mask(dataset.groups)
    train_f = baseline_features(x_train, mask)
    test_f = baseline_features(x_test, mask, reference=x_train)  # scaled as the training windows
    knn = prototype_scores(train_f, y_train, test_f, classes)

    def accuracy(p: np.ndarray) -> float:
        return round(float((p.argmax(1) == y_test).mean()), 4)

    def per_gloss(p: np.ndarray) -> dict[str, float]:
        return {g: round(float((p.argmax(1)[y_test == k] == k).mean()), 3)
                for k, g in enumerate(dataset.glosses) if (y_test == k).any()}

    report = {'data': args.data, 'lever': args.lever, 'stage': args.stage, 'epochs': args.epochs,
              'seed': args.seed, 'test_windows': int(len(y_test)), 'test_blocks': len(result.split.test_blocks),
              'model_window_accuracy': accuracy(probs), 'per_gloss': per_gloss(probs),
              'varied_window_accuracy': round(result.metrics['held_out_varied_window_accuracy'], 4),
              'mirror_tta': accuracy(probs + probabilities(mirrored)),
              'smoothed': accuracy(smoothed(probs, blocks)),
              'knn_alone': accuracy(knn),
              **{f'knn_mix_{w}': accuracy((1 - w) * probs + w * knn) for w in MIX_WEIGHTS},
              'training_s': result.metrics['training_s']}
    if args.save_probs:
        np.savez(args.save_probs, probs=probs, labels=y_test, blocks=blocks, knn=knn)
    log(f"{args.data} {args.lever} {args.stage}: {report['model_window_accuracy']} {report['per_gloss']}")
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
