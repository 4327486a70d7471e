"""`attune train sign isolated|continuous|import-bag`: the sign models (docs/sign.md).

    attune train sign isolated --data asl_alphabet --out sign_asl_alphabet.onnx
    attune train sign continuous --data asl_alphabet --out sign_asl_fingerspelling_ctc.onnx
    attune train sign isolated --data my_vocabulary/ --out my_signs.onnx

--data is a built-in data set (asl_alphabet, kinivi_handshape, kinivi_trajectory: read from
--data-dir, a folder shaped like ../shared/data/hands) or a folder of your own recordings
(`<gloss>/<name>.npz`, see docs/sign.md; `import-bag` makes them from a bag of attune/Hands).
The split holds out whole recording blocks; the model card reports accuracy (isolated) or
character/gloss error rate on composed sequences (continuous) on those blocks only.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attune.errors import AttuneError, ConfigError

DEFAULT_DATA_DIR = '../shared/data/hands'


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('sign', help='sign recognition models (isolated, continuous CTC)',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    tasks = p.add_subparsers(dest='sign_task', metavar='TASK')
    for task in ('isolated', 'continuous'):
        t = tasks.add_parser(task, help=f'train an {task} sign model' if task == 'isolated'
                             else 'train a continuous (CTC) sign model on composed sequences')
        t.add_argument('--data', required=True, help='built-in data set name or a folder of recordings')
        t.add_argument('--data-dir', default=DEFAULT_DATA_DIR, help=f'folder of the built-in data sets '
                       f'(default: {DEFAULT_DATA_DIR})')
        t.add_argument('--out', required=True, type=Path, help='the .onnx file to write (model card: .md beside it)')
        t.add_argument('--name', help='model name in its metadata (default: the output file stem)')
        t.add_argument('--epochs', type=int, default=30 if task == 'isolated' else 40)
        t.add_argument('--seed', type=int, default=0, help='training seed')
        t.add_argument('--split-seed', type=int, default=0, help='seed of the held-out block choice')
        t.add_argument('--split', choices=('random', 'tail'), default='random',
                       help='held-out blocks: random ones per gloss, or the last recorded (default: random)')
        t.add_argument('--test-fraction', type=float, default=0.25, help='share of each gloss\'s blocks held out')
        t.add_argument('--dim', type=int, default=64, help='model width')
        t.add_argument('--depth', type=int, default=3, help='encoder blocks')
        t.add_argument('--lr', type=float, default=2e-3)
        t.add_argument('--threads', type=int, default=2, help='torch CPU threads')
        t.add_argument('--joint-angles', type=int, choices=(0, 1, 2), default=0,
                       help='1: the model also reads the turn between consecutive finger bones (finger curl '
                            'that survives foreshortening), 2: instead of the landmark positions; 0: off '
                            '(docs/sign.md, "Levers on the tail split")')
        if task == 'isolated':
            t.add_argument('--window', type=int, default=16, help='frames per decision')
            t.add_argument('--stride', type=int, default=2, help='step between training windows')
            t.add_argument('--no-signer-variation', dest='vary_signer', action='store_false',
                           help='train on the blocks as recorded (no simulated signers and cameras; '
                                'feature-level roll, aspect and noise instead)')
            t.add_argument('--clean-fraction', type=float, default=0.25,
                           help='share of training blocks shown as recorded each epoch (signer variation on)')
        else:
            t.add_argument('--sequences-per-epoch', type=int, default=1024)
            t.add_argument('--test-sequences', type=int, default=400)
            t.add_argument('--max-len', type=int, default=512, help='longest sequence the model accepts')
        t.set_defaults(handler=run_train, task=task)
    imp = tasks.add_parser('import-bag', help='cut a bag of attune/Hands into recordings of one gloss')
    imp.add_argument('bag', type=Path, help='bag directory recorded with /attune/hands')
    imp.add_argument('--gloss', required=True, help='the sign performed in every segment of the bag')
    imp.add_argument('--out', required=True, type=Path, help='vocabulary folder (writes OUT/GLOSS/*.npz)')
    imp.add_argument('--topic', default='/attune/hands')
    imp.add_argument('--gap-frames', type=int, default=8, help='frames without hands that separate two recordings')
    imp.add_argument('--min-frames', type=int, default=8, help='shorter segments are skipped')
    imp.add_argument('--mirrored', action='store_true', help='the camera images were mirrored')
    imp.set_defaults(handler=run_import)

    def no_task(_ns: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=no_task)


def run_train(ns: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401

        from attune.models.training import sign_training as training
        from attune.models.training.sign_card import data_note, write_model_card
        from attune.models.training.sign_export import check_onnx, export_onnx
    except ImportError as exc:
        raise AttuneError(f'training needs the [train] pins (torch, onnx): {exc}. Run make setup.') from None
    from attune.sign.datasets import load_dataset

    dataset = load_dataset(ns.data, Path(ns.data_dir))
    out = Path(ns.out)
    if out.suffix != '.onnx':
        raise ConfigError(f'--out must name an .onnx file, got {out}')
    name = ns.name or out.stem.removeprefix('sign_')
    common = dict(epochs=ns.epochs, seed=ns.seed, split_seed=ns.split_seed, split_strategy=ns.split,
                  test_fraction=ns.test_fraction,
                  dim=ns.dim, depth=ns.depth, lr=ns.lr, threads=ns.threads, joint_angles=ns.joint_angles)
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    if ns.task == 'isolated':
        config = training.SignTrainConfig(task='isolated', window=ns.window, stride=ns.stride,
                                          vary_signer=ns.vary_signer, clean_fraction=ns.clean_fraction, **common)
        result = training.train_isolated(dataset, config, name, log=log)
    else:
        config = training.SignTrainConfig(task='continuous', sequences_per_epoch=ns.sequences_per_epoch,
                                          test_sequences=ns.test_sequences, max_len=ns.max_len, **common)
        result = training.train_continuous(dataset, config, name, log=log)
    export_onnx(result, out)
    result.metrics['onnx_max_abs_diff'] = check_onnx(result, out)
    command = ['attune', 'train', 'sign', *sys.argv[sys.argv.index('sign') + 1:]] if 'sign' in sys.argv \
        else ['attune', 'train', 'sign', ns.task, '--data', ns.data, '--out', str(out)]
    card = write_model_card(result, out.with_suffix('.md'), command, data_note(dataset))
    log(f'wrote {out} and {card}')
    print(json.dumps({'model': str(out), 'card': str(card), **{k: v for k, v in result.metrics.items()
                                                                 if k != 'per_gloss_accuracy'}}))
    return 0


def run_import(ns: argparse.Namespace) -> int:
    from attune.sign.recording import import_hands_bag

    written = import_hands_bag(ns.bag, ns.out, gloss=ns.gloss, topic=ns.topic, gap_frames=ns.gap_frames,
                               min_frames=ns.min_frames, mirrored=ns.mirrored)
    for path in written:
        print(path)
    if not written:
        raise ConfigError(f'no signing segment of at least {ns.min_frames} frames with hands in {ns.bag}')
    return 0
