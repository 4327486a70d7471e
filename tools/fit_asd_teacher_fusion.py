"""Fit the pool of an ASD emotion network with its teacher on the validation people of the network's own split
(attune.models.training.asd_teacher_fusion) and, with --write, store it in the model file and its card.

    python tools/fit_asd_teacher_fusion.py [--model src/attune/models/resources/asd_emotion.onnx] [--write]

`attune train asd-emotion` does this itself after training; this tool fits the pool of a network trained
before, or again. The faces, the split and the teacher's labels are those of `attune train asd-emotion` with
the split settings stored in the model (from the training cache when it matches): the teacher is the
expression head refit without the validation and test people. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='', help="the network's ONNX file ('' = the shipped one)")
    parser.add_argument('--data', action='append', metavar='DIR', help='as for attune train asd-emotion')
    parser.add_argument('--cache-dir', default='')
    parser.add_argument('--video-every', type=int, default=3)
    parser.add_argument('--resamples', type=int, default=400)
    parser.add_argument('--write', action='store_true', help='store the fitted pool in the model file and its card')
    ns = parser.parse_args(argv)
    from attune.affect.model import AsdEmotionModel
    from attune.cli.train_asd_emotion import load_or_build
    from attune.models.training.asd_emotion_training import TrainConfig
    from attune.models.training.asd_teacher_fusion import card_section, fit_fusion, update_card, write_fusion

    model = AsdEmotionModel(ns.model or None)
    stored = model.info.config
    config = TrainConfig(**{f.name: stored[f.name] for f in fields(TrainConfig) if f.name in stored})
    build = argparse.Namespace(data=ns.data, max_files=0, video_every=ns.video_every, cache_dir=ns.cache_dir,
                               teacher_weight=[], held_out_teacher=True, seed=config.seed,
                               test_fraction=config.test_fraction, val_fraction=config.val_fraction)
    data = load_or_build(build, log=lambda line: print(line, file=sys.stderr))
    fit = fit_fusion(model, data, config, ns.resamples, log=lambda line: print(line, file=sys.stderr))
    out = {'model': str(model.path), **fit.as_dict()}
    if ns.write:
        write_fusion(model.path, fit.fusion)
        card = model.path.with_suffix('.md')
        if card.is_file():
            command = ' '.join(['python tools/fit_asd_teacher_fusion.py', *map(shlex.quote, argv or sys.argv[1:])])
            update_card(card, card_section(fit, command))
        out['written'] = str(model.path)
    print(json.dumps(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
