"""`attune train asd-emotion`: build the teacher-labelled data set, train, export ONNX + model card.

Light at import (the `attune` command imports it to list sub-commands): torch is imported by the handler.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from attune.errors import ConfigError

DEFAULT_DATA = ('../shared/data/faces', '../shared/data/video/faces')


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
    p.add_argument('--cache-dir', default='',
                   help="where faces and teacher labels are cached, outside the repository ('' = "
                        "$ATTUNE_CACHE_DIR/asd-emotion or <temp dir>/attune-asd-emotion; 'none' = no cache)")
    p.add_argument('--backbone', default='resnet', choices=('resnet', 'fer-minixception'),
                   help='crop encoder: a ResNet trained from scratch, or the pretrained FER2013 mini-Xception '
                        '(fer_minixception.onnx) fine-tuned (64x64 crops)')
    p.add_argument('--frozen-blocks', type=int, default=2,
                   help='fer-minixception: residual blocks (0..4) kept frozen after the stem (-1: none, stem '
                        'trained too)')
    p.add_argument('--backbone-lr-scale', type=float, default=0.2,
                   help="fer-minixception: the backbone's learning rate as a share of --lr")
    p.add_argument('--depth', type=int, default=18, choices=(18, 34, 50), help='ResNet depth')
    p.add_argument('--input-size', type=int, default=64, help='face crop side in pixels (16..112)')
    p.add_argument('--width', type=int, default=16, help='ResNet width (channels of the first stage; 64 = paper)')
    p.add_argument('--epochs', type=int, default=24)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--lr', type=float, default=2e-3, help='peak learning rate (one-cycle)')
    p.add_argument('--temperature', type=float, default=2.0, help='KL temperature T of the soft labels')
    p.add_argument('--hard-weight', type=float, default=1.0, help='weight of the cross-entropy on hard labels')
    p.add_argument('--class-power', type=float, default=0.5,
                   help='cross-entropy weight of a class ~ count^-P (0 = unweighted)')
    p.add_argument('--sampling-power', type=float, default=0.5,
                   help='draw probability of a face ~ (count of its class)^-P (0 = plain shuffle)')
    p.add_argument('--kl-class-power', type=float, default=0.0,
                   help='distillation weight of a face ~ (count of its class)^-P (0 = unweighted)')
    p.add_argument('--logit-adjust', type=float, default=0.0, metavar='TAU',
                   help='logit-adjusted loss: train on logits + TAU log(class prior of the batches) (0 = off)')
    p.add_argument('--last-epoch', action='store_true',
                   help='keep the last epoch (default: the epoch best on the validation people)')
    p.add_argument('--test-fraction', type=float, default=0.2, help='share of labelled subjects held out for test')
    p.add_argument('--val-fraction', type=float, default=0.15, help='share of labelled subjects for validation')
    p.add_argument('--seed', type=int, default=0, help='seed of the person-wise split (and of training, unless '
                                                       '--train-seed)')
    p.add_argument('--train-seed', type=int, default=-1,
                   help='seed of initialization, batches and augmentation (-1: --seed); members of a seed '
                        'ensemble differ in it and share the split')
    p.add_argument('--threads', type=int, default=2, help='torch threads')
    p.add_argument('--video-every', type=int, default=3, help='use every N-th video frame')
    p.add_argument('--teacher-weight', action='append', default=[], metavar='SOURCE=W',
                   help="teacher ensemble weight of one source (repeatable; default: the teacher's own)")
    p.add_argument('--teacher-sees-all', dest='held_out_teacher', action='store_false',
                   help="label with the shipped teacher as it is (default: its expression head refit without "
                        "this run's validation and test people, attune.affect.held_out_teacher)")
    p.add_argument('--no-teacher-fusion', dest='teacher_fusion', action='store_false',
                   help='do not fit the pool with the teacher the node publishes (attune.affect.teacher_fusion; '
                        'fitted on the validation people after training, needs the held-out teacher)')
    p.add_argument('--max-files', type=int, default=0, help='use at most this many files per data folder (smoke runs)')
    p.add_argument('--no-augment', action='store_true', help='no augmentation')
    p.add_argument('--init', default='', metavar='FILE.pt',
                   help='start from these torch weights (written by --save-torch of a run with the same settings '
                        'and split) instead of a fresh network')
    p.add_argument('--init-gcn', default='', metavar='FILE.pt',
                   help='start the landmark branch (GCN) from these torch weights (--save-torch of a run on the '
                        'same split, any crop encoder); the rest starts fresh or pretrained')
    p.add_argument('--member', action='append', default=[], metavar='FILE.pt',
                   help='repeatable: train nothing; average the logits of these runs (--save-torch of runs with '
                        'these settings and split, e.g. other --train-seed), tune bias offsets on the validation '
                        'people and export the ensemble as one model')
    p.add_argument('--save-torch', default='', metavar='FILE.pt',
                   help='also save the torch weights (to continue training with --init; keep them out of the repo)')
    p.set_defaults(handler=run)


def command_line(ns: argparse.Namespace) -> str:
    """The full command that reproduces this run (every option spelled out)."""
    args = ['attune', 'train', 'asd-emotion']
    for folder in ns.data or DEFAULT_DATA:
        args += ['--data', str(folder)]
    args += ['--output', str(ns.output)]
    if ns.torch_reference:
        args += ['--torch-reference', str(ns.torch_reference)]
    args += ['--backbone', ns.backbone]
    if ns.backbone != 'resnet':
        args += ['--frozen-blocks', str(ns.frozen_blocks), '--backbone-lr-scale', str(ns.backbone_lr_scale)]
    for name in ('depth', 'input_size', 'width', 'epochs', 'batch_size', 'lr', 'temperature', 'hard_weight',
                 'class_power', 'sampling_power', 'kl_class_power', 'logit_adjust', 'test_fraction', 'val_fraction',
                 'seed', 'threads', 'video_every', 'max_files'):
        args += [f"--{name.replace('_', '-')}", str(getattr(ns, name))]
    if getattr(ns, 'train_seed', -1) >= 0:
        args += ['--train-seed', str(ns.train_seed)]
    if ns.last_epoch:
        args.append('--last-epoch')
    for weight in ns.teacher_weight:
        args += ['--teacher-weight', weight]
    if ns.no_augment:
        args.append('--no-augment')
    if not ns.held_out_teacher:
        args.append('--teacher-sees-all')
    if ns.init:
        args += ['--init', str(ns.init)]
    if getattr(ns, 'init_gcn', ''):
        args += ['--init-gcn', str(ns.init_gcn)]
    for member in getattr(ns, 'member', []):
        args += ['--member', str(member)]
    return shlex.join(args)


def init_chain(saved: dict) -> str:
    """The commands of every run behind weights saved by --save-torch, earliest first, one a line: the run
    that saved them and, before it, the runs it continued from (an --init may itself have continued)."""
    return '\n'.join(line for line in (saved.get('init_command', ''), saved.get('command', '(not recorded)'))
                     if line)


def _load_member(torch: Any, path: str, seed: int) -> dict:
    """The weights and commands saved by --save-torch of one ensemble member (same split as this run)."""
    try:
        saved = torch.load(path, map_location='cpu', weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise ConfigError(f'cannot read the member {path}: {exc}') from None
    if saved.get('split_seed') != seed:
        raise ConfigError(f'{path} was trained with another split (seed {saved.get("split_seed")})')
    return dict(saved)


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


def teacher_weights(specs: list[str]) -> dict[str, float] | None:
    """`SOURCE=W` options as the teacher's weights (its defaults updated); None without any."""
    from attune.expression.teacher import TEACHER_WEIGHTS

    if not specs:
        return None
    weights = dict(TEACHER_WEIGHTS)
    for spec in specs:
        name, _, value = spec.partition('=')
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f'--teacher-weight wants SOURCE=W, got {spec!r}') from None
    return weights


