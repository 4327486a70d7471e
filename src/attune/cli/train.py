"""`attune train <what> ...`: train a model and write ONNX + a model card.

Trainers are modules named in TRAINER_MODULES, each exposing `add_parser(subparsers)` that adds one
sub-command of `attune train` (nested, like `attune bag`). Training needs the [train] extra (torch).
"""
from __future__ import annotations

import argparse
import importlib

#: Modules that each add one `attune train` sub-command, in help order.
TRAINER_MODULES: tuple[str, ...] = (
    'attune.cli.train_asd_emotion',
    'attune.cli.train_expression',
    'attune.cli.train_retouch',
    'attune.cli.train_retouch_cnn',
    'attune.cli.train_sign',
    'attune.cli.train_spiking_fer',
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser('train', help='train a model (writes ONNX + model card)', description=__doc__)
    parser.set_defaults(handler=lambda ns: _usage(parser))
    commands = parser.add_subparsers(dest='train_command', metavar='WHAT')
    for name in TRAINER_MODULES:
        importlib.import_module(name).add_parser(commands)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
