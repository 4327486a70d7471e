"""Benchmark of the stream guard: live camera streams against injected, replayed and virtual ones.

Streams are made from the recordings of --data (a video-kind folder, default ../shared/data/video;
every .mp4 under it) by attune.integrity.simulate: genuine (a camera driver's timing, fresh sensor
noise) and attacks by kind (bag_replay, looped_video, virtual_camera, static_image, spliced), each
scored once at the end of the stream (the guard's 60-frame window, 10 s loop history).

- Positive = attack. `auc`: ROC AUC of 1 - score; `tpr_at_fpr_0.01`: attacks caught at the score
  that falsely alarms on at most 1 % of genuine streams; `shipped`: detection and false alarms at the
  shipped threshold. `per_kind`: the same per attack kind. `adaptive_replay` (fresh noise, driver
  timing, spoofed driver name) is reported apart and left out of the headline: see docs/integrity.md.
- --eval-only: the shipped model (stream_guard.json) on all of --data, fitting nothing; `unseen`
  repeats the numbers on the recordings the model was not trained on. Without it: a model is fitted
  on the streams of --train recordings and every number is on the other recordings only.
- Baseline in the same run: `baseline_graph_rule`, what the ROS graph and header alone say (the
  publisher is a player or unknown, stamps older than 1 s, camera_info missing or not matching).

    .venv/bin/python bench/stream_guard.py [--data DIR] [--eval-only] [--train d6.mp4]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'src'))

from attune.integrity.model import MODEL_PATH, StreamGuardModel  # noqa: E402
from attune.integrity.simulate import ADAPTIVE, ATTACK_KINDS  # noqa: E402
from attune.integrity.training import fit, generate  # noqa: E402


def roc_auc(genuine: np.ndarray, attack: np.ndarray) -> float:
    """P(attack scores lower than genuine) with ties counted half: the AUC of 1 - score."""
    if not len(genuine) or not len(attack):
        return float('nan')
    diff = genuine[:, None] - attack[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def tpr_at_fpr(genuine: np.ndarray, attack: np.ndarray, fpr: float) -> float:
    """Attacks below the highest threshold that flags at most `fpr` of genuine streams."""
    g = np.sort(genuine)
    allowed = int(np.floor(fpr * len(g)))
    threshold = g[allowed]            # flag scores strictly below this
    return float((attack < threshold).mean())


def graph_rule_score(f: dict[str, float]) -> float:
    flags = f['publisher_player'] + f['publisher_unknown'] + f['camera_info_mismatch'] + (f['log_latency_ms'] > 3.0)
    return -float(flags)


def report(samples: list, scores: np.ndarray, threshold: float | None) -> dict:
    kinds = np.array([s[0] for s in samples])
    genuine = scores[kinds == 'genuine']
    headline = np.isin(kinds, ATTACK_KINDS)
    out = {'streams': {'genuine': int(len(genuine)), 'attack': int(headline.sum())},
           'auc': round(roc_auc(genuine, scores[headline]), 4),
           'tpr_at_fpr_0.01': round(tpr_at_fpr(genuine, scores[headline], 0.01), 4)}
    if threshold is not None:
        out['shipped'] = {'threshold': round(threshold, 4),
                          'false_alarms_on_genuine': round(float((genuine < threshold).mean()), 4),
                          'attacks_detected': round(float((scores[headline] < threshold).mean()), 4)}
    out['per_kind'] = {}
    for kind in (*ATTACK_KINDS, ADAPTIVE):
        k = scores[kinds == kind]
        if len(k):
            entry = {'n': int(len(k)), 'auc': round(roc_auc(genuine, k), 4)}
            if threshold is not None:
                entry['detected'] = round(float((k < threshold).mean()), 4)
            out['per_kind'][kind] = entry
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--data', default=str(REPO.parent / 'shared' / 'data' / 'video'))
    ap.add_argument('--eval-only', action='store_true', help='Evaluate the shipped model on all of --data.')
    ap.add_argument('--train', nargs='+', default=['d6.mp4'], help='Training recordings (without --eval-only).')
    ap.add_argument('--genuine', type=int, default=30, help='Genuine streams per recording.')
    ap.add_argument('--per-attack', type=int, default=6, help='Streams per attack kind per recording.')
    ap.add_argument('--adaptive', type=int, default=4, help='Adaptive replays per recording.')
    ap.add_argument('--seed', type=int, default=2026)
    a = ap.parse_args()
    videos = sorted(str(p) for p in Path(a.data).rglob('*.mp4'))
    if not videos:
        raise SystemExit(f'no .mp4 recordings under {a.data}')
    if a.eval_only:
        eval_videos = videos
    else:
        train_videos = [v for v in videos if Path(v).name in a.train]
        eval_videos = [v for v in videos if Path(v).name not in a.train]
        if not train_videos or not eval_videos:
            raise SystemExit(f'--train {a.train} must name some, not all, recordings of {a.data}')
    samples = generate(eval_videos, a.genuine, a.per_attack, a.seed, kinds=ATTACK_KINDS)
    samples += generate(eval_videos, 0, a.adaptive, a.seed + 1, kinds=(ADAPTIVE,))
    if a.eval_only:   # the shipped model, read when scoring
        model = StreamGuardModel.load()
        trained_on = set(json.loads(MODEL_PATH.read_text())['trained_on'])
    else:
        model = fit(generate(train_videos, 40, 8, 12))
        trained_on = {Path(v).name for v in train_videos}
    scores = np.array([model.score(s[2]) for s in samples])
    baseline = np.array([graph_rule_score(s[2]) for s in samples])
    result = {'mode': 'eval_only' if a.eval_only else 'train_and_evaluate_unseen',
              'recordings': [Path(v).name for v in eval_videos], 'trained_on': sorted(trained_on),
              **report(samples, scores, model.threshold),
              'baseline_graph_rule': report(samples, baseline, None)}
    unseen = [i for i, s in enumerate(samples) if s[1] not in trained_on]
    if a.eval_only and len(unseen) < len(samples):
        result['unseen'] = report([samples[i] for i in unseen], scores[unseen], model.threshold)
    result['auc_unseen'] = result.get('unseen', result)['auc']
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
