"""What a data file holds, as a short digest: the key of training caches.

Caches of features computed from ../shared/data used to be keyed on each file's path, size and
modification time. The data folder is provisioned afresh for every session and CI run, which gives
every file a new modification time and made every cache miss (hours of MediaPipe work on 2 cores)
although no byte had changed. The content is what the features depend on, so the content is the key;
hashing the 117 MB faces folder takes well under a second.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def content_digest(path: Path | str) -> str:
    """sha256 of the file's bytes, the first 16 hex digits."""
    h = hashlib.sha256()
    with open(path, 'rb') as stream:
        while chunk := stream.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()[:16]
