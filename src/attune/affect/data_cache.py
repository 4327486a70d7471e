"""Cache of the ASD emotion model's training faces and of their teacher labels, outside the repository.

Running MediaPipe over a few thousand images is the slow part of training; labelling them with a teacher
is the second. Both are cached as .npz files in one folder (default: `<temp dir>/attune-asd-emotion`,
or `$ATTUNE_CACHE_DIR/asd-emotion`), keyed separately:

  * faces: `faces-<key>.npz`, key = every file's path, size, mtime, subject and hard label, the video
    sampling, the crop size and FEATURE_VERSION;
  * teacher labels: `teacher-<faces key>-<teacher key>.npz`, teacher key = the teacher's ensemble weights
    and the bytes of the expression package's sources and of the model files they name. A new teacher
    (other code, other weights, another model file) relabels the cached faces without MediaPipe.

The cache holds face crops and landmarks of the training data: it is meant for the training machine's
temp folder and never for the repository (nothing at run time reads or writes it).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.affect.dataset import STORE_SIZE, FaceDataset, SourceFile
from attune.file_digest import content_digest

#: Bump when the stored crops or landmark features change meaning (invalidates the face caches).
FEATURE_VERSION = 2
#: Model files a teacher source may name (hashed into the teacher key).
_MODEL_FILE = re.compile(r"['\"]([\w.-]+\.(?:onnx|npz|json))['\"]")


def default_cache_dir() -> Path:
    root = os.environ.get('ATTUNE_CACHE_DIR')
    return Path(root) / 'asd-emotion' if root else Path(tempfile.gettempdir()) / 'attune-asd-emotion'


def faces_key(sources: Iterable[SourceFile], video_every: int, size: int = STORE_SIZE) -> str:
    h = hashlib.sha256()
    for s in sources:
        h.update(f'{s.path.name}|{content_digest(s.path)}|{s.subject}|{s.label}\n'.encode())
    h.update(json.dumps([video_every, size, FEATURE_VERSION]).encode())
    return h.hexdigest()[:16]


def teacher_key(weights: dict[str, float], files: Iterable[str | Path] = ()) -> str:
    """What the teacher's labels depend on: its weights, the expression package's code and its model files
    (and `files`: model files given to it explicitly)."""
    import attune.expression
    import attune.models

    h = hashlib.sha256(json.dumps(sorted(weights.items())).encode())
    code = sorted(Path(attune.expression.__file__).parent.rglob('*.py'))
    named: set[str] = set()
    for path in code:
        text = path.read_bytes()
        h.update(path.name.encode() + text)
        named.update(_MODEL_FILE.findall(text.decode('utf-8', 'replace')))
    for folder in (Path(attune.models.__file__).parent / 'resources', Path(attune.expression.__file__).parent):
        for name in sorted(named):
            if (folder / name).is_file():
                h.update(name.encode() + (folder / name).read_bytes())
    for model_file in files:
        h.update(Path(model_file).read_bytes())
    return h.hexdigest()[:16]


class DataCache:
    """Faces and teacher labels cached in `folder`; `folder=None` caches nothing (an evaluation run)."""

    def __init__(self, folder: Path | str | None, log: Callable[[str], None] = print) -> None:
        self.folder = Path(folder) if folder else None
        self.log = log

    def faces(self, key: str, build: Callable[[], FaceDataset]) -> FaceDataset:
        path = self._path(f'faces-{key}.npz')
        if path is not None and path.is_file():
            data = FaceDataset.load(path)
            self.log(f'faces from {path}: {len(data)}')
            return data
        data = build()
        data.info['faces_key'] = key
        if path is not None:
            self._save(path, data.save)
        return data

    def soft_labels(self, key: str, build: Callable[[], npt.NDArray[Any]]) -> npt.NDArray[Any]:
        path = self._path(f'teacher-{key}.npz')
        if path is not None and path.is_file():
            with np.load(path, allow_pickle=False) as z:
                self.log(f'teacher labels from {path}')
                out: npt.NDArray[Any] = z['soft']
                return out
        soft = build()
        if path is not None:
            self._save(path, lambda p: np.savez_compressed(p, soft=soft))
        return soft

    def file(self, name: str, build: Callable[[Path], None]) -> Path:
        """A file made by `build(path)`, kept in the cache (without a cache: in a fresh temp folder)."""
        path = self._path(name) or Path(tempfile.mkdtemp(prefix='attune-asd-')) / name
        if path.is_file():
            self.log(f'{name} from {path.parent}')
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f'.{os.getpid()}.partial.{name}')
        build(partial)
        partial.replace(path)
        return path

    def _path(self, name: str) -> Path | None:
        return None if self.folder is None else self.folder / name

    def _save(self, path: Path, write: Callable[[Path], None]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f'.{path.stem}.{os.getpid()}.partial.npz')
        write(partial)
        partial.replace(path)  # atomic: a concurrent reader sees the old file or the whole new one
        self.log(f'cached {path}')
