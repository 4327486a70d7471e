#!/usr/bin/env python3
"""Regenerate the parameter tables of README.md from the nodes' ParamSpec tables.

    python tools/gen_docs.py          # rewrite README.md in place
    python tools/gen_docs.py --check  # exit 1 if README.md is out of date (run by the tests)

Each node module in attune.nodes with a PARAMETERS table gets the block between
`<!-- params:<module> -->` and `<!-- /params:<module> -->` in README.md.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / 'README.md'


def node_tables() -> dict[str, str]:
    import attune.nodes
    from attune.ros.params import markdown_table

    tables = {}
    for info in sorted(pkgutil.iter_modules(attune.nodes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f'attune.nodes.{info.name}')
        if hasattr(module, 'PARAMETERS'):
            tables[info.name] = markdown_table(module.PARAMETERS)
    return tables


def render(text: str, tables: dict[str, str]) -> str:
    for name, table in tables.items():
        pattern = re.compile(rf'(<!-- params:{name} -->\n).*?(<!-- /params:{name} -->)', re.S)
        if not pattern.search(text):
            raise SystemExit(f'README.md has no <!-- params:{name} --> block for node module {name}')
        text = pattern.sub(lambda m, t=table: m.group(1) + t + '\n' + m.group(2), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    current = README.read_text(encoding='utf-8')
    wanted = render(current, node_tables())
    if args.check:
        if wanted != current:
            print('README.md parameter tables are out of date: run python tools/gen_docs.py', file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