def load_or_build(ns: argparse.Namespace, log: Any = print, cache: bool = True, size: int = 0) -> Any:
    """The data set of a run: faces (MediaPipe) and the teacher's labels of them, each from the cache
    (attune.affect.data_cache) when it matches, else computed (and cached unless `cache` is off).
    Crops are `size` pixels (0: attune.affect.dataset.STORE_SIZE)."""
    import numpy as np

    from attune.affect.data_cache import DataCache, default_cache_dir, faces_key, teacher_key
    from attune.affect.dataset import STORE_SIZE
    from attune.affect.face_extraction import extract_faces, label_faces
    from attune.expression.teacher import ExpressionTeacher

    folders = [str(f) for f in (ns.data or DEFAULT_DATA)]
    sources = _sources(folders, ns.max_files)
    folder = getattr(ns, 'cache_dir', '') or default_cache_dir()
    store = DataCache(None if not cache or str(folder) == 'none' else folder, log)
    size = size or STORE_SIZE
    key = faces_key(sources, ns.video_every, size)

    def extract() -> Any:
        log(f'finding faces in {len(sources)} files ...')
        start = time.perf_counter()
        found = extract_faces(sources, video_every=ns.video_every, size=size, progress=log)
        log(f'{len(found)} faces from {len(sources)} files in {time.perf_counter() - start:.0f} s')
        return found

    data = store.faces(key, extract)
    if not len(data):
        raise ConfigError(f'no faces found in {", ".join(folders)}')
    weights = teacher_weights(getattr(ns, 'teacher_weight', []))  # None: the teacher's defaults
    head, head_info = (_held_out_head(data, ns, folders, store, log) if getattr(ns, 'held_out_teacher', False)
                       else ('', {}))

    def label() -> Any:
        start = time.perf_counter()
        with ExpressionTeacher(weights=weights, head_path=head) as teacher:  # '': the shipped head
            log(f'labelling {len(data)} faces with the expression teacher {teacher.weights} ...')
            soft = label_faces(data, teacher, progress=log)
        log(f'labelled in {time.perf_counter() - start:.0f} s')
        return soft

    soft = store.soft_labels(f'{key}-{teacher_key(weights or {}, [head] if head else [])}', label)
    data = data.with_soft(soft, folders=folders, files=len(sources),
                          teacher_weights=weights or 'default', teacher_head=head_info or 'shipped')
    usable = np.isfinite(data.soft).all(axis=1)
    if not usable.all():
        log(f'{int((~usable).sum())} faces the teacher could not label are left out')
        data = data.subset(usable)
    return data


