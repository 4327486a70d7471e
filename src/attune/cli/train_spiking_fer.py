"""`attune train spiking-fer`: the spiking FER model (CS3D) and its C3D twin on emulated event windows.

Data: labelled photos (--images, repeatable) and videos (--videos, repeatable; unlabelled videos get
soft labels from the expression teacher). See docs/spiking_fer.md for the folder layouts.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from attune.errors import AttuneError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        'spiking-fer', help='CS3D spiking expression model on emulated event windows (+ C3D twin)',
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--images', type=Path, action='append', default=[], metavar='DIR',
                   help='labelled photos: DIR/<label>/*.jpg or DIR/labels.csv + DIR/images/ (repeatable)')
    p.add_argument('--videos', type=Path, action='append', default=[], metavar='DIR',
                   help='videos: DIR/*.mp4 (teacher soft labels) or DIR/<label>/*.mp4 (repeatable)')
    p.add_argument('--out', type=Path, default=Path('spiking_fer_model'), help='output folder (default: %(default)s)')
    p.add_argument('--name', default='cs3d_fer', help='model file name without suffix (default: %(default)s)')
    p.add_argument('--seed', type=int, default=0, help='seeds the split, emulation and training (default: %(default)s)')
    p.add_argument('--epochs', type=int, default=12)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--threads', type=int, default=2, help='torch CPU threads (default: %(default)s)')
    p.add_argument('--test-fraction', type=float, default=0.25,
                   help='fraction of subjects per source held out for testing (default: %(default)s)')
    p.add_argument('--image-windows', type=int, default=4, help='augmented windows per training photo')
    p.add_argument('--video-passes', type=int, default=2, help='emulation passes per training video')
    p.add_argument('--video-stride', type=int, default=3, help='frames between video windows')
    p.add_argument('--max-images', type=int, default=None, help='use at most N photos per folder (smoke runs)')
    p.add_argument('--window-s', type=float, default=0.32, help='window length in seconds')
    p.add_argument('--bins', type=int, default=8, help='time bins per window')
    p.add_argument('--size', type=int, default=32, help='face window side in pixels')
    p.add_argument('--no-twin', action='store_true', help='do not train the C3D twin (no energy comparison)')
    p.add_argument('--real-events', type=Path, default=None, metavar='AEDAT4',
                   help='a real event recording whose face windows the energy is also measured on')
    p.add_argument('--cache', type=Path, default=Path.home() / '.cache' / 'attune' / 'spiking_fer',
                   help='cache of face boxes and teacher labels (default: %(default)s)')
    p.set_defaults(handler=run)


def run(ns: argparse.Namespace) -> int:
    if not ns.images and not ns.videos:
        raise AttuneError('give training data: --images DIR and/or --videos DIR (see docs/spiking_fer.md)')
    for name in ('epochs', 'batch_size', 'bins', 'size', 'image_windows', 'video_passes', 'video_stride', 'threads'):
        if getattr(ns, name) <= 0:
            raise AttuneError(f"--{name.replace('_', '-')} must be positive")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise AttuneError('training needs torch: pip install -r requirements.txt (section [train])') from None
    from attune.events.dataset import WindowSpec, build_window_set
    from attune.models.spiking_fer_training import TrainConfig
    from attune.models.spiking_fer_training import run as train_run

    spec = WindowSpec(window_s=ns.window_s, bins=ns.bins, size=ns.size)
    config = TrainConfig(epochs=ns.epochs, batch_size=ns.batch_size, lr=ns.lr, seed=ns.seed, threads=ns.threads)
    data = build_window_set(ns.images, ns.videos, spec, seed=ns.seed, test_fraction=ns.test_fraction,
                            image_windows=ns.image_windows, video_passes=ns.video_passes,
                            video_stride=ns.video_stride, max_images=ns.max_images, cache_dir=ns.cache)
    command = 'attune ' + ' '.join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ['train'] else ''
    result = train_run(data, ns.out, ns.name, spec, config, twin=not ns.no_twin, real_events=ns.real_events,
                       command=command or _command(ns), data_notes=data.notes,
                       checkpoint_dir=ns.cache)
    print(f'wrote {result.onnx}' + (f', {result.twin_onnx}' if result.twin_onnx else '') + f' and {result.card}')
    for kind, entry in result.summary['models'].items():
        print(f'{kind}: held-out {entry.get("held_out", {})}')
    for where, e in result.summary.get('energy', {}).items():
        print(f'energy ({where}): spiking/C3D = {e["energy_ratio"]:.3f}')
    return 0


def _command(ns: argparse.Namespace) -> str:
    parts = ['attune', 'train', 'spiking-fer']
    parts += [a for d in ns.images for a in ('--images', str(d))]
    parts += [a for d in ns.videos for a in ('--videos', str(d))]
    parts += ['--out', str(ns.out), '--seed', str(ns.seed), '--epochs', str(ns.epochs)]
    return ' '.join(shlex.quote(p) for p in parts)
