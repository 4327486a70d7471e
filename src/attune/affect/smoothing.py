"""Temporal smoothing of emotion probabilities per face track (no rclpy)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.errors import ConfigError


@dataclass
class _State:
    stamp_ns: int
    mean: npt.NDArray[Any]


class TrackSmoother:
    """An exponential moving average per track, on the image stamps' time scale:

        p_t = p_prev + alpha (x_t - p_prev),  alpha = 1 - exp(-(t - t_prev) / tau)

    so smoothing does not depend on the frame or inference rate. tau_s = 0 passes values through.
    A track not updated for forget_s seconds starts afresh (and is dropped by `forget_older_than`), and
    so does one whose stamps jump back by more than forget_s (a bag replay looping). A stamp slightly
    older than the track's last one is not averaged in (out of order) and returns the current mean.
    """

    def __init__(self, tau_s: float = 0.5, forget_s: float = 5.0) -> None:
        if tau_s < 0 or forget_s <= 0 or not math.isfinite(tau_s):
            raise ConfigError(f'tau_s must be >= 0 and forget_s > 0, got {tau_s} and {forget_s}')
        self.tau_s = tau_s
        self.forget_s = forget_s
        self._tracks: dict[str, _State] = {}

    def update(self, track: str, stamp_ns: int, probabilities: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The smoothed probabilities of `track` after adding one observation (sums to 1)."""
        x = np.asarray(probabilities, dtype=np.float64)
        state = self._tracks.get(track)
        if state is None or abs(stamp_ns - state.stamp_ns) * 1e-9 > self.forget_s:
            self._tracks[track] = _State(stamp_ns, x.copy())
            return _unit_sum(x)
        dt = (stamp_ns - state.stamp_ns) * 1e-9
        if dt < 0:
            return _unit_sum(state.mean)
        alpha = 1.0 if self.tau_s == 0 else 1.0 - math.exp(-dt / self.tau_s)
        state.mean = state.mean + alpha * (x - state.mean)
        state.stamp_ns = stamp_ns
        return _unit_sum(state.mean)

    def forget_older_than(self, stamp_ns: int) -> None:
        """Drop tracks not updated within forget_s before stamp_ns."""
        limit = stamp_ns - int(self.forget_s * 1e9)
        for track in [t for t, s in self._tracks.items() if s.stamp_ns < limit]:
            del self._tracks[track]

    def tracks(self) -> tuple[str, ...]:
        return tuple(self._tracks)


def _unit_sum(v: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """v scaled to sum to 1, as float32."""
    return np.asarray(v / float(v.sum()), dtype=np.float32)
