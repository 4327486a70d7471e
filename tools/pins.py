#!/usr/bin/env python3
"""Print the pins of one or more sections of requirements.txt, one per line.

    python3 tools/pins.py runtime ros      # -> the [runtime] and [ros] pins

The single source of version pins is requirements.txt; setup.py and tools/bootstrap.sh both read
it through this module, so no pin is written twice.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / 'requirements.txt'
_SECTION = re.compile(r'^#\s*\[(?P<name>[a-z0-9_-]+)\]')


def read_sections(path: Path = REQUIREMENTS) -> dict[str, list[str]]:
    """Return {section name: [requirement lines]} in file order."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for raw in path.read_text(encoding='utf-8').splitlines():
        line = raw.strip()
        match = _SECTION.match(line)
        if match:
            current = match['name']
            sections.setdefault(current, [])
        elif line and not line.startswith('#'):
            if current is None:
                raise ValueError(f'{path}: requirement {line!r} is outside any # [section]')
            sections[current].append(line)
    return sections


def main(argv: list[str]) -> int:
    sections = read_sections()
    unknown = [name for name in argv if name not in sections]
    if unknown or not argv:
        print(f'usage: pins.py SECTION... (sections: {", ".join(sections)})', file=sys.stderr)
        return 2
    for name in argv:
        print('\n'.join(sections[name]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
