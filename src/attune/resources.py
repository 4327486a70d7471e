"""Where attune's installed files are: config/, launch/, msg/ and package data.

Three layouts are supported, tried in this order:
  1. a source checkout (editable install): <repo>/config, <repo>/launch, <repo>/msg;
  2. a pip install: <prefix>/share/attune/... (setup.py data_files);
  3. a colcon/ament install: the ament index share directory of `attune`.
"""
from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from attune.errors import AttuneError

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def share_dir() -> Path:
    """The directory holding config/, launch/ and msg/ of this installation."""
    checkout = PACKAGE_DIR.parent.parent
    if (checkout / 'package.xml').is_file() and (checkout / 'config').is_dir():
        return checkout
    prefixed = Path(sys.prefix) / 'share' / 'attune'
    if (prefixed / 'config').is_dir():
        return prefixed
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory('attune'))
    except Exception:  # noqa: BLE001 - ament_index may be absent or not know attune
        raise AttuneError(
            'cannot find attune\'s share directory (config/, launch/, msg/): looked in the source '
            f'checkout {checkout}, in {prefixed}, and in the ament index') from None


def config_file(name: str = 'attune.yaml') -> Path:
    return share_dir() / 'config' / name


def msg_dir() -> Path:
    return share_dir() / 'msg'


def package_data(*parts: str) -> Path:
    """A file shipped inside the Python package (models, the canonical face model)."""
    return PACKAGE_DIR.joinpath(*parts)
