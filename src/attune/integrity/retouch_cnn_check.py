"""The retouch CNN at run time (onnxruntime, no torch): is a face photo likely retouched?

score: the mean logit of the photo's face patches (attune.integrity.retouch_patches, the same grid
as in training); likely_retouched: score >= the threshold in the file's metadata (about 5 % of the
training persons' unretouched photos flagged, on out-of-fold scores). Made by `attune train
retouch-cnn`; an option next to the shipped feature model (attune.integrity.retouch_check), see
models/resources/retouch.md for how the two compare.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity import retouch_patches as rp
from attune.integrity.retouch_check import RetouchVerdict

METADATA_KEY = 'attune_retouch_cnn'


class RetouchCNNCheck:
    """The CNN in onnxruntime, with its threshold and patch grid from the file's metadata.

    Raises:
        ModelFileError: the file is missing or cannot be loaded.
        ValueError: the file was made for another patch grid than this code samples.
    """

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        from attune.inference import onnx_session

        self.path = Path(path)
        self._session = onnx_session(self.path, threads=threads, what='retouch CNN',
                                     missing_hint='train one with `attune train retouch-cnn`')
        meta = json.loads(self._session.get_modelmeta().custom_metadata_map[METADATA_KEY])
        grid = (meta['patch'], meta['step'], meta['max_patches'])
        if grid != (rp.PATCH, rp.STEP, rp.MAX_PATCHES):
            raise ValueError(f'{path}: made for patch/step/max {grid}, this code samples '
                             f'{(rp.PATCH, rp.STEP, rp.MAX_PATCHES)}')
        self.metadata = meta
        self.threshold = float(meta['threshold'])

    def patch_logits(self, patches: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        """Logits (N,) of uint8 YCbCr patches (N, 3, PATCH, PATCH)."""
        x = np.ascontiguousarray(patches, dtype=np.float32)
        out: npt.NDArray[Any] = self._session.run(['logits'], {'patches': x})[0]
        return out.astype(np.float64).reshape(-1)

    def score(self, rgb: npt.NDArray[Any], landmarks_px: npt.NDArray[Any]) -> float:
        """The photo's score (mean patch logit); NaN when no patch fits inside the face."""
        patches = rp.face_patches(rgb, landmarks_px)
        return float(self.patch_logits(patches).mean()) if len(patches) else float('nan')

    def check_photo(self, rgb: npt.NDArray[Any], landmarks_px: npt.NDArray[Any]) -> RetouchVerdict:
        """Verdict on an RGB uint8 photo whose face has FaceMesh landmarks `landmarks_px` (pixels)."""
        score = self.score(rgb, landmarks_px)
        likely = bool(np.isfinite(score) and score >= self.threshold)
        reasons = ('face patches carry editing traces in their high-pass residual',) if likely else ()
        return RetouchVerdict(score, likely, reasons)
