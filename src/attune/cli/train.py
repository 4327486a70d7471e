"""`attune train WHAT ...`: train one of attune's model families; writes ONNX + a model card.

Every trainer is seeded, scores its model on held-out data only, checks that the exported ONNX
agrees with torch, and writes `<out>.onnx` beside `<out>.md` (data and licence, the exact command,
the measured quality, limits). Training needs the [train] pins (torch, onnx): `make setup`.
"""
from __future__ import annotations

import argparse
import importlib

#: Modules that each add one `attune train <what>` sub-command through add_parser(subparsers).
TRAINER_MODULES = (
    'attune.cli.train_sign',
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('train', help='train a model family (writes ONNX + model card)',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    trainers = p.add_subparsers(dest='trainer', metavar='WHAT')
    for name in TRAINER_MODULES:
        importlib.import_module(name).add_parser(trainers)

    def no_trainer(_ns: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=no_trainer)
