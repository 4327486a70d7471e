"""Opening an ONNX model for inference: one onnxruntime session, set up the same way for every model
attune runs (CPU provider, a bounded number of threads, quiet logs), with one kind of error.

onnxruntime's Linux wheels carry Microsoft's 1DS telemetry client, which on import writes a device id
and a usage database under $XDG_CACHE_HOME (or ~/.cache)/Microsoft/DeveloperTools/.onnxruntime and
offers no switch for those files (disable_telemetry_events() only stops events). attune imports
onnxruntime through ort() below, which points that cache at a path that cannot be created for the
import (the client then keeps its id in memory) and switches telemetry events off: nothing is
written to the user's folders.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from attune.model_files import loading

#: Where onnxruntime's telemetry client is told to keep its files while it is imported: under /proc,
#: so it cannot create them (not even as root).
_NO_TELEMETRY_CACHE = '/proc/attune-onnxruntime-telemetry-off'


def ort() -> Any:
    """The onnxruntime module, imported without its telemetry files and with telemetry events off.

    Must be the first import of onnxruntime in the process to keep the files away (attune code
    imports it only through here)."""
    if 'onnxruntime' in sys.modules:
        return sys.modules['onnxruntime']
    saved = os.environ.get('XDG_CACHE_HOME')
    os.environ['XDG_CACHE_HOME'] = _NO_TELEMETRY_CACHE
    stderr_fd = _silence_stderr()  # the client warns that it keeps its device id in memory
    try:
        import onnxruntime
    finally:
        _restore_stderr(stderr_fd)
        if saved is None:
            os.environ.pop('XDG_CACHE_HOME', None)
        else:
            os.environ['XDG_CACHE_HOME'] = saved
    onnxruntime.disable_telemetry_events()
    return onnxruntime


def _silence_stderr() -> int | None:
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        return saved
    except (OSError, ValueError, AttributeError):
        return None


def _restore_stderr(saved: int | None) -> None:
    if saved is not None:
        os.dup2(saved, 2)
        os.close(saved)


def onnx_session(path: Path, *, threads: int = 1, what: str = 'model', missing_hint: str = '') -> Any:
    """An onnxruntime InferenceSession for `path`.

    Args:
        path: the ONNX file.
        threads: intra-op threads (1 keeps a node from competing with MediaPipe on a small CPU).
        what: the model's name in error messages ('sign model', 'ASD emotion model', ...).
        missing_hint: added to the message when the file does not exist (how to make one).

    Raises:
        ModelFileError: the file is missing or onnxruntime cannot load it.
    """
    runtime = ort()
    with loading(what, path, missing_hint=missing_hint):
        options = runtime.SessionOptions()
        options.intra_op_num_threads = max(int(threads), 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        return runtime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
