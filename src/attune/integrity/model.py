"""The shipped stream-guard model: a logistic regression on standardized evidence features.

score = sigmoid(intercept + sum_i coef_i * (x_i - mean_i) / scale_i), the probability-like
live-camera score; a feature that cannot be measured (NaN) counts as its training mean. The
reasons are the features with the largest contributions against liveness (or, for a live
verdict, for it), in words. Coefficients and the threshold live in models/resources/stream_guard.json (card:
models/resources/stream_guard.md), written by attune.integrity.training.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.integrity.evidence import FEATURES
from attune.model_files import loading

MODEL_PATH = Path(__file__).resolve().parent.parent / 'models' / 'resources' / 'stream_guard.json'

#: What a feature's value says, in words (formatted with the raw value x).
_TEXT: dict[str, Callable[[float], str]] = {
    'log_jitter_ms': lambda x: f'stamp jitter {10 ** x - 0.001:.3f} ms',
    'log_latency_ms': lambda x: f'stamp-to-receive latency {10 ** x - 0.01:.1f} ms',
    'log_latency_jitter_ms': lambda x: f'latency jitter {10 ** x - 0.001:.3f} ms',
    'rate_change': lambda x: f'frame rate changed by a factor {10 ** x:.2f}',
    'geometry_changes': lambda x: f'frame_id or size changed in {100 * x:.0f} % of frames',
    'camera_info_mismatch': lambda x: 'camera_info missing or not matching the images' if x else 'camera_info matches',
    'publisher_player': lambda x: 'publisher is a player or replay' if x else 'publisher is not a player',
    'publisher_unknown': lambda x: 'publisher is not a known camera driver' if x else 'publisher is a camera driver',
    'extra_publishers': lambda x: 'more than one node publishes the topic' if x else 'a single publisher',
    'repeat_fraction': lambda x: f'{100 * x:.0f} % of frames repeat the previous one',
    'loop_fraction': lambda x: f'{100 * x:.0f} % of frames repeat an earlier frame (loop)',
    'log_residual_std': lambda x: f'noise residual {10 ** x - 0.05:.2f} gray levels',
    'log_noise_floor': lambda x: f'temporal noise floor {10 ** x - 0.05:.2f} gray levels',
    'residual_corr': lambda x: f'consecutive noise residuals correlate {x:.2f}',
    'blockiness': lambda x: f'8x8 blockiness {1 + x:.2f} (re-encoding)',
    'noise_floor_change': lambda x: f'noise floor first vs second half of the window: factor {10 ** x:.1f}',
}


@dataclass(frozen=True)
class StreamVerdict:
    score: float                       # in [0, 1]; NaN when not judged
    live: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class StreamGuardModel:
    features: tuple[str, ...]
    mean: npt.NDArray[Any]
    scale: npt.NDArray[Any]
    coef: npt.NDArray[Any]
    intercept: float
    threshold: float

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> StreamGuardModel:
        """The model in `path` (ModelFileError naming it when it is missing or unreadable)."""
        with loading('stream guard model', path):
            data = json.loads(Path(path).read_text())
            if tuple(data['features']) != FEATURES:
                raise ValueError(f'features {data["features"]} do not match this code ({list(FEATURES)})')
            return cls(tuple(data['features']), np.asarray(data['mean'], float), np.asarray(data['scale'], float),
                       np.asarray(data['coef'], float), float(data['intercept']), float(data['threshold']))

    def to_dict(self) -> dict[str, Any]:
        return {'features': list(self.features), 'mean': self.mean.tolist(), 'scale': self.scale.tolist(),
                'coef': self.coef.tolist(), 'intercept': self.intercept, 'threshold': self.threshold}

    def contributions(self, values: dict[str, float]) -> npt.NDArray[Any]:
        x = np.array([values[f] for f in self.features], dtype=np.float64)
        z = np.where(np.isfinite(x), (x - self.mean) / self.scale, 0.0)
        out: npt.NDArray[Any] = self.coef * np.clip(z, -20.0, 20.0)
        return out

    def score(self, values: dict[str, float]) -> float:
        logit = self.intercept + float(self.contributions(values).sum())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))

    def verdict(self, values: dict[str, float], top: int = 3) -> StreamVerdict:
        contrib = self.contributions(values)
        score = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, self.intercept + float(contrib.sum())))))
        live = score >= self.threshold
        order = np.argsort(-contrib if live else contrib)
        reasons = tuple(_TEXT[self.features[i]](values[self.features[i]]) for i in order[:top]
                        if (contrib[i] > 0) == live and contrib[i] != 0 and math.isfinite(values[self.features[i]]))
        return StreamVerdict(score, live, reasons)
