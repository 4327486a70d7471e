"""Compare ASD emotion models (ONNX files) and their teacher on the same people of a training split, with a
paired person-wise bootstrap of each one's difference to the first model (docs/asd_emotion_levers.md).

    python tools/compare_asd_emotion.py shipped=src/attune/models/resources/asd_emotion.onnx new=/tmp/new.onnx

The faces, the split and the teacher's labels are those of `attune train asd-emotion` with the split
settings stored in the first model (its faces and teacher labels from the training cache, else computed);
`--part val` (default) scores the validation people, which serve every decision; `--part test` the test
people, once, at the end. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('models', nargs='+', metavar='NAME=FILE.onnx', help='the first one is the base')
    parser.add_argument('--part', choices=('val', 'test'), default='val')
    parser.add_argument('--data', action='append', metavar='DIR', help='as for attune train asd-emotion')
    parser.add_argument('--cache-dir', default='')
    parser.add_argument('--video-every', type=int, default=3)
    parser.add_argument('--resamples', type=int, default=400)
    parser.add_argument('--min-faces', type=int, default=10,
                        help='macro_f1_big: macro-F1 over the classes with at least this many faces in the part')
    ns = parser.parse_args(argv)
    import numpy as np

    from attune.affect.evaluation import model_probabilities
    from attune.affect.model import AsdEmotionModel
    from attune.cli.train_asd_emotion import load_or_build
    from attune.models.training.asd_emotion_metrics import big_classes, classification, person_bootstrap
    from attune.models.training.asd_emotion_training import TrainConfig, split

    models = dict(spec.split('=', 1) for spec in ns.models)
    loaded = {name: AsdEmotionModel(path) for name, path in models.items()}
    stored = next(iter(loaded.values())).info.config
    config = TrainConfig(**{f.name: stored[f.name] for f in fields(TrainConfig) if f.name in stored})
    build = argparse.Namespace(data=ns.data, max_files=0, video_every=ns.video_every, cache_dir=ns.cache_dir,
                               teacher_weight=[], held_out_teacher=True, seed=config.seed,
                               test_fraction=config.test_fraction, val_fraction=config.val_fraction)
    data = load_or_build(build, log=lambda line: print(line, file=sys.stderr))
    part = data.subset(getattr(split(data, config), ns.part))
    labelled = part.hard >= 0
    y, people = part.hard[labelled], part.subjects[labelled]
    predictions = {name: model_probabilities(model, part)[labelled].argmax(axis=1) for name, model in loaded.items()}
    predictions['teacher'] = part.soft[labelled].argmax(axis=1)
    base = next(iter(models))
    big = big_classes(y, ns.min_faces)

    def scores(pred: Any) -> dict[str, Any]:
        c = {k: v for k, v in classification(pred, y).items() if k != 'confusion'}
        return {**c, 'macro_f1_big': round(float(np.mean([c['f1'].get(k, 0.0) for k in big])), 4)}

    out = {'part': ns.part, 'faces': int(labelled.sum()), 'people': len(set(people.tolist())),
           'class_counts': {int(c): int((y == c).sum()) for c in np.unique(y)}, 'big_classes': big,
           'scores': {name: scores(pred) for name, pred in predictions.items()},
           'vs_' + base: person_bootstrap(predictions, y, people, base, ns.resamples, min_faces=ns.min_faces)}
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
