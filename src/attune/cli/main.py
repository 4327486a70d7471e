"""`attune`: one command for running, recording, replaying and inspecting the attune graph.

Each sub-command lives in its own module of attune.cli and registers itself through
`add_parser(subparsers)`; its handler returns an exit code. Errors that attune raises on purpose
(AttuneError) are printed as one line, `ERROR: ...`, with exit code 1; anything else is a bug and
keeps its traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from attune import __version__
from attune.errors import AttuneError

#: Modules of attune.cli that each add one or more sub-commands, in help order.
COMMAND_MODULES = (
    'attune.cli.demo',
    'attune.cli.up',
    'attune.cli.run',
    'attune.cli.bag',
    'attune.cli.replay',
    'attune.cli.record',
    'attune.cli.report',
    'attune.cli.rate',
    'attune.cli.view',
    'attune.cli.policy',
    'attune.cli.paths',
    'attune.cli.label',
    'attune.cli.train',
    'attune.cli.people',
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='attune', description='Perception and adaptive behaviour for social robots, on ROS 2.')
    parser.add_argument('--version', action='version', version=f'attune {__version__}')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from attune.ros.dds import use_attune_dds_profile

    use_attune_dds_profile()  # before any rclpy context exists; node processes inherit it
    if not getattr(args, 'handler', None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except AttuneError as exc:
        print(f'ERROR: {exc}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
