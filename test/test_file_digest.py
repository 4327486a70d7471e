"""Training caches are keyed on what the data files hold, not on when they were copied."""
from __future__ import annotations

import os
from pathlib import Path

from attune.affect.data_cache import faces_key
from attune.affect.dataset import SourceFile
from attune.events.face_labels import _file_key
from attune.expression.dataset import Item, _cache_key
from attune.file_digest import content_digest


def _photo(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _touch_later(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns + 10**12, stat.st_mtime_ns + 10**12))


def test_digest_follows_the_bytes_only(tmp_path: Path) -> None:
    a = _photo(tmp_path, 'a.jpg', b'\xff\xd8 one face')
    before = content_digest(a)
    _touch_later(a)
    assert content_digest(a) == before
    a.write_bytes(b'\xff\xd8 another face')
    assert content_digest(a) != before


def test_every_cache_key_survives_a_fresh_copy_of_the_data(tmp_path: Path) -> None:
    photo = _photo(tmp_path, 'p1_01.jpg', b'\xff\xd8 pixels')
    item = Item('london', photo, 'happy', 'p1')
    source = SourceFile(photo, 'image', 'p1', 1)
    keys = (_cache_key([item]), _file_key(photo), faces_key([source], video_every=2))
    _touch_later(photo)
    assert (_cache_key([item]), _file_key(photo), faces_key([source], video_every=2)) == keys
    photo.write_bytes(b'\xff\xd8 other pixels')
    changed = (_cache_key([item]), _file_key(photo), faces_key([source], video_every=2))
    assert all(new != old for new, old in zip(changed, keys, strict=True))


def test_labels_are_part_of_the_expression_key(tmp_path: Path) -> None:
    photo = _photo(tmp_path, 'p1_01.jpg', b'\xff\xd8 pixels')
    assert _cache_key([Item('london', photo, 'happy', 'p1')]) != _cache_key([Item('london', photo, 'neutral', 'p1')])
