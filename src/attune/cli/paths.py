"""`attune paths [NAME]`: where attune's installed files are (for scripts and shell set-up).

    export FASTDDS_DEFAULT_PROFILES_FILE=$(attune paths fastdds-profile)
"""
from __future__ import annotations

import argparse

from attune.resources import config_file, msg_dir, share_dir


def _paths() -> dict[str, str]:
    return {'share': str(share_dir()), 'config': str(config_file()), 'fastdds-profile': str(config_file('fastdds.xml')),
            'foxglove-layout': str(config_file('foxglove_layout.json')), 'msg': str(msg_dir()),
            'launch': str(share_dir() / 'launch' / 'attune.launch.py')}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('paths', help="print where attune's config, launch and message files are",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('name', nargs='?', choices=sorted(_PATH_NAMES), help='print only this one')
    p.set_defaults(handler=run)


_PATH_NAMES = ('share', 'config', 'fastdds-profile', 'foxglove-layout', 'msg', 'launch')


def run(ns: argparse.Namespace) -> int:
    paths = _paths()
    if ns.name:
        print(paths[ns.name])
    else:
        for name, path in paths.items():
            print(f'{name:<16}{path}')
    return 0
