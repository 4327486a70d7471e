"""Benchmark of the ASD emotion model: quality against its teacher and the majority class, latency per face
for each ResNet depth and the mini-Xception backbone, peak memory. Prints one JSON object last.

Quality (`eval`): the faces of --data (a folder laid out like ../shared/data/faces) are found with
MediaPipe and labelled by the expression teacher; the shipped model (onnxruntime) and the teacher (the
argmax of its soft labels) are scored against the hard labels: accuracy, macro-F1 over the classes
present, F1 per class (`eval.model.*`, `eval.teacher.*`, `eval.majority.*`), also per data set
(`eval.by_set.<set>`). `eval.model` is what the node publishes (before its per-child calibration): the
network pooled with the teacher's labels of the same faces when the model carries a teacher fusion
(attune.affect.teacher_fusion); `eval.network` is then the network alone.

  * default: the test people of the split the shipped model was trained with (recomputed from the seed and
    fractions stored in it): people it never saw. The teacher is the one it was trained with: the expression
    head refit without the validation and test people (attune.affect.held_out_teacher), since the shipped
    head was fit on every person of ../shared/data/faces. Faces and teacher labels may come from, and go
    to, the training cache (attune.affect.data_cache).
  * --eval-only: every labelled face of --data, cut at the model's input size exactly as the node does,
    against the shipped teacher; nothing is trained, fitted or cached (data kept aside for evaluation
    stays unseen).

Latency: per face, on one onnxruntime thread and batch 1: input preparation (crop + aligned landmarks),
the teacher the output is pooled with (0 without a pool), and the network of each depth (18, 34, 50) at
the shipped model's width and input size (freshly initialized weights: latency does not depend on
training; needs torch for the export). --no-latency skips it.

    .venv/bin/python bench/asd_emotion.py [--data DIR] [--eval-only] [--model FILE] [--cache-dir DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def time_ms(fn, runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return round(statistics.median(samples), 3)


def latency(model, data, runs: int) -> dict:
    """Preparation of a real face and the network of each depth, ms per face."""
    import cv2
    import torch

    from attune.affect.model import AsdEmotionModel
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.models.layers.fer_encoder import FER_INPUT_SIZE
    from attune.models.training import asd_emotion_training as training
    from attune.models.training.asd_emotion_export import export_onnx

    info = model.info
    image_path = next(p for p in (Path(s) for s in data.paths) if p.suffix.lower() in ('.jpg', '.png'))
    rgb = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True)) as analyzer:
        face = max(analyzer.process(rgb), key=lambda f: f.box.area)
    prepare_ms = time_ms(lambda: model.prepare(rgb, face.landmarks), runs)
    prepared = model.prepare(rgb, face.landmarks)
    shipped_ms = time_ms(lambda: model.predict([prepared]), runs)
    teacher_ms = 0.0
    if info.teacher_fusion is not None:  # the node runs the teacher on every face it pools
        from attune.expression.teacher import ExpressionTeacher

        teacher = ExpressionTeacher(threads=1)
        teacher_ms = time_ms(lambda: teacher.soft_labels(rgb, face.landmarks), runs)
    depths = {}
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        # each ResNet depth at the shipped width (16 if it has no ResNet), and the mini-Xception backbone
        variants = {str(d): training.TrainConfig(depth=d, input_size=info.input_size, width=info.width or 16)
                    for d in (18, 34, 50)}
        if info.input_size == FER_INPUT_SIZE:
            variants['fer-minixception'] = training.TrainConfig(backbone='fer-minixception')
        for name, cfg in variants.items():
            net = training.build_model(cfg).eval()
            empty = training.Split(*(np.zeros(0, bool),) * 3)
            result = training.TrainResult(net, cfg, empty, [], {}, np.full(7, 1 / 7), 0.0)
            path = Path(tmp) / f'{name}.onnx'
            check = export_onnx(result, path)
            runner = AsdEmotionModel(path, threads=1)
            depths[name] = {'network_ms': time_ms(lambda r=runner: r.predict([prepared]), runs),
                            'parameters': sum(p.numel() for p in net.parameters()),
                            'onnx_mb': round(check['bytes'] / 1e6, 2)}
    return {'prepare': prepare_ms, 'shipped_network': shipped_ms, 'teacher': teacher_ms,
            'total': round(prepare_ms + shipped_ms + teacher_ms, 3), 'by_depth': depths}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default=str(REPO.parent / 'shared' / 'data' / 'faces'))
    parser.add_argument('--eval-only', action='store_true',
                        help='score the shipped model and the teacher on every labelled face of --data; '
                             'train, fit and cache nothing')
    parser.add_argument('--model', default='', help="ONNX model ('' = the shipped asd_emotion.onnx)")
    parser.add_argument('--cache-dir', default='', help="faces/teacher cache as in attune train asd-emotion "
                                                        "(ignored with --eval-only)")
    parser.add_argument('--runs', type=int, default=50, help='timed runs per latency figure')
    parser.add_argument('--no-latency', action='store_true', help='skip the latency figures')
    args = parser.parse_args(argv)

    from attune.affect.evaluation import model_probabilities, published_probabilities, score, score_by_set
    from attune.affect.model import AsdEmotionModel
    from attune.cli import train_asd_emotion as asd_emotion_cli

    model = AsdEmotionModel(args.model or None, threads=1)
    info = model.info
    log = lambda text: print(text, file=sys.stderr)  # noqa: E731
    start = time.perf_counter()
    if args.eval_only:
        ns = argparse.Namespace(data=[args.data], video_every=3, teacher_weight=[], max_files=0)
        data = asd_emotion_cli.load_or_build(ns, log=log, cache=False, size=info.input_size)
        scope = f'every labelled face of {args.data} (--eval-only)'
    else:
        from attune.models.training import asd_emotion_training as training

        config = training.TrainConfig(**{k: v for k, v in info.config.items()
                                         if k in training.TrainConfig.__dataclass_fields__})
        # the teacher as in training: refit without the validation and test people, so neither side saw them
        ns = argparse.Namespace(data=[args.data], video_every=3, teacher_weight=[], max_files=0,
                                cache_dir=args.cache_dir, held_out_teacher=True, seed=config.seed,
                                test_fraction=config.test_fraction, val_fraction=config.val_fraction)
        everything = asd_emotion_cli.load_or_build(ns, log=log)
        data = everything.subset(training.split(everything, config).test)
        scope = f'the test people of the shipped model\'s split of {args.data} (seed {config.seed})'
    label_s = time.perf_counter() - start
    probabilities = published_probabilities(model, data)
    evaluation = {'scope': scope, **score(probabilities, data, info.majority_class),
                  'by_set': score_by_set(probabilities, data, info.majority_class)}
    if info.teacher_fusion is not None:  # the network alone, without the pool with its teacher
        evaluation['network'] = score(model_probabilities(model, data), data, info.majority_class)['model']
        evaluation['teacher_fusion'] = info.teacher_fusion.to_dict()
    result = {
        'model': str(model.path), 'backbone': info.backbone, 'depth': info.depth, 'width': info.width,
        'input_size': info.input_size,
        'data': args.data, 'eval_only': args.eval_only, 'eval': evaluation,
        'latency_ms_per_face': None if args.no_latency else latency(model, data, args.runs),
        'label_seconds': round(label_s, 1),
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
