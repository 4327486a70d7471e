"""Benchmark of the retouch check: retouched vs original face photos, per operation and strength.

Every photo of --data (a faces-kind folder like ../shared/data/faces) gives --originals delivered
originals and one retouched copy per operation and strength (attune.integrity.retouch_ops), all
generated with a fixed --seed (not the training seed: new retouching draws) and reduced to features.

- --eval-only: the shipped model (models/resources/retouch.onnx) scores all of --data; nothing is fitted or
  cached. `unseen` repeats the numbers on the persons of --data the model was not trained on.
- without it: person-wise cross-validation on --data (each fold scored by a model fitted on the other
  folds' persons), so every number is on people the scoring model never saw.
- `d_eer`: detection equal error rate over every operation and strength; `tpr_at_fpr_0.05`: retouched
  photos caught with 5 % of originals flagged; `operations.<op>` and `operations.<op>.strengths.<s>`:
  the same for one operation (strength 1 light, 2 medium, 3 strong) against all originals;
  `strengths.<s>`: every operation at strength s against all originals.
- `threshold`/`originals_flagged`/`retouched_caught`: at the shipped threshold (--eval-only).
- `visible`: the same report without the copies whose edit nobody could see (under a just-noticeable
  colour difference on the face: attune.integrity.retouch_visibility), with how many were left out;
  the headline keys above always count every generated copy. Blemish removal applies only to photos
  with genuine blemishes, so it has fewer copies than the other operations.
- Baseline in the same run (`baseline`): one hand-made rule, skin texture relative to the ring around
  the face (score = -fine_ratio), no learning.

    .venv/bin/python bench/retouch.py [--data DIR] [--eval-only] [--seed N] [--originals N]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'src'))

from attune.integrity import retouch_data as rd  # noqa: E402
from attune.integrity.retouch_features import FEATURES  # noqa: E402
from attune.integrity.retouch_metrics import report  # noqa: E402


def baseline(data: rd.SampleSet) -> dict:
    score = -data.features[:, FEATURES.index('fine_ratio')]
    score = np.where(np.isfinite(score), score, np.nanmedian(score))
    full = report(score, data.operation, data.strength)
    return {'d_eer': full['d_eer'], 'tpr_at_fpr_0.05': full['tpr_at_fpr_0.05'],
            'operations': {op: {'d_eer': v['d_eer'], 'tpr_at_fpr_0.05': v['tpr_at_fpr_0.05']}
                           for op, v in full['operations'].items()}}


def with_visible(scores: np.ndarray, data: rd.SampleSet, threshold: float | None = None) -> dict:
    """report() over every sample, plus the same over the originals and the visible copies (`visible`)."""
    out = report(scores, data.operation, data.strength, threshold=threshold)
    keep = data.visible
    out['visible'] = {'left_out': int((~keep).sum()),
                      **report(scores[keep], data.operation[keep], data.strength[keep], threshold=threshold)}
    return out


def shipped_scores(data: rd.SampleSet) -> tuple[np.ndarray, dict]:
    from attune.integrity.retouch_check import RetouchCheck

    check = RetouchCheck()
    return check.scores(data.features), check.metadata


def cross_validated_scores(data: rd.SampleSet, seed: int) -> np.ndarray:
    import torch

    from attune.integrity import retouch_training as rt

    torch.set_num_threads(1)
    return rt.cross_validate(data.features, data.label, data.person, rt.RetouchTrainConfig(seed=seed))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', type=Path, default=REPO.parent / 'shared' / 'data' / 'faces')
    ap.add_argument('--eval-only', action='store_true', help='score with the shipped model; fit nothing')
    ap.add_argument('--seed', type=int, default=7, help='seed of the generated copies (default: %(default)s)')
    ap.add_argument('--originals', type=int, default=2, help='delivered originals per photo (default: %(default)s)')
    ap.add_argument('--limit', type=int, default=None, help='only the first N photos (a quick look)')
    ns = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    photos = rd.faces_photos(ns.data)[:ns.limit]
    started = time.process_time()
    data = rd.generate(photos, ns.seed, originals=ns.originals,
                       progress=lambda i, n: print(f'\rphotos {i}/{n}', end='', file=sys.stderr, flush=True))
    print(file=sys.stderr)
    cpu_s = time.process_time() - started
    out: dict = {'data': str(ns.data), 'mode': 'eval_only' if ns.eval_only else 'person_wise_cross_validation',
                 'seed': ns.seed, 'photos': len(photos), 'persons': len({p.person for p in photos}),
                 'samples': int(len(data.label)), 'skipped': len(data.skipped)}
    if ns.eval_only:
        scores, meta = shipped_scores(data)
        out.update(with_visible(scores, data, meta['threshold']))
        unseen = ~np.isin(data.person, meta['train_persons'])
        out['unseen'] = {'persons': int(len(set(data.person[unseen].tolist()))),
                         **(with_visible(scores[unseen], data.subset(unseen), meta['threshold'])
                            if unseen.any() else {})}
    else:
        out.update(with_visible(cross_validated_scores(data, ns.seed), data))
    out['baseline'] = baseline(data)
    out['cost'] = {'cpu_s_per_image': round(cpu_s / max(len(data.label), 1), 3)}
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
