"""`attune run EXECUTABLE [ARGS...]`: run one attune node, like `ros2 run attune EXECUTABLE`."""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from attune.errors import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('run', help='run one node (like ros2 run attune NODE)', description=__doc__)
    p.add_argument('executable', help='node executable, e.g. face_node')
    p.add_argument('args', nargs=argparse.REMAINDER, help='arguments for the node (e.g. --ros-args -p x:=1)')
    p.set_defaults(handler=run)


def run(ns: argparse.Namespace) -> int:
    module = f'attune.nodes.{ns.executable}'
    if not ns.executable.isidentifier() or importlib.util.find_spec(module) is None:
        raise ConfigError(f'no attune node executable named {ns.executable!r}')
    os.execv(sys.executable, [sys.executable, '-m', module, *ns.args])
    return 0  # not reached
