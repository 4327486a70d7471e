"""`attune label PATH... --out labels.csv`: the expression teacher's soft labels for image files,
folders of images, and videos: one CSV row per face with its box, label, soft labels over EMOTIONS,
valence, arousal and action-unit intensities (like Py-Feat's detector output), for training other
models or analysing recordings."""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

VIDEO_SUFFIXES = {'.mp4', '.avi', '.mov', '.mkv', '.webm'}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('label', help='soft expression labels of faces in images, folders and videos',
                              description=__doc__)
    p.add_argument('paths', type=Path, nargs='+', help='image files, folders (searched recursively) or videos')
    p.add_argument('--out', type=Path, default=None, help='CSV file to write (default: stdout)')
    p.add_argument('--every', type=int, default=1, help='videos: label every N-th frame (default 1)')
    p.add_argument('--rules-weight', type=float, default=None, help='ensemble weight of the AU rules (0)')
    p.add_argument('--cnn-weight', type=float, default=None, help='ensemble weight of the CNN (0)')
    p.add_argument('--head-weight', type=float, default=None, help='ensemble weight of the expression head (1)')
    p.set_defaults(handler=label)


def label(ns: argparse.Namespace) -> int:
    from attune.errors import ConfigError
    from attune.expression.action_units import AU_NAMES
    from attune.expression.teacher import EMOTIONS, TEACHER_WEIGHTS, ExpressionTeacher

    if ns.every < 1:
        raise ConfigError(f'--every must be at least 1, got {ns.every}')
    weights = dict(TEACHER_WEIGHTS)
    if ns.rules_weight is not None:
        weights['rules'] = ns.rules_weight
    if ns.cnn_weight is not None:
        weights['cnn'] = ns.cnn_weight
    if ns.head_weight is not None:
        weights['head'] = ns.head_weight
    missing = [str(p) for p in ns.paths if not p.exists()]
    if missing:
        raise ConfigError(f"no such file or folder: {', '.join(missing)}")
    out = open(ns.out, 'w', newline='') if ns.out else sys.stdout  # noqa: SIM115 - stdout is not closed
    rows = 0
    try:
        writer = csv.writer(out)
        writer.writerow(['path', 'frame', 'stamp_s', 'face', 'xmin', 'ymin', 'xmax', 'ymax', 'label',
                         *[f'p_{e}' for e in EMOTIONS], 'valence', 'arousal', *AU_NAMES])
        with ExpressionTeacher(weights=weights) as teacher:
            for path in ns.paths:
                if path.is_dir():
                    items = teacher.label_folder(path)
                elif path.suffix.lower() in VIDEO_SUFFIXES:
                    items = teacher.label_video(path, every=ns.every)
                else:
                    items = teacher.label_images([path])
                for item in items:
                    b = item.box
                    writer.writerow([item.path, item.frame, f'{item.stamp_s:.3f}', item.face_index,
                                     *(f'{v:.4f}' for v in (b.xmin, b.ymin, b.xmax, b.ymax)),
                                     EMOTIONS[int(item.soft_labels.argmax())],
                                     *(f'{p:.4f}' for p in item.soft_labels),
                                     f'{item.expression.valence:.4f}', f'{item.expression.arousal:.4f}',
                                     *(f'{v:.4f}' for v in item.expression.aus.intensities)])
                    rows += 1
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        if out is not sys.stdout:
            out.close()
    print(f'{rows} face(s) labelled' + (f' -> {ns.out}' if ns.out else ''), file=sys.stderr)
    return 0
