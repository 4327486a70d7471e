"""Fit the pool of an ASD emotion network with its teacher (attune.affect.teacher_fusion) on the validation
people of the network's own split, and write it into the network's ONNX metadata.

    python tools/fit_asd_teacher_fusion.py [--model src/attune/models/resources/asd_emotion.onnx] [--write]

The faces, the split and the teacher's labels are those of `attune train asd-emotion` with the split settings
stored in the model (from the training cache when it matches): the teacher is the expression head refit
without the validation and test people, so neither side of the pool saw them. For each network weight
w in 0, 0.1, ..., 1 the per-class offsets are tuned on the validation people (tune_biases, as for the
network's own offsets); the w with the best validation macro-F1 is kept. The neutral reference of the
per-child calibration is the mean pooled output on the neutral training faces. The test people are scored
once and printed, never used to choose. Prints one JSON object; --write stores the pool in the model.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='', help="the network's ONNX file ('' = the shipped one)")
    parser.add_argument('--data', action='append', metavar='DIR', help='as for attune train asd-emotion')
    parser.add_argument('--cache-dir', default='')
    parser.add_argument('--video-every', type=int, default=3)
    parser.add_argument('--resamples', type=int, default=400)
    parser.add_argument('--write', action='store_true', help='store the fitted pool in the model file')
    ns = parser.parse_args(argv)
    import numpy as np

    from attune.affect.evaluation import model_probabilities
    from attune.affect.model import METADATA_KEY, AsdEmotionModel
    from attune.affect.teacher_fusion import TeacherFusion
    from attune.cli.train_asd_emotion import load_or_build
    from attune.emotions import EMOTIONS
    from attune.models.training.asd_emotion_metrics import classification, person_bootstrap, tune_biases
    from attune.models.training.asd_emotion_training import TrainConfig, split

    model = AsdEmotionModel(ns.model or None)
    stored = model.info.config
    config = TrainConfig(**{f.name: stored[f.name] for f in fields(TrainConfig) if f.name in stored})
    build = argparse.Namespace(data=ns.data, max_files=0, video_every=ns.video_every, cache_dir=ns.cache_dir,
                               teacher_weight=[], held_out_teacher=True, seed=config.seed,
                               test_fraction=config.test_fraction, val_fraction=config.val_fraction)
    data = load_or_build(build, log=lambda line: print(line, file=sys.stderr))
    parts = split(data, config)

    def part(name: str) -> tuple[Any, Any, Any, Any]:
        """(network probabilities, teacher probabilities, hard labels, people) of a part's labelled faces."""
        faces = data.subset(getattr(parts, name))
        labelled = faces.hard >= 0
        return (model_probabilities(model, faces)[labelled], faces.soft[labelled], faces.hard[labelled],
                faces.subjects[labelled])

    val, test, train = part('val'), part('test'), part('train')
    candidates = []
    for w in np.round(np.linspace(0.0, 1.0, 11), 2):
        plain = TeacherFusion(float(w), (0.0,) * len(EMOTIONS), (1 / len(EMOTIONS),) * len(EMOTIONS))
        logits = np.log(plain.fuse(val[0], val[1]))
        offsets = tune_biases(logits, val[2])
        f1 = classification((logits + offsets).argmax(axis=1), val[2])['macro_f1']
        candidates.append((f1, float(w), tuple(float(o) for o in offsets)))
        print(f'network weight {w:.1f}: validation macro-F1 {f1:.4f}, offsets {offsets.tolist()}', file=sys.stderr)
    _, weight, offsets = max(candidates, key=lambda c: c[0])
    unreferenced = TeacherFusion(weight, offsets, (1 / len(EMOTIONS),) * len(EMOTIONS))
    neutral = train[2] == EMOTIONS.index('neutral')
    reference = unreferenced.fuse(train[0][neutral], train[1][neutral]).mean(axis=0)
    fusion = TeacherFusion(weight, offsets, tuple(float(x) for x in reference / reference.sum()))

    out: dict[str, Any] = {'model': str(model.path), 'fusion': fusion.to_dict(),
                           'validation_macro_f1_by_weight': {str(w): round(f, 4) for f, w, _ in candidates}}
    for name, (network, teacher, y, people) in (('val', val), ('test', test)):
        predictions = {'teacher': teacher.argmax(axis=1), 'network': network.argmax(axis=1),
                       'fused': fusion.fuse(network, teacher).argmax(axis=1)}
        out[name] = {'faces': int(len(y)), 'people': len(set(people.tolist())),
                     'scores': {k: {m: v for m, v in classification(p, y).items() if m != 'confusion'}
                                for k, p in predictions.items()},
                     'vs_teacher': person_bootstrap(predictions, y, people, 'teacher', ns.resamples, min_faces=10)}
    if ns.write:
        write_fusion(model.path, METADATA_KEY, fusion.to_dict())
        out['written'] = str(model.path)
    print(json.dumps(out))
    return 0


def write_fusion(path: Path, key: str, fusion: dict[str, Any]) -> None:
    """Store `fusion` under 'teacher_fusion' in the JSON of the model's metadata entry `key` (the graph and
    its weights stay as they are)."""
    import onnx

    proto = onnx.load(str(path))
    entry = next(p for p in proto.metadata_props if p.key == key)
    entry.value = json.dumps({**json.loads(entry.value), 'teacher_fusion': fusion})
    onnx.save(proto, str(path))


if __name__ == '__main__':
    sys.exit(main())
