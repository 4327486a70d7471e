"""Per-child neutral baseline of the emotion model's output (no rclpy).

People's relaxed faces read differently: one child's resting face may look "sad" to a model trained on
adults. The baseline is the per-class median of the model's probabilities over the first `duration_s`
seconds a face is tracked (therapists start a session with the child settled; docs/asd_emotion.md),
and afterwards every output is corrected toward what the model gives a neutral training face:

    p'(c) ~ p(c) * clip(r(c) / b(c), 1 / max_gain, max_gain),  then renormalized,

with b the child's baseline and r the reference (the model's mean output on neutral training faces,
stored in the ONNX metadata). A child whose resting face reads like an average neutral adult face is
left unchanged. Baselines belong to face tracks; `link(track, child)` ties a track to a child (the
name of a name call), so a child whose track was lost and found again under a new id keeps the
baseline, and a child first seen without calibration adopts the one made earlier.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError


@dataclass
class Baseline:
    """A finished baseline: per-class median probabilities, from `samples` outputs between two stamps."""

    probabilities: npt.NDArray[Any]
    samples: int
    start_ns: int
    end_ns: int


@dataclass
class _Collecting:
    start_ns: int
    values: list[npt.NDArray[Any]] = field(default_factory=list)


class NeutralCalibration:
    """See the module docstring.

    Args:
        reference: (C,) the model's mean output on neutral faces.
        duration_s: how long after a track's first output its baseline is collected; 0 disables.
        min_samples: fewer outputs than this in that time: collecting continues until there are.
        max_gain: largest correction factor per class (and 1/max_gain the smallest).
    """

    def __init__(self, reference: npt.NDArray[Any], duration_s: float = 5.0, min_samples: int = 10,
                 max_gain: float = 4.0) -> None:
        if duration_s < 0 or min_samples < 1 or max_gain < 1:
            raise ConfigError(f'calibration needs duration_s >= 0, min_samples >= 1, max_gain >= 1; got '
                              f'{duration_s}, {min_samples}, {max_gain}')
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim != 1 or not np.all(reference > 0):
            raise ConfigError('the calibration reference must be a positive probability vector')
        self.reference = reference / reference.sum()
        self.duration_s = duration_s
        self.min_samples = min_samples
        self.max_gain = max_gain
        self._collecting: dict[str, _Collecting] = {}
        self._baselines: dict[str, Baseline] = {}
        self._children: dict[str, Baseline] = {}
        self._child_of: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.duration_s > 0

    def observe(self, track: str, stamp_ns: int, probabilities: npt.NDArray[Any]) -> Baseline | None:
        """Add one raw output of `track`; returns the baseline when this output completed it."""
        if not self.enabled or track in self._baselines:
            return None
        state = self._collecting.setdefault(track, _Collecting(stamp_ns))
        state.values.append(np.asarray(probabilities, dtype=np.float64))
        if (stamp_ns - state.start_ns) * 1e-9 >= self.duration_s and len(state.values) >= self.min_samples:
            median = np.median(np.stack(state.values), axis=0)
            median = np.clip(median, 1e-4, None)
            baseline = Baseline(median / median.sum(), len(state.values), state.start_ns, stamp_ns)
            self._baselines[track] = baseline
            del self._collecting[track]
            child = self._child_of.get(track)
            if child and child not in self._children:
                self._children[child] = baseline
            return baseline
        return None

    def apply(self, track: str, probabilities: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Probabilities corrected by the track's baseline (unchanged until it has one)."""
        baseline = self._baselines.get(track)
        p = np.asarray(probabilities, dtype=np.float64)
        if baseline is None:
            return p.astype(np.float32)
        gain = np.clip(self.reference / baseline.probabilities, 1.0 / self.max_gain, self.max_gain)
        q = p * gain
        out: npt.NDArray[Any] = (q / q.sum()).astype(np.float32)
        return out

    def baseline(self, track: str) -> Baseline | None:
        return self._baselines.get(track)

    def status(self, track: str) -> str:
        """'off', 'calibrating' or 'calibrated'."""
        if not self.enabled:
            return 'off'
        return 'calibrated' if track in self._baselines else 'calibrating'

    def link(self, track: str, child: str) -> Baseline | None:
        """Tie `track` to `child`: the track adopts the child's baseline, or gives it its own.

        Returns the baseline now shared, if any."""
        if not child:
            return self._baselines.get(track)
        self._child_of[track] = child
        known = self._children.get(child)
        if known is not None:
            self._baselines[track] = known
            self._collecting.pop(track, None)
            return known
        own = self._baselines.get(track)
        if own is not None:
            self._children[child] = own
        return own

    def forget(self, track: str) -> None:
        self._collecting.pop(track, None)
        self._baselines.pop(track, None)
        self._child_of.pop(track, None)
