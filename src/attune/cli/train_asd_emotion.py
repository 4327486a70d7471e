"""`attune train asd-emotion`: build the teacher-labelled data set, train, export ONNX + model card.

Light at import (the `attune` command imports it to list sub-commands): torch is imported by the handler.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from attune.errors import ConfigError

DEFAULT_DATA = ('../shared/data/faces', '../shared/data/video/faces')
#: Bump when the stored crops or landmark features change meaning (invalidates dataset caches).
FEATURE_VERSION = 1


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        'asd-emotion', help='the ASD emotion model (ResNet + FaceMesh GCN, soft labels from the expression '
                            'teacher)',
        description='Train the ASD emotion model on image folders and videos labelled by the expression '
                    'teacher (docs/asd_emotion.md: data layout, loss, split); write ONNX and a model card.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--data', action='append', metavar='DIR',
                   help='data folder (repeatable): class folders, labels.csv, videos '
                        f'(default: {" ".join(DEFAULT_DATA)})')
    p.add_argument('--output', default='asd_emotion.onnx',
                   help='ONNX file to write; the model card goes beside it (.md)')
    p.add_argument('--torch-reference', default='',
                   help="where to save real test inputs and torch's outputs on them (.npz; '' = beside the output)")
    p.add_argument('--cache', default='', help='data set cache (.npz): reused when the files and settings match')
    p.add_argument('--depth', type=int, default=18, choices=(18, 34, 50), help='ResNet depth')
    p.add_argument('--input-size', type=int, default=64, help='face crop side in pixels (16..112)')
    p.add_argument('--width', type=int, default=16, help='ResNet width (channels of the first stage; 64 = paper)')
    p.add_argument('--epochs', type=int, default=24)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--lr', type=float, default=2e-3, help='peak learning rate (one-cycle)')
    p.add_argument('--temperature', type=float, default=2.0, help='KL temperature T of the soft labels')
    p.add_argument('--hard-weight', type=float, default=1.0, help='weight of the cross-entropy on hard labels')
    p.add_argument('--test-fraction', type=float, default=0.2, help='share of labelled subjects held out for test')
    p.add_argument('--val-fraction', type=float, default=0.15, help='share of labelled subjects for validation')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2, help='torch threads')
    p.add_argument('--video-every', type=int, default=3, help='use every N-th video frame')
    p.add_argument('--teacher-rules-weight', type=float, default=0.5, help="teacher ensemble weight of the AU rules")
    p.add_argument('--teacher-cnn-weight', type=float, default=1.0, help='teacher ensemble weight of the FER CNN')
    p.add_argument('--max-files', type=int, default=0, help='use at most this many files per data folder (smoke runs)')
    p.add_argument('--no-augment', action='store_true', help='no augmentation')
    p.set_defaults(handler=run)


def command_line(ns: argparse.Namespace) -> str:
    """The full command that reproduces this run (every option spelled out)."""
    args = ['attune', 'train', 'asd-emotion']
    for folder in ns.data or DEFAULT_DATA:
        args += ['--data', str(folder)]
    args += ['--output', str(ns.output)]
    if ns.torch_reference:
        args += ['--torch-reference', str(ns.torch_reference)]
    if ns.cache:
        args += ['--cache', str(ns.cache)]
    for name in ('depth', 'input_size', 'width', 'epochs', 'batch_size', 'lr', 'temperature', 'hard_weight',
                 'test_fraction', 'val_fraction', 'seed', 'threads', 'video_every', 'teacher_rules_weight',
                 'teacher_cnn_weight', 'max_files'):
        args += [f"--{name.replace('_', '-')}", str(getattr(ns, name))]
    if ns.no_augment:
        args.append('--no-augment')
    return shlex.join(args)


def _sources(folders: list[str], max_files: int) -> list:
    from attune.affect.dataset import discover

    sources = []
    for folder in folders:
        found = discover(folder)
        if max_files:
            found = found[:max_files]
        if not found:
            raise ConfigError(f'data folder {folder} holds no usable files (class folders, labels.csv or videos)')
        sources += found
    return sources


def _cache_key(sources: list, ns: argparse.Namespace) -> str:
    from attune.affect.dataset import STORE_SIZE

    h = hashlib.sha256()
    for s in sources:
        stat = s.path.stat()
        h.update(f'{s.path.resolve()}|{stat.st_size}|{int(stat.st_mtime)}|{s.subject}|{s.label}\n'.encode())
    h.update(json.dumps([ns.video_every, ns.teacher_rules_weight, ns.teacher_cnn_weight, STORE_SIZE,
                         FEATURE_VERSION]).encode())
    return h.hexdigest()[:16]


def load_or_build(ns: argparse.Namespace, log: Any = print) -> Any:
    """The data set of the run: from the cache when it matches, else built with the teacher (and cached)."""
    from attune.affect.dataset import FaceDataset, build_dataset
    from attune.expression.teacher import ExpressionTeacher

    folders = [str(f) for f in (ns.data or DEFAULT_DATA)]
    sources = _sources(folders, ns.max_files)
    key = _cache_key(sources, ns)
    cache = Path(ns.cache) if ns.cache else None
    if cache is not None and cache.is_file():
        data = FaceDataset.load(cache)
        if data.info.get('key') == key:
            log(f'data set from {cache}: {len(data)} faces')
            return data
        log(f'{cache} was built from other files or settings; rebuilding')
    log(f'labelling {len(sources)} files with the expression teacher ...')
    start = time.perf_counter()
    weights = {'rules': ns.teacher_rules_weight, 'cnn': ns.teacher_cnn_weight}
    with ExpressionTeacher(weights=weights) as teacher:
        data = build_dataset(sources, teacher, video_every=ns.video_every, progress=log)
    if not len(data):
        raise ConfigError(f'no faces found in {", ".join(folders)}')
    data.info.update({'key': key, 'folders': folders, 'teacher_weights': weights, 'files': len(sources),
                      'label_seconds': round(time.perf_counter() - start, 1)})
    log(f'{len(data)} faces from {len(sources)} files in {time.perf_counter() - start:.0f} s')
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        data.save(cache)
    return data


def run(ns: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError('training needs torch: install the [train] extra (tools/bootstrap.sh train, or '
                          "pip install 'attune[train]')") from None
    import numpy as np

    from attune.models import asd_emotion_training as training
    from attune.models.asd_emotion_card import write_model_card

    if not 16 <= ns.input_size <= 112:
        raise ConfigError(f'--input-size must be in [16, 112], got {ns.input_size}')
    if ns.epochs < 1 or ns.batch_size < 2:
        raise ConfigError('--epochs must be >= 1 and --batch-size >= 2')
    data = load_or_build(ns)
    config = training.TrainConfig(depth=ns.depth, input_size=ns.input_size, width=ns.width, epochs=ns.epochs,
                                  batch_size=ns.batch_size, lr=ns.lr, temperature=ns.temperature,
                                  hard_weight=ns.hard_weight, test_fraction=ns.test_fraction,
                                  val_fraction=ns.val_fraction, seed=ns.seed, threads=ns.threads,
                                  augment=not ns.no_augment)
    try:
        result = training.train(data, config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    output = Path(ns.output)
    check = training.export_onnx(result, output)
    card = write_model_card(result, data, output, command_line(ns), check)
    reference = Path(ns.torch_reference) if ns.torch_reference else output.with_suffix('.torch_reference.npz')
    reference.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(reference, **training.torch_reference(result, data))
    test = result.evaluation['test']
    summary = {'onnx': str(output), 'model_card': str(card), 'bytes': check['bytes'],
               'test_accuracy': test['accuracy'], 'test_macro_f1': test['macro_f1'], 'test_kl': test['kl_teacher'],
               'teacher_test_accuracy': test['teacher']['accuracy'], 'onnx_max_abs_diff': check['max_abs_diff'],
               'train_seconds': round(result.seconds, 1)}
    print(json.dumps(summary), file=sys.stdout)
    return 0
