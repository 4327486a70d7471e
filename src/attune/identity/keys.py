"""Where the people database and its key live, and how the key is read.

The key is 32 random bytes, written as one line of URL-safe base64. It comes, in this order, from an
explicit key file, the ATTUNE_PEOPLE_KEY environment variable (the base64 line itself), or the default
key file. A key file must be readable by its owner only (mode 0600): attune refuses a looser one.
"""
from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

from attune.errors import ConfigError

KEY_BYTES = 32
KEY_ENV = 'ATTUNE_PEOPLE_KEY'
KEY_FILE_ENV = 'ATTUNE_PEOPLE_KEY_FILE'
DATABASE_ENV = 'ATTUNE_PEOPLE_DB'


class PeopleKeyError(ConfigError):
    """A missing, malformed or badly protected people-database key."""


def default_database_path() -> Path:
    """ATTUNE_PEOPLE_DB, else $XDG_DATA_HOME/attune/people.db (~/.local/share/attune/people.db)."""
    if os.environ.get(DATABASE_ENV):
        return Path(os.environ[DATABASE_ENV]).expanduser()
    base = Path(os.environ.get('XDG_DATA_HOME') or Path.home() / '.local' / 'share')
    return base / 'attune' / 'people.db'


def default_key_path() -> Path:
    """ATTUNE_PEOPLE_KEY_FILE, else $XDG_CONFIG_HOME/attune/people.key (~/.config/attune/people.key)."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV]).expanduser()
    base = Path(os.environ.get('XDG_CONFIG_HOME') or Path.home() / '.config')
    return base / 'attune' / 'people.key'


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode('ascii'))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise PeopleKeyError(f'{where} is not a base64 key (make one with `attune people new-key`)') from None
    if len(key) != KEY_BYTES:
        raise PeopleKeyError(f'{where} holds {len(key)} bytes; a people key is {KEY_BYTES}')
    return key


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode('ascii')


def read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PeopleKeyError(f'people key file {path} does not exist (create one with `attune people new-key`, '
                        f'or set {KEY_ENV})') from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PeopleKeyError(f'people key file {path} is readable by others (mode {stat.S_IMODE(mode):04o}); '
                        f'run `chmod 600 {path}`')
    return decode_key(path.read_text(encoding='ascii'), f'key file {path}')


def load_key(key_file: str | Path | None = None) -> bytes:
    """The database key: from `key_file` if given, else $ATTUNE_PEOPLE_KEY, else the default key file."""
    if key_file:
        return read_key_file(Path(key_file).expanduser())
    if os.environ.get(KEY_ENV):
        return decode_key(os.environ[KEY_ENV], f'${KEY_ENV}')
    return read_key_file(default_key_path())


def create_key_file(path: Path) -> bytes:
    """Write a new random key to `path` with mode 0600 (refuses to overwrite a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PeopleKeyError(f'{path} already exists; attune never overwrites a key') from None
    with os.fdopen(fd, 'w', encoding='ascii') as f:
        f.write(encode_key(key) + '\n')
    return key
