"""`attune train spiking-fer`: the spiking FER model (CS3D) and its C3D twin, distilled from the frame-based
expression teacher on emulated event windows.

Data: photos (--images, repeatable; folders with a neutral and a smiling photo of a person also give
morphed onsets and offsets) and videos (--videos, repeatable). The teacher labels everything; see
docs/spiking_fer.md for the folder layouts and what is made of them.
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
    p.add_argument('--epochs', type=int, default=8)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--threads', type=int, default=1,
                   help='torch CPU threads (default: %(default)s; on a loaded machine 2 threads were 10x slower)')
    p.add_argument('--test-fraction', type=float, default=0.25,
                   help='fraction of subjects per source held out for testing (default: %(default)s)')
    p.add_argument('--still-windows', type=int, default=2, help='augmented windows per training photo')
    p.add_argument('--sequences', type=int, default=3,
                   help='morphed onsets (and as many offsets) per training person with a neutral + smiling photo')
    p.add_argument('--video-passes', type=int, default=1, help='emulation passes per training video')
    p.add_argument('--video-stride', type=int, default=3, help='frames between video windows')
    p.add_argument('--max-photos', type=int, default=None,
                   help='at most N training photos per folder, a seeded sample (held-out photos: all)')
    p.add_argument('--label-mix', type=float, default=0.5,
                   help='weight of photo labels against the teacher in targets where both exist (default: %(default)s)')
    p.add_argument('--onset-truth', action='store_true',
                   help='onset/offset targets: the photo labels follow the scored truth (smile from half way '
                        'through the morph) instead of the morph amount')
    p.add_argument('--channels', default='8,16,32', help='widths of the three stages (default: %(default)s)')
    p.add_argument('--readout', type=int, default=4,
                   help='grid side the last firing rates are averaged onto before the head (default: %(default)s)')
    p.add_argument('--shift-px', type=int, default=2, help='random shift of training windows (default: %(default)s)')
    p.add_argument('--event-dropout', type=float, default=0.1,
                   help='fraction of events dropped from training windows (default: %(default)s)')
    p.add_argument('--change-weight', type=float, default=1.0,
                   help='loss weight of onset/offset windows against stills (default: %(default)s)')
    p.add_argument('--target-temperature', type=float, default=1.0,
                   help='targets sharpened (< 1) or softened (> 1) as y ** (1 / T) (default: %(default)s)')
    p.add_argument('--class-balance', type=float, default=0.25,
                   help='class weight = count ** -class_balance (default: %(default)s)')
    p.add_argument('--val-fraction', type=float, default=0.0,
                   help='of the training people per source, a seeded fraction kept out of training and scored '
                        'for model selection (default: %(default)s)')
    p.add_argument('--window-s', type=float, default=0.32, help='window length in seconds')
    p.add_argument('--bins', type=int, default=8, help='time bins per window')
    p.add_argument('--size', type=int, default=32, help='face window side in pixels')
    p.add_argument('--margin', type=float, default=None,
                   help="face window border on each side, as a fraction of the face box side; recorded in the "
                        "model, which event_emulator_node follows (default: the node's, 0.15)")
    p.add_argument('--saccade-px', type=float, default=None,
                   help="saccade triangle size in window pixels; recorded in the model (default: the node's, 2.5)")
    p.add_argument('--no-twin', action='store_true', help='do not train the C3D twin (no energy comparison)')
    p.add_argument('--real-events', type=Path, default=None, metavar='AEDAT4',
                   help='a real event recording whose face windows the energy is also measured on')
    p.add_argument('--cache', type=Path, default=Path.home() / '.cache' / 'attune' / 'spiking_fer',
                   help='cache of faces, morphs, emulated windows and teacher labels, outside the repository '
                        '(default: %(default)s)')
    p.set_defaults(handler=run)


def run(ns: argparse.Namespace) -> int:
    if not ns.images and not ns.videos:
        raise AttuneError('give training data: --images DIR and/or --videos DIR (see docs/spiking_fer.md)')
    for name in ('epochs', 'batch_size', 'bins', 'size', 'still_windows', 'video_passes', 'video_stride', 'threads'):
        if getattr(ns, name) <= 0:
            raise AttuneError(f"--{name.replace('_', '-')} must be positive")
    if not (ns.change_weight > 0 and ns.target_temperature > 0 and 0.0 <= ns.val_fraction < 1.0):
        raise AttuneError('--change-weight and --target-temperature must be positive, --val-fraction in [0, 1)')
    if ns.sequences < 0 or not 0.0 <= ns.label_mix <= 1.0:
        raise AttuneError('--sequences must be >= 0 and --label-mix in [0, 1]')
    try:
        channels = tuple(int(c) for c in ns.channels.split(','))
    except ValueError:
        channels = ()
    if len(channels) != 3 or min(channels) <= 0:
        raise AttuneError(f'--channels needs three positive widths, got {ns.channels!r}')
    try:
        import torch  # noqa: F401
    except ImportError:
        raise AttuneError('training needs torch: pip install -r requirements.txt (section [train])') from None
    from attune.events.dataset import BuildOptions, WindowSpec, build_window_set
    from attune.models.training.spiking_fer_training import SpikingFerTrainConfig
    from attune.models.training.spiking_fer_training import run as train_run

    window = {k: v for k, v in (('margin', ns.margin), ('saccade_px', ns.saccade_px)) if v is not None}
    spec = WindowSpec(window_s=ns.window_s, bins=ns.bins, size=ns.size, **window)
    config = SpikingFerTrainConfig(epochs=ns.epochs, batch_size=ns.batch_size, lr=ns.lr, seed=ns.seed,
                                   threads=ns.threads, channels=channels, readout=ns.readout, shift_px=ns.shift_px,
                                   event_dropout=ns.event_dropout, change_weight=ns.change_weight,
                                   target_temperature=ns.target_temperature, class_balance=ns.class_balance,
                                   val_fraction=ns.val_fraction)
    options = BuildOptions(seed=ns.seed, test_fraction=ns.test_fraction, still_windows=ns.still_windows,
                           sequences=ns.sequences, max_photos=ns.max_photos, video_passes=ns.video_passes,
                           video_stride=ns.video_stride, label_mix=ns.label_mix,
                           onset_truth=ns.onset_truth)
    data = build_window_set(ns.images, ns.videos, spec, options, cache_dir=ns.cache)
    command = 'attune ' + ' '.join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ['train'] else ''
    result = train_run(data, ns.out, ns.name, spec, config, twin=not ns.no_twin, real_events=ns.real_events,
                       command=command or _command(ns), data_notes=data.notes,
                       checkpoint_dir=ns.cache)
    print(f'wrote {result.onnx}' + (f', {result.twin_onnx}' if result.twin_onnx else '') + f' and {result.card}')
    for kind, entry in result.summary['models'].items():
        print(f'{kind}: held-out {entry.get("eval", {})}')
    for where, e in result.summary.get('energy', {}).items():
        print(f'energy ({where}): spiking/C3D = {e["energy_ratio"]:.3f}')
    return 0


def _command(ns: argparse.Namespace) -> str:
    parts = ['attune', 'train', 'spiking-fer']
    parts += [a for d in ns.images for a in ('--images', str(d))]
    parts += [a for d in ns.videos for a in ('--videos', str(d))]
    parts += ['--out', str(ns.out), '--seed', str(ns.seed), '--epochs', str(ns.epochs), '--sequences',
              str(ns.sequences), '--still-windows', str(ns.still_windows), '--label-mix', str(ns.label_mix),
              '--channels', ns.channels, '--readout', str(ns.readout), '--shift-px', str(ns.shift_px),
              '--event-dropout', str(ns.event_dropout), '--change-weight', str(ns.change_weight),
              '--target-temperature', str(ns.target_temperature), '--class-balance', str(ns.class_balance),
              '--val-fraction', str(ns.val_fraction)]
    if ns.onset_truth:
        parts.append('--onset-truth')
    if ns.max_photos is not None:
        parts += ['--max-photos', str(ns.max_photos)]
    return ' '.join(shlex.quote(p) for p in parts)