def _held_out_head(data: Any, ns: argparse.Namespace, folders: list[str], store: Any, log: Any) -> tuple[str, dict]:
    """The teacher's expression head refit without this run's validation and test people
    (attune.affect.held_out_teacher), cached; ('', {}) where that cannot be done (no faces folder)."""
    import hashlib

    from attune.affect.held_out_teacher import faces_folder, fit_head_without, trainer_available
    from attune.models.training.asd_emotion_training import TrainConfig, split

    faces = faces_folder(folders)
    if faces is None or not trainer_available():
        log('no faces folder (london_ccby/, muxspace/) among --data, or no expression head to refit: '
            'the shipped teacher labels')
        return '', {}
    parts = split(data, TrainConfig(test_fraction=ns.test_fraction, val_fraction=ns.val_fraction, seed=ns.seed))
    held_out = sorted(set(data.subjects[~parts.train].tolist()))
    from attune.affect.data_cache import teacher_key

    # the head's trainer and features are in the expression package: a new one must refit, not reuse
    code = teacher_key({})
    key = hashlib.sha256(json.dumps([str(faces.resolve()), held_out, code]).encode()).hexdigest()[:16]
    info: dict = {}

    def fit(path: Path) -> None:
        try:
            info.update(fit_head_without(held_out, faces, path, log))
        except ValueError as exc:
            raise ConfigError(f'cannot refit the teacher without the held-out people: {exc}') from None
        path.with_name(f'{name}.json').write_text(json.dumps(info))  # what it was fit on, for the card

    name = f'teacher-head-{key}.onnx'
    path = store.file(name, fit)
    described = path.with_name(f'{name}.json')
    if not info and described.is_file():
        info = json.loads(described.read_text())
    return str(path), info or {'held_out_people': len(held_out), 'file': path.name}


