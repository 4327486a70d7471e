"""Opening an ONNX model for inference: one onnxruntime session, set up the same way for every model
attune runs (CPU provider, a bounded number of threads, quiet logs), with one kind of error."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from attune.errors import ModelFileError


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
    import onnxruntime as ort

    if not Path(path).is_file():
        raise ModelFileError(f'{what} {path} is missing' + (f' ({missing_hint})' if missing_hint else ''))
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(int(threads), 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelFileError(f'cannot load {what} {path}: {exc}') from None
