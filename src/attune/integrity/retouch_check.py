"""The shipped retouch check: is a face photo likely retouched? (onnxruntime, no torch).

score: the model's probability-like output in [0, 1]; likely_retouched: score >= the shipped
threshold (set for about 5 % of unretouched training photos flagged). reasons: the features whose
replacement by their training mean lowers the score most, in words (an occlusion test on the model,
so it explains the MLP without assuming it is linear). Model: models/resources/retouch.onnx, card
models/resources/retouch.md, made by `attune train retouch`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity.retouch_features import FEATURES, retouch_features

MODEL_PATH = Path(__file__).resolve().parent.parent / 'models' / 'resources' / 'retouch.onnx'
METADATA_KEY = 'attune_retouch'

#: What a feature says when it pushes the score up.
_TEXT = {
    'skin_fine': 'little fine skin texture',
    'skin_mid': 'little skin texture at pore scale',
    'fine_ratio': 'skin much smoother than the rest of the photo',
    'mid_ratio': 'skin texture weaker than hair and background',
    'skin_fine_over_mid': 'fine skin detail removed (edge-preserving smoothing)',
    'skin_low_tail': 'small textureless patches on the skin (inpainted spots)',
    'skin_flat_fraction': 'flat patches on the skin',
    'eye_resampling': 'pixels around the eyes look resampled (a warp)',
    'jaw_resampling': 'pixels along the jaw look resampled (a warp)',
    'eye_width': 'eyes unusually wide for the face',
    'eye_area': 'eyes unusually large for the face',
    'iris_size': 'irises unusually large for the face',
    'jaw_width': 'jaw unusually narrow or wide for the face',
    'lower_face_width': 'lower face unusually narrow or wide',
    'skin_saturation': 'unusual skin saturation',
    'skin_a': 'unusual skin tint (red-green)',
    'skin_b': 'unusual skin tint (yellow-blue)',
    'contrast': 'unusual contrast',
    'clipped': 'clipped shadows or highlights',
    'histogram_comb': 'gaps in the colour histogram (tone curves)',
    'red_green': 'colour balance shifted (red-green)',
    'blue_green': 'colour balance shifted (blue-yellow)',
}


@dataclass(frozen=True)
class RetouchVerdict:
    score: float
    likely_retouched: bool
    reasons: tuple[str, ...]


class RetouchCheck:
    """The retouch model in onnxruntime, with its threshold and imputation means from the file's metadata.

    Raises:
        ModelFileError: the file is missing or cannot be loaded.
        ValueError: the file was made for other features than this code computes.
    """

    def __init__(self, path: str | Path = MODEL_PATH, threads: int = 1) -> None:
        from attune.inference import onnx_session

        self.path = Path(path)
        self._session = onnx_session(self.path, threads=threads, what='retouch model',
                                     missing_hint='train one with `attune train retouch`')
        meta = json.loads(self._session.get_modelmeta().custom_metadata_map[METADATA_KEY])
        if tuple(meta['features']) != FEATURES:
            raise ValueError(f'{path}: made for features {meta["features"]}, this code has {list(FEATURES)}')
        self.metadata = meta
        self.mean = np.asarray(meta['mean'], np.float64)
        self.threshold = float(meta['threshold'])

    def scores(self, features: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Scores (N,) of feature rows (N, F); NaN features count as their training mean."""
        x = np.atleast_2d(np.asarray(features, np.float64))
        x = np.where(np.isfinite(x), x, self.mean[None, :]).astype(np.float32)
        out: npt.NDArray[Any] = self._session.run(['scores'], {'features': x})[0]
        return out.astype(np.float64)

    def verdict(self, features: npt.NDArray[Any], top: int = 3) -> RetouchVerdict:
        x = np.asarray(features, np.float64).reshape(1, -1)
        # Row 0: as measured; row 1 + i: feature i replaced by its training mean.
        probes = np.repeat(x, len(FEATURES) + 1, axis=0)
        probes[1 + np.arange(len(FEATURES)), np.arange(len(FEATURES))] = self.mean
        scores = self.scores(probes)
        score, drop = float(scores[0]), scores[0] - scores[1:]
        likely = score >= self.threshold
        order = np.argsort(-drop)
        reasons = tuple(_TEXT[FEATURES[i]] for i in order[:top] if drop[i] > 0.02)
        return RetouchVerdict(score, likely, reasons)

    def check_photo(self, rgb: npt.NDArray[Any], landmarks_px: npt.NDArray[Any]) -> RetouchVerdict:
        """Verdict on an RGB uint8 photo whose face has FaceMesh landmarks `landmarks_px` (pixels)."""
        return self.verdict(retouch_features(rgb, landmarks_px))
