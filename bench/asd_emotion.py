"""Benchmark of the ASD emotion model: quality on held-out subjects against its baselines, latency per face
for each ResNet depth, peak memory. Prints one JSON object last.

Quality: the faces of --data (default ../shared/data/faces) are labelled by the expression teacher and
split by subject exactly as `attune train asd-emotion` split them (the seed and fractions stored in the
model); on the test subjects the shipped model (onnxruntime) is scored for accuracy and macro-F1 against
the hard labels and KL(teacher || model) against the teacher's soft labels. Baselines in the same run: the
teacher itself (argmax) and the majority class of the training subjects.

Latency: per face, on one onnxruntime thread and batch 1: input preparation (crop + aligned landmarks)
and the network of each depth (18, 34, 50) at the shipped model's width and input size (freshly
initialized weights: latency does not depend on training; needs torch for the export).

    .venv/bin/python bench/asd_emotion.py [--data DIR] [--model FILE] [--cache FILE]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default=str(REPO.parent / 'shared' / 'data' / 'faces'))
    parser.add_argument('--model', default='', help="ONNX model ('' = the shipped asd_emotion.onnx)")
    parser.add_argument('--cache', default='', help='data set cache (.npz), as in attune train asd-emotion')
    parser.add_argument('--runs', type=int, default=50, help='timed runs per latency figure')
    args = parser.parse_args(argv)

    import cv2
    import torch

    from attune.affect.model import AsdEmotionModel
    from attune.cli import train_asd_emotion as asd_emotion_cli
    from attune.face import FaceAnalyzer, FaceAnalyzerOptions
    from attune.models import asd_emotion_training as training

    model = AsdEmotionModel(args.model or None, threads=1)
    info = model.info
    stored = json.loads(model._session.get_modelmeta().custom_metadata_map['attune_asd_emotion'])['config']
    config = training.TrainConfig(**{k: v for k, v in stored.items() if k in training.TrainConfig.__dataclass_fields__})

    ns = argparse.Namespace(data=[args.data], cache=args.cache, video_every=3, teacher_rules_weight=0.5,
                            teacher_cnn_weight=1.0, max_files=0)
    start = time.perf_counter()
    data = asd_emotion_cli.load_or_build(ns, log=lambda text: print(text, file=sys.stderr))
    label_s = time.perf_counter() - start
    parts = training.split(data, config)
    test = data.subset(parts.test)
    crops = training.resize_crops(test.crops, info.input_size)
    probabilities = np.concatenate([model.run(crops[i:i + 64], test.landmarks[i:i + 64])[1]
                                    for i in range(0, len(test), 64)]) if len(test) else np.zeros((0, 7))
    quality = training.metrics(probabilities, test.soft, test.hard)
    labelled = test.hard >= 0
    train_hard = data.hard[parts.train]
    majority = int(np.bincount(train_hard[train_hard >= 0], minlength=7).argmax())
    teacher = training.classification(test.soft[labelled].argmax(axis=1), test.hard[labelled])
    majority_scores = training.classification(np.full(int(labelled.sum()), majority), test.hard[labelled])

    # latency per face: preparation from a real face, then each depth's network
    image_path = next(p for p in (Path(s) for s in data.paths) if p.suffix.lower() in ('.jpg', '.png'))
    rgb = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    with FaceAnalyzer(FaceAnalyzerOptions(static_images=True)) as analyzer:
        face = max(analyzer.process(rgb), key=lambda f: f.box.area)
    prepare_ms = time_ms(lambda: model.prepare(rgb, face.landmarks), args.runs)
    prepared = model.prepare(rgb, face.landmarks)
    shipped_ms = time_ms(lambda: model.predict([prepared]), args.runs)
    depths = {}
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        for depth in (18, 34, 50):
            cfg = training.TrainConfig(depth=depth, input_size=info.input_size, width=info.width)
            net = training.build_model(cfg).eval()
            result = training.TrainResult(net, cfg, parts, [], {}, np.full(7, 1 / 7), 0.0)
            path = Path(tmp) / f'r{depth}.onnx'
            check = training.export_onnx(result, path)
            runner = AsdEmotionModel(path, threads=1)
            depths[str(depth)] = {'network_ms': time_ms(lambda r=runner: r.predict([prepared]), args.runs),
                                  'parameters': sum(p.numel() for p in net.parameters()),
                                  'onnx_mb': round(check['bytes'] / 1e6, 2)}
    result = {
        'model': str(model.path), 'depth': info.depth, 'width': info.width, 'input_size': info.input_size,
        'data': args.data, 'faces': len(data), 'test_faces': len(test), 'test_subjects': len(set(test.subjects)),
        'test_hard_labelled': int(labelled.sum()),
        'model_test': {k: quality[k] for k in ('accuracy', 'macro_f1', 'kl_teacher')},
        'teacher_test': {k: teacher[k] for k in ('accuracy', 'macro_f1')},
        'majority_test': {k: majority_scores[k] for k in ('accuracy', 'macro_f1')},
        'f1_per_class': quality['f1'],
        'latency_ms_per_face': {'prepare': prepare_ms, 'shipped_network': shipped_ms,
                                'total': round(prepare_ms + shipped_ms, 3), 'by_depth': depths},
        'label_seconds': round(label_s, 1),
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
