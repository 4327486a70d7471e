"""Loading model files with one kind of failure: whatever goes wrong (a missing file, a truncated or
corrupt one, a library that cannot parse it), the caller gets one ModelFileError that names the
file(s), so a node refuses to configure with one line a user can act on, not a traceback.

Every loader of a model file goes through loading(): onnxruntime sessions (attune.inference), the
MediaPipe graphs of the face and hand analyzers, and dlib's identity models.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from attune.errors import AttuneError, ModelFileError


@contextlib.contextmanager
def loading(what: str, *paths: Path | str, missing_hint: str = '') -> Iterator[None]:
    """Check that every file in `paths` exists, then run the with block (which loads them); any
    exception it raises becomes ModelFileError('cannot load <what> <paths>: <type>: <error>').
    AttuneErrors raised inside (already in words) pass unchanged.

    Raises:
        ModelFileError: a file is missing (named, with missing_hint), or loading failed.
    """
    for path in paths:
        if not Path(path).is_file():
            raise ModelFileError(f'{what} {path} is missing' + (f' ({missing_hint})' if missing_hint else ''))
    try:
        yield
    except AttuneError:
        raise
    except Exception as exc:  # noqa: BLE001 - each library raises its own types; the message names them
        names = ', '.join(str(p) for p in paths)
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''
        raise ModelFileError(f'cannot load {what} {names}: {type(exc).__name__}'
                             + (f': {detail}' if detail else '')) from None


def open_mediapipe_graph(solution: Any) -> None:
    """Run a MediaPipe solution once on a small blank frame, inside `loading`: MediaPipe opens its
    calculators, and so reads its model files, on the first frame and not when the solution is built.
    Measured with a corrupt .tflite: the constructor succeeds, and every camera frame then raises
    RuntimeError ("Failed to load TfLite model"); opened here, the node refuses to configure instead."""
    solution.process(np.zeros((32, 32, 3), np.uint8))
