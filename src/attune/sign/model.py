"""Sign models at run time: ONNX files run with onnxruntime, described by metadata they carry.

Every sign model is an ONNX graph with one input `features` (B, T, 94) float32 and one output
`logits`: (B, C) for an isolated model, (B, T, C + 1) for a continuous (CTC) model with the blank
at index 0. Its metadata property `attune_sign` (JSON) names the task, the vocabulary, the window
length and the feature groups it reads, so a user's own model needs no code change.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attune.errors import ModelFileError
from attune.inference import onnx_session
from attune.resources import package_data
from attune.sign.ctc import log_softmax
from attune.sign.features import FEATURE_DIM

METADATA_KEY = 'attune_sign'
FORMAT = 'attune-sign/1'
Task = Literal['isolated', 'continuous']
#: Shipped models: name -> file in attune/models/.
SHIPPED = {
    'asl_alphabet': 'sign_asl_alphabet.onnx',
    'kinivi_handshape': 'sign_kinivi_handshape.onnx',
    'kinivi_trajectory': 'sign_kinivi_trajectory.onnx',
    'asl_fingerspelling_ctc': 'sign_asl_fingerspelling_ctc.onnx',
    'kinivi_handshape_ctc': 'sign_kinivi_handshape_ctc.onnx',
}


@dataclass(frozen=True)
class SignModelInfo:
    """What a sign model is: task, vocabulary (glosses), window (isolated: frames per decision;
    continuous: the longest sequence), feature groups read, where it came from, and the torch
    architecture (SignEncoder arguments) that rebuilds it from the ONNX weights."""

    name: str
    task: Task
    glosses: tuple[str, ...]
    window: int
    groups: tuple[str, ...]
    dataset: str = ''
    feature_dim: int = FEATURE_DIM
    architecture: dict[str, Any] = field(default_factory=dict)  # int and float values
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> SignModelInfo:
        data = json.loads(text)
        if data.get('format') != FORMAT:
            raise ValueError(f"unknown sign model format {data.get('format')!r} (expected {FORMAT})")
        data['glosses'] = tuple(data['glosses'])
        data['groups'] = tuple(data['groups'])
        return cls(**data)


def resolve_model(name_or_path: str) -> Path:
    """A shipped model's name ('asl_alphabet', ...) or a path to an .onnx file -> its path.

    Raises:
        ModelFileError: the file does not exist (names it, and the shipped names).
    """
    shipped = name_or_path in SHIPPED
    path = package_data('models', 'resources', SHIPPED[name_or_path]) if shipped else Path(name_or_path).expanduser()
    if not path.is_file():
        raise ModelFileError(f"sign model {path} does not exist (shipped models: {', '.join(SHIPPED)}; "
                             'or give the path of an .onnx written by `attune train sign`)')
    return path


class SignModel:
    """One sign model in onnxruntime (single-threaded: the models are small and the robot's CPU
    is shared). Not thread-safe.

    Raises:
        ModelFileError: missing file, not loadable, or without attune's sign metadata.
    """

    def __init__(self, name_or_path: str, *, threads: int = 1) -> None:
        self.path = resolve_model(name_or_path)
        self._session = onnx_session(self.path, threads=threads, what='sign model')
        meta = self._session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in meta:
            raise ModelFileError(f'{self.path} is not an attune sign model (no {METADATA_KEY!r} metadata)')
        try:
            self.info = SignModelInfo.from_json(meta[METADATA_KEY])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f'{self.path}: bad {METADATA_KEY} metadata: {exc}') from None
        self._input = self._session.get_inputs()[0].name

    @property
    def glosses(self) -> tuple[str, ...]:
        return self.info.glosses

    def logits(self, features: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Raw model output for (B, T, F) or (T, F) features."""
        x = np.asarray(features, dtype=np.float32)
        single = x.ndim == 2
        if single:
            x = x[None]
        if x.ndim != 3 or x.shape[2] != self.info.feature_dim:
            raise ValueError(f'features must be (B, T, {self.info.feature_dim}), got {x.shape}')
        out: npt.NDArray[Any] = self._session.run(None, {self._input: np.ascontiguousarray(x)})[0]
        return out[0] if single else out

    def probabilities(self, window: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Isolated model: (C,) gloss probabilities of one (T, F) window (or (B, C) for a batch)."""
        logits = self.logits(window)
        probabilities: npt.NDArray[Any] = np.exp(log_softmax(logits.astype(np.float64)))
        return probabilities

    def log_probs(self, sequence: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Continuous model: (T, C + 1) frame log-probabilities of one (T, F) sequence."""
        if len(sequence) > self.info.window:
            raise ValueError(f'sequence of {len(sequence)} frames is longer than the model accepts '
                             f'({self.info.window})')
        return log_softmax(self.logits(sequence).astype(np.float64))
