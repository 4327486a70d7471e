"""`attune train expression`: the expression head (the expression node's and the teacher's default model).

FaceMesh + AUs + the FER CNN on every labelled photo of --data, then person-wise cross-validation to
choose hyper-parameters, a final fit on every person, ONNX export and a model card. Light at import
(the `attune` command imports it to list sub-commands): torch is imported by the handler.
"""
from __future__ import annotations

import argparse
import json
import shlex
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune.errors import ConfigError

if TYPE_CHECKING:
    from attune.models.training.expression_head_training import Matrix

DEFAULT_DATA = '../shared/data/faces'
#: The grid searched by person-wise cross-validation (one setting at a time, then the winners combined).
GRID = {'weight_decay': [1e-1], 'dropout': [0.5], 'london_weight': [4.0, 8.0], 'noise': [0.3]}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        'expression', help="the expression head over AUs + FER CNN features (the expression node's default)",
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--data', default=DEFAULT_DATA, help='faces folder: london_ccby/ and/or muxspace/labels.csv')
    p.add_argument('--output', default='expression_head.onnx',
                   help='ONNX file; the model card (.md) and .eval.json go beside it')
    p.add_argument('--cache', default=str(Path.home() / '.cache' / 'attune' / 'expression'),
                   help="features cache folder (landmarks and features, never pixels); '' = no cache")
    p.add_argument('--folds', type=int, default=5, help='person-wise cross-validation folds')
    p.add_argument('--no-search', action='store_true', help='no hyper-parameter search: train the given settings')
    p.add_argument('--no-holdout', action='store_true',
                   help="train on every person, also those held out for the shipped model's quality test")
    p.add_argument('--hidden', type=int, default=128, help='hidden units (0 = logistic regression)')
    p.add_argument('--dropout', type=float, default=0.3)
    p.add_argument('--epochs', type=int, default=40)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--weight-decay', type=float, default=1e-2)
    p.add_argument('--noise', type=float, default=0.1, help='Gaussian input noise, in standard deviations')
    p.add_argument('--london-weight', type=float, default=2.0, help='sample weight of London photos')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2, help='torch threads')
    p.set_defaults(handler=run)


def command_line(ns: argparse.Namespace) -> str:
    args = ['attune', 'train', 'expression', '--data', str(ns.data), '--output', str(ns.output),
            '--folds', str(ns.folds)]
    if ns.no_search:
        args.append('--no-search')
    if ns.no_holdout:
        args.append('--no-holdout')
    for name in ('hidden', 'dropout', 'epochs', 'lr', 'weight_decay', 'noise', 'london_weight', 'seed', 'threads'):
        args += [f"--{name.replace('_', '-')}", str(getattr(ns, name))]
    return shlex.join(args)


def run(ns: argparse.Namespace) -> int:
    if ns.folds < 2 or ns.epochs < 1 or ns.hidden < 0:
        raise ConfigError('--folds >= 2, --epochs >= 1 and --hidden >= 0 are required')
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError('training needs torch: tools/bootstrap.sh train') from None
    import numpy as np

    from attune.expression.dataset import extract, load_items, quality_holdout
    from attune.models.training.expression_head_card import write_model_card
    from attune.models.training.expression_head_training import (
        HeadConfig,
        build_matrix,
        cross_validate,
        export_onnx,
        fit,
        predict_logits,
        scores,
        search,
    )

    started = time.monotonic()
    items = load_items(Path(ns.data))
    features = extract(items, Path(ns.cache) if ns.cache else None)
    everyone = build_matrix(items, features)
    held = np.array([quality_holdout(p) for p in everyone.person]) & (not ns.no_holdout)
    m, holdout = everyone.rows(~held), everyone.rows(held)
    print(f'{len(everyone.y)} of {len(items)} photos with a face, {len(set(everyone.person))} people; '
          f'{len(set(holdout.person))} people ({len(holdout.y)} photos) held out for the quality test')
    base = HeadConfig(hidden=ns.hidden, dropout=ns.dropout, epochs=ns.epochs, lr=ns.lr, weight_decay=ns.weight_decay,
                      noise=ns.noise, london_weight=ns.london_weight, seed=ns.seed, threads=ns.threads)
    table: list[dict[str, Any]] = []
    config = base
    if not ns.no_search:
        config, table = search(m, base, GRID, ns.folds)
    chosen = {k: getattr(config, k) for k in GRID}
    known = [{k: v for k, v in row.items() if k != 'config'} for row in table if row['config'] == chosen]
    cv = known[0] if known else cross_validate(m, config, ns.folds)[0]
    print(f'chosen {asdict(config)}\nperson-wise cross-validation: {cv}')
    model = fit(m, config)
    output = Path(ns.output)
    held_out = scores(predict_logits(model, holdout.x), holdout, cv['calibration_margin']) if len(holdout.y) else {}
    print(f'quality holdout: {held_out}')
    check = export_onnx(model, cv['calibration_margin'], config, output,
                        {'cross_validation': cv, 'quality_holdout': held_out})
    summary = {'data': str(ns.data), 'photos': len(items), 'faces': int(len(m.y)), 'people': len(set(m.person)),
               'per_class': {k: int(v) for k, v in zip(*_counts(m))}, 'config': asdict(config),
               'cross_validation': cv, 'quality_holdout': {'people': len(set(holdout.person)),
                                                           'photos': int(len(holdout.y)), **held_out},
               'search': table, 'onnx_check': check,
               'seconds': round(time.monotonic() - started, 1), 'command': command_line(ns)}
    (output.parent / f'{output.stem}.eval.json').write_text(json.dumps(summary, indent=1))
    card = write_model_card(output, summary)
    print(f'wrote {output}, {card} (onnx vs torch max |diff| {check["max_abs_diff"]:.2e})')
    return 0


def _counts(m: Matrix) -> tuple[list[str], list[int]]:
    import numpy as np

    from attune.emotions import EMOTIONS

    return list(EMOTIONS), np.bincount(m.y, minlength=len(EMOTIONS)).tolist()

