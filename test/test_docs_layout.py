"""docs/architecture.md and docs/contributing.md name every package of src/attune, and only those."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def packages() -> set[str]:
    return {p.name for p in (ROOT / 'src' / 'attune').iterdir() if p.is_dir() and any(p.glob('*.py'))}


@pytest.mark.parametrize('doc', ['docs/architecture.md', 'docs/contributing.md'])
def test_the_layer_table_names_every_package(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding='utf-8')
    first_cells = [line.split('|')[1] for line in text.splitlines() if line.startswith('| `')]
    named = {name for cell in first_cells for name in re.findall(r'`([a-z_]+)/`', cell)}
    named |= set(re.findall(r'\*\*`([a-z_]+)/`\*\*', text))
    assert packages() - named == set(), f'{doc} does not list these packages'
    assert named - packages() == set(), f'{doc} lists packages that do not exist'
