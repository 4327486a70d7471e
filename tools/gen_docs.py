#!/usr/bin/env python3
"""Regenerate the parameter tables of README.md (and docs/*.md) from the nodes' ParamSpec tables.

    python tools/gen_docs.py          # rewrite the files in place
    python tools/gen_docs.py --check  # exit 1 if one is out of date (run by the tests)

Each node module in attune.nodes with a PARAMETERS table fills every block between
`<!-- params:<module> -->` and `<!-- /params:<module> -->` in README.md and docs/*.md; every such
module must have a block in at least one of these files.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / 'README.md'


def documents() -> list[Path]:
    return [README, *sorted((ROOT / 'docs').glob('*.md'))]


def node_tables() -> dict[str, str]:
    import attune.nodes
    from attune.ros.params import markdown_table

    tables = {}
    for info in sorted(pkgutil.iter_modules(attune.nodes.__path__), key=lambda i: i.name):
        module = importlib.import_module(f'attune.nodes.{info.name}')
        if hasattr(module, 'PARAMETERS'):
            tables[info.name] = markdown_table(module.PARAMETERS)
    return tables


def render(text: str, tables: dict[str, str]) -> tuple[str, set[str]]:
    """The text with every parameter block filled, and the node modules that had a block."""
    found = set()
    for name, table in tables.items():
        pattern = re.compile(rf'(<!-- params:{name} -->\n).*?(<!-- /params:{name} -->)', re.S)
        if pattern.search(text):
            found.add(name)
            text = pattern.sub(lambda m, t=table: m.group(1) + t + '\n' + m.group(2), text)
    return text, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    tables = node_tables()
    found: set[str] = set()
    stale = []
    for path in documents():
        current = path.read_text(encoding='utf-8')
        wanted, names = render(current, tables)
        found |= names
        if wanted != current:
            stale.append(path)
            if not args.check:
                path.write_text(wanted, encoding='utf-8')
    missing = sorted(set(tables) - found)
    if missing:
        print(f'no <!-- params:NAME --> block in README.md or docs/*.md for node module(s) {", ".join(missing)}',
              file=sys.stderr)
        return 1
    if args.check and stale:
        print(f'parameter tables out of date in {", ".join(p.name for p in stale)}: run python tools/gen_docs.py',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
