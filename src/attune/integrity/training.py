"""Fit the stream-guard model on generated streams from training recordings (scikit-learn).

    python -m attune.integrity.training --videos ../shared/data/video/faces/d6.mp4 \
        --out src/attune/models/resources/stream_guard.json

The threshold is set on the training streams: the score below which at most THRESHOLD_FPR of
genuine training streams fall (a margin under the lowest, for unseen recordings).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity.evidence import FEATURES
from attune.integrity.model import StreamGuardModel
from attune.integrity.simulate import ATTACK_KINDS, make_stream, stream_features

THRESHOLD_FPR = 0.005


def generate(videos: Sequence[str], genuine: int, per_attack: int, seed: int,
             kinds: Sequence[str] = ATTACK_KINDS) -> list[tuple[str, str, dict[str, float]]]:
    """(kind, recording, features) of `genuine` + `per_attack` x kinds streams per video."""
    rng = np.random.default_rng(seed)
    out = []
    for video in videos:
        for kind in ['genuine'] * genuine + [k for k in kinds for _ in range(per_attack)]:
            stream = make_stream(kind, video, rng)
            out.append((kind, stream.recording, stream_features(stream)))
    return out


def matrix(rows: Sequence[dict[str, float]], features: Sequence[str] = FEATURES) -> npt.NDArray[Any]:
    return np.array([[r[f] for f in features] for r in rows], dtype=np.float64)


def fit(samples: Sequence[tuple[str, str, dict[str, float]]], features: Sequence[str] = FEATURES,
        c: float = 0.3) -> StreamGuardModel:
    """Logistic regression (L2, balanced classes) on standardized features; NaN counts as the mean.
    Features left out of `features` get weight 0 (the metadata-only baseline)."""
    from sklearn.linear_model import LogisticRegression
    x = matrix([s[2] for s in samples])
    y = np.array([s[0] == 'genuine' for s in samples], dtype=int)
    mean = np.nanmean(x, axis=0)
    scale = np.nanstd(x, axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.where(np.isfinite(x), (x - mean) / scale, 0.0)
    used = np.array([f in features for f in FEATURES])
    clf = LogisticRegression(C=c, class_weight='balanced', max_iter=2000).fit(z[:, used], y)
    coef = np.zeros(len(FEATURES))
    coef[used] = clf.coef_[0]
    model = StreamGuardModel(FEATURES, mean, scale, coef, float(clf.intercept_[0]), 0.5)
    genuine_scores = np.sort([model.score(s[2]) for s in samples if s[0] == 'genuine'])
    at_fpr = float(np.quantile(genuine_scores, THRESHOLD_FPR))
    threshold = min(0.5, 0.5 * at_fpr)
    return StreamGuardModel(FEATURES, mean, scale, coef, float(clf.intercept_[0]), threshold)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--videos', nargs='+', required=True)
    ap.add_argument('--genuine', type=int, default=40)
    ap.add_argument('--per-attack', type=int, default=8)
    ap.add_argument('--seed', type=int, default=12)
    ap.add_argument('--out', required=True)
    a = ap.parse_args(argv)
    model = fit(generate(a.videos, a.genuine, a.per_attack, a.seed))
    data = model.to_dict() | {'trained_on': [v.rsplit('/', 1)[-1] for v in a.videos], 'seed': a.seed,
                              'genuine_streams': a.genuine, 'streams_per_attack': a.per_attack}
    with open(a.out, 'w') as f:
        json.dump(data, f, indent=1)
    print(json.dumps({f: round(w, 3) for f, w in zip(FEATURES, model.coef.tolist())}), file=sys.stderr)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
