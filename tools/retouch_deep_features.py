"""Do deep face features separate retouched from original photos? (issue 12; a measurement, not shipped)

The research abstract behind the retouch check reached its D-EER with features of deep face networks.
The one deep face network attune ships is dlib's ResNet face descriptor (the identity node's, 128
values). This makes the same originals and retouched copies as `attune train retouch` (same generator,
seed and delivery chain), of the training people only (the retouch folds 1-4; the 14 held-out people
are not read), and scores each feature set by 4-fold person-wise cross-validation: the shipped MLP
recipe (two training seeds) and a logistic regression. Prints one JSON object last.

    python tools/retouch_deep_features.py --data ../shared/data/faces

Nothing is written: the descriptors live in memory (they are face templates; docs/identity.md).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


def make_features(root: Path, seed: int) -> dict[str, Any]:
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.identity.embedder import FaceEmbedder
    from attune.identity.photos import largest_face_landmarks
    from attune.integrity import face_regions as fr
    from attune.integrity import retouch_data as rd
    from attune.integrity import retouch_training as rt
    from attune.integrity.retouch_features import retouch_features
    from attune.integrity.retouch_ops import OPERATIONS, STRENGTHS

    photos = [p for p in rd.faces_photos(root) if rt.person_fold(p.person) != rt.HELD_OUT_FOLD]
    embedder = FaceEmbedder()
    hand, deep, person, operation = [], [], [], []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=1)) as analyzer:
        for i, photo in enumerate(photos):
            rgb = rd.read_photo(photo.path)
            px = rd.landmarks_px(analyzer, rgb)
            if px is None:
                continue
            for op, _, _, delivered in rd.variants(photo, rgb, px, seed, 3, tuple(OPERATIONS), STRENGTHS):
                landmarks = largest_face_landmarks(analyzer, delivered)
                if landmarks is None:
                    continue
                try:
                    descriptor = embedder.embed_mesh(delivered, landmarks)
                except ValueError:
                    continue
                hand.append(retouch_features(delivered, fr.to_pixels(landmarks, delivered.shape)))
                deep.append(descriptor.astype(np.float64))
                person.append(photo.person)
                operation.append(op)
            print(f'{i + 1}/{len(photos)} photos', file=sys.stderr, flush=True)
    return {'hand': np.stack(hand), 'deep': np.stack(deep), 'person': np.array(person),
            'operation': np.array(operation)}


def scores_mlp(x: npt.NDArray[Any], y: npt.NDArray[Any], person: npt.NDArray[Any], seed: int) -> npt.NDArray[Any]:
    from attune.integrity import retouch_training as rt

    x = (x - np.nanmean(x, 0)) / (np.nanstd(x, 0) + 1e-9)
    folds = tuple(k for k in range(rt.FOLDS) if k != rt.HELD_OUT_FOLD)
    return rt.cross_validate(x, y, person, rt.RetouchTrainConfig(seed=seed), folds=folds)


def scores_logistic(x: npt.NDArray[Any], y: npt.NDArray[Any], person: npt.NDArray[Any], c: float) -> npt.NDArray[Any]:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from attune.integrity import retouch_training as rt

    fold = np.array([rt.person_fold(p) for p in person])
    out = np.full(len(y), np.nan)
    for k in range(rt.FOLDS):
        if k == rt.HELD_OUT_FOLD:
            continue
        model = make_pipeline(SimpleImputer(), StandardScaler(),
                              LogisticRegression(C=c, max_iter=2000, class_weight='balanced'))
        model.fit(x[fold != k], y[fold != k])
        out[fold == k] = model.decision_function(x[fold == k])
    return out


def main(argv: list[str] | None = None) -> int:
    from attune.integrity.retouch_metrics import d_eer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', type=Path, required=True, help='a faces-kind folder (london_ccby/...)')
    p.add_argument('--seed', type=int, default=2026, help="generation seed (`attune train retouch`'s default)")
    ns = p.parse_args(argv)
    d = make_features(ns.data, ns.seed)
    y = (d['operation'] != 'original').astype(np.int64)
    sets = {'hand22': d['hand'], 'deep128': d['deep'], 'hand22+deep128': np.hstack([d['hand'], d['deep']])}
    result: dict[str, Any] = {'copies': int(len(y)), 'originals': int((y == 0).sum()),
                              'people': len(set(d['person']))}

    def rate(s: npt.NDArray[Any]) -> dict[str, float]:
        ok = np.isfinite(s)
        per = {op: round(d_eer(s[ok & (y == 0)], s[ok & (d['operation'] == op)]), 3)
               for op in sorted(set(d['operation']) - {'original'})}
        return {'d_eer': round(d_eer(s[ok & (y == 0)], s[ok & (y == 1)]), 3), 'operations': per}

    for name, x in sets.items():
        result[name] = {f'mlp_seed{seed}': rate(scores_mlp(x, y, d['person'], seed)) for seed in (0, 1)}
        result[name].update({f'logistic_c{c}': rate(scores_logistic(x, y, d['person'], c)) for c in (0.01, 0.1, 1.0)})
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