def run(ns: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError:
        raise ConfigError('training needs torch: install the [train] extra (tools/bootstrap.sh train, or '
                          "pip install 'attune[train]')") from None
    import numpy as np

    from attune.models.training import asd_emotion_training as training
    from attune.models.training.asd_emotion_card import write_model_card
    from attune.models.training.asd_emotion_export import export_onnx, torch_reference

    if not 16 <= ns.input_size <= 112:
        raise ConfigError(f'--input-size must be in [16, 112], got {ns.input_size}')
    if ns.backbone == 'fer-minixception' and ns.input_size != 64:
        raise ConfigError(f'--backbone fer-minixception takes 64x64 crops (its pretrained size), got --input-size '
                          f'{ns.input_size}')
    if ns.epochs < 1 or ns.batch_size < 2:
        raise ConfigError('--epochs must be >= 1 and --batch-size >= 2')
    data = load_or_build(ns)
    config = training.TrainConfig(backbone=ns.backbone, frozen_blocks=ns.frozen_blocks,
                                  backbone_lr_scale=ns.backbone_lr_scale, depth=ns.depth, input_size=ns.input_size,
                                  width=ns.width, epochs=ns.epochs,
                                  batch_size=ns.batch_size, lr=ns.lr, temperature=ns.temperature,
                                  hard_weight=ns.hard_weight, class_power=ns.class_power,
                                  sampling_power=ns.sampling_power, kl_class_power=ns.kl_class_power,
                                  logit_adjust=ns.logit_adjust, select_best=not ns.last_epoch,
                                  test_fraction=ns.test_fraction,
                                  val_fraction=ns.val_fraction, seed=ns.seed, train_seed=ns.train_seed,
                                  threads=ns.threads,
                                  augment=not ns.no_augment)
    init, init_command, command = None, '', command_line(ns)
    init_gcn = None
    for path in (ns.init, ns.init_gcn):
        if not path:
            continue
        saved = torch.load(path, map_location='cpu', weights_only=True)
        if saved.get('split_seed') != ns.seed:
            raise ConfigError(f'{path} was trained with another split (seed {saved.get("split_seed")})')
        init_command = '\n'.join(line for line in (init_command, init_chain(saved)) if line)
        if path == ns.init:
            init = saved['state']
        else:
            init_gcn = saved['state']
    members = [_load_member(torch, path, ns.seed) for path in ns.member]
    try:
        if members:
            from attune.models.training.asd_emotion_ensemble import combine

            result = combine(data, config, [m['state'] for m in members], tune_bias=not ns.last_epoch)
            result.seconds = sum(float(m.get('train_seconds', 'nan')) for m in members)
        else:
            result = training.train(data, config, init=init, init_gcn=init_gcn)
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(str(exc)) from None
    if ns.save_torch and not members:
        Path(ns.save_torch).parent.mkdir(parents=True, exist_ok=True)
        torch.save({'state': result.model.state_dict(), 'split_seed': ns.seed, 'command': command,
                    'init_command': init_command, 'train_seconds': round(result.seconds, 1)}, ns.save_torch)
    output = Path(ns.output)
    check = export_onnx(result, output)
    card = write_model_card(result, data, output, command, check, init_command,
                            'the GCN only' if ns.init_gcn and not ns.init else '',
                            members=[init_chain(m) for m in members])
    pooled = _fit_pool(ns, output, card, data, config, command) if ns.teacher_fusion else None
    reference = Path(ns.torch_reference) if ns.torch_reference else output.with_suffix('.torch_reference.npz')
    reference.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(reference, **torch_reference(result, data))
    test = result.evaluation['test']
    teacher = test['teacher']
    summary = {'onnx': str(output), 'model_card': str(card), 'bytes': check['bytes'],
               'test_accuracy': test['accuracy'], 'test_macro_f1': test['macro_f1'], 'test_kl': test['kl_teacher'],
               'teacher_test_accuracy': teacher['accuracy'], 'teacher_test_macro_f1': teacher['macro_f1'],
               'test_f1': test['f1'], 'teacher_test_f1': teacher['f1'], 'onnx_max_abs_diff': check['max_abs_diff'],
               'train_seconds': round(result.seconds, 1)}
    if pooled is not None:
        summary['pooled_test_accuracy'], summary['pooled_test_macro_f1'] = pooled
    print(json.dumps(summary), file=sys.stdout)
    return 0


def _fit_pool(ns: argparse.Namespace, output: Path, card: Path, data: Any, config: Any,
              command: str) -> tuple[float, float] | None:
    """Fit the pool with the teacher into the exported model and its card; (test accuracy, macro-F1) of it."""
    from attune.affect.model import AsdEmotionModel
    from attune.models.training.asd_teacher_fusion import card_section, fit_fusion, update_card, write_fusion

    if not ns.held_out_teacher:
        print('teacher fusion not fitted: the teacher saw the validation and test people (--teacher-sees-all)',
              file=sys.stderr)
        return None
    try:
        fit = fit_fusion(AsdEmotionModel(output), data, config, log=lambda line: print(line, file=sys.stderr))
    except ValueError as exc:
        print(f'teacher fusion not fitted: {exc}', file=sys.stderr)
        return None
    write_fusion(output, fit.fusion)
    update_card(card, card_section(fit, command))
    test = fit.parts['test']['scores']['pooled']
    return test['accuracy'], test['macro_f1']
