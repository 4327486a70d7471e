"""`attune train WHAT ...`: train a model in torch and write its ONNX file and model card.

Each trainer registers one sub-command from its own module, named in TRAINER_MODULES, through
`add_parser(subparsers)`. Trainer modules keep torch imports inside their handlers, so that `attune`
starts fast and works without the [train] extra until a training actually runs.
"""
from __future__ import annotations

import argparse
import importlib

#: Modules that each add one `attune train` sub-command, in help order.
TRAINER_MODULES = (
    'attune.models.asd_emotion_cli',
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('train', help='train a model (torch) and write ONNX + model card',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    trainers = p.add_subparsers(dest='what', metavar='WHAT')
    for name in TRAINER_MODULES:
        importlib.import_module(name).add_parser(trainers)
    p.set_defaults(handler=lambda _ns: (p.print_help(), 2)[1])
