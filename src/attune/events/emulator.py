"""An event-camera emulator: frames in, DVS events out (ESIM / v2e style, numpy only, no rclpy).

Each pixel keeps a reference log intensity; when the current log intensity moves a contrast
threshold away from it, the pixel fires an ON (brightness up) or OFF (down) event and the reference
moves by one threshold, so a large change fires several events. Between two frames the log
intensity is taken to change linearly, and each event gets the time at which that line crosses its
threshold level (the interpolation ESIM and v2e use). Realism comes from four effects of real DVS
pixels, each a parameter:

- threshold mismatch: every pixel draws its ON and OFF thresholds once, N(threshold, sigma);
- refractory period: a pixel that fired stays silent for `refractory_s`; crossings in that time
  are lost (the reference still moves, as the pixel is held in reset);
- leak events: the reference creeps down by `leak_hz` thresholds per second, so each pixel fires
  spontaneous ON events at about that rate (random phase per pixel);
- shot noise: ON and OFF events at random pixels and times, `shot_noise_hz` per pixel.

Intensities go through v2e's lin-log curve (linear below 20 of 255, logarithmic above), so dark
pixels do not amplify sensor noise into events. Not modelled: the photoreceptor low-pass filter
(bandwidth that drops with light), motion blur in the frames, and sub-frame motion that is not
linear in log intensity.

References: Rebecq et al., "ESIM: an open event camera simulator", CoRL 2018; Hu et al., "v2e: from
video frames to realistic DVS events", CVPRW 2021.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from attune.events.errors import EventError
from attune.events.types import EventArray

#: Events as arrays: x, y, t (ns), polarity.
_Events = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]

#: Below this intensity (of 255) v2e's lin-log curve is linear.
LIN_LOG_KNEE = 20.0


@dataclass(frozen=True)
class EmulatorOptions:
    """Parameters of the DVS pixel model (defaults: a clean modern sensor, v2e-like).

    pos_threshold, neg_threshold: contrast thresholds in log intensity (0.2 ~ 22 % brightness change).
    threshold_sigma: standard deviation of the per-pixel thresholds (fixed-pattern mismatch).
    refractory_s: dead time of a pixel after it fires.
    leak_hz: spontaneous ON events per pixel per second.
    shot_noise_hz: random ON/OFF noise events per pixel per second.
    max_events_per_frame: most events one pixel fires between two frames (guards huge jumps).
    seed: seeds the threshold draw and the noise.
    """

    pos_threshold: float = 0.2
    neg_threshold: float = 0.2
    threshold_sigma: float = 0.03
    refractory_s: float = 0.001
    leak_hz: float = 0.1
    shot_noise_hz: float = 0.1
    max_events_per_frame: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ('pos_threshold', 'neg_threshold'):
            if not 0.01 <= getattr(self, name) <= 5.0:
                raise EventError(f'{name} must be in [0.01, 5], got {getattr(self, name)!r}')
        for name in ('threshold_sigma', 'refractory_s', 'leak_hz', 'shot_noise_hz'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise EventError(f'{name} must be a non-negative number, got {value!r}')
        if self.max_events_per_frame < 1:
            raise EventError(f'max_events_per_frame must be at least 1, got {self.max_events_per_frame}')


def lin_log(intensity: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """v2e's lin-log curve of intensities in [0, 255]: linear below LIN_LOG_KNEE, log above,
    continuous at the knee. Returns float32."""
    i = np.asarray(intensity, dtype=np.float32)
    knee = np.float32(LIN_LOG_KNEE)
    return np.where(i <= knee, i * (np.log(knee) / knee), np.log(np.maximum(i, knee))).astype(np.float32)


class EventEmulator:
    """Turns a stream of grey frames of one fixed size into events (one instance per camera or face).

    Example:
        emulator = EventEmulator(48, 48, EmulatorOptions(seed=1))
        emulator.step(frame0, t0_ns)        # the first frame sets the references: no events
        events = emulator.step(frame1, t1_ns)

    Frames are (height, width) intensities in [0, 255] (uint8 or float), times strictly increasing.
    """

    def __init__(self, width: int, height: int, options: EmulatorOptions | None = None) -> None:
        if width <= 0 or height <= 0:
            raise EventError(f'emulator size must be positive, got {width}x{height}')
        self.width, self.height = int(width), int(height)
        self.options = options or EmulatorOptions()
        self.reset()

    def reset(self) -> None:
        """Forget the references (the next frame starts a new stream) and redraw the thresholds."""
        o = self.options
        self._rng = np.random.default_rng(o.seed)
        shape = (self.height, self.width)
        self._pos = np.maximum(self._rng.normal(o.pos_threshold, o.threshold_sigma, shape), 0.01).astype(np.float32)
        self._neg = np.maximum(self._rng.normal(o.neg_threshold, o.threshold_sigma, shape), 0.01).astype(np.float32)
        self._ref: npt.NDArray[Any] | None = None
        self._prev: npt.NDArray[Any] | None = None
        self._prev_t = 0
        self._last_fire = np.full(shape, np.iinfo(np.int64).min // 2, dtype=np.int64)

    @property
    def started(self) -> bool:
        return self._ref is not None

    @property
    def last_stamp_ns(self) -> int | None:
        return self._prev_t if self._ref is not None else None

    def step(self, frame: npt.NDArray[Any], t_ns: int) -> EventArray:
        """The events between the previous frame and this one (at t_ns); none for the first frame.

        Raises:
            EventError: the frame has the wrong shape or non-finite values, or t_ns is not after the
                previous frame's time (the emulator state is unchanged then).
        """
        frame = np.asarray(frame)
        if frame.shape != (self.height, self.width):
            raise EventError(f'frame of shape {frame.shape} given to a {self.width}x{self.height} emulator')
        log_i = lin_log(frame)
        if not np.all(np.isfinite(log_i)):
            raise EventError('frame holds NaN or infinite intensities')
        t_ns = int(t_ns)
        if self._ref is None:
            self._start(log_i, t_ns)
            return EventArray.empty(self.width, self.height)
        if t_ns <= self._prev_t:
            raise EventError(f'frame time {t_ns} ns is not after the previous frame ({self._prev_t} ns)')
        o = self.options
        dt_ns = t_ns - self._prev_t
        dt_s = dt_ns * 1e-9
        if o.leak_hz > 0:
            self._ref -= np.float32(o.leak_hz * dt_s) * self._pos
        d0 = self._prev - self._ref
        d1 = log_i - self._ref
        parts = [self._crossings(d0, d1, +1, dt_ns), self._crossings(d0, d1, -1, dt_ns)]
        if o.shot_noise_hz > 0:
            parts.append(self._shot_noise(dt_ns))
        self._prev, self._prev_t = log_i, t_ns
        x, y, t, p = (np.concatenate([part[i] for part in parts]) for i in range(4))
        order = np.argsort(t, kind='stable')
        return EventArray(x[order].astype(np.uint16), y[order].astype(np.uint16), t[order], p[order],
                          self.width, self.height)

    def _start(self, log_i: npt.NDArray[Any], t_ns: int) -> None:
        self._ref = log_i.copy()
        if self.options.leak_hz > 0:  # random leak phase, so spontaneous events are not synchronous
            self._ref -= self._rng.uniform(0.0, 1.0, log_i.shape).astype(np.float32) * self._pos
        self._prev, self._prev_t = log_i, t_ns

    def _crossings(self, d0: npt.NDArray[Any], d1: npt.NDArray[Any], sign: int, dt_ns: int) -> _Events:
        """Events of one polarity: every threshold level crossed between d0 (previous frame, relative
        to the reference) and d1 (this frame), timed by linear interpolation; updates the state."""
        threshold = self._pos if sign > 0 else self._neg
        counts = np.floor(sign * d1 / threshold).astype(np.int64)
        counts = np.clip(counts, 0, self.options.max_events_per_frame)
        rows, cols = np.nonzero(counts)
        none = np.zeros(0, np.int64)
        empty: _Events = (none, none, none, np.zeros(0, np.uint8))
        if rows.size == 0:
            return empty
        n = counts[rows, cols]
        ref = self._ref
        if ref is None:  # _start runs before the first crossing; kept for the type
            return empty
        ref[rows, cols] += sign * n * threshold[rows, cols]  # the pixel resets once per level crossed
        a, b, th = sign * d0[rows, cols], sign * d1[rows, cols], threshold[rows, cols]
        span = np.where(b - a > 1e-6, b - a, np.inf)
        refractory_ns = int(self.options.refractory_s * 1e9)
        xs, ys, ts = [], [], []
        for k in range(1, int(n.max()) + 1):  # one pass per level: refractory is sequential per pixel
            active = np.nonzero(n >= k)[0]
            frac = np.clip((k * th[active] - a[active]) / span[active], 0.0, 1.0)
            frac = np.where(np.isinf(span[active]), 1.0, frac)
            t = self._prev_t + np.round(frac * dt_ns).astype(np.int64)
            r, c = rows[active], cols[active]
            keep = t - self._last_fire[r, c] >= refractory_ns
            r, c, t = r[keep], c[keep], t[keep]
            self._last_fire[r, c] = t
            xs.append(c)
            ys.append(r)
            ts.append(t)
        x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
        return x, y, t, np.full(t.shape, 1 if sign > 0 else 0, np.uint8)

    def _shot_noise(self, dt_ns: int) -> _Events:
        rate = self.options.shot_noise_hz * self.width * self.height * dt_ns * 1e-9
        count = int(self._rng.poisson(rate))
        x = self._rng.integers(0, self.width, count)
        y = self._rng.integers(0, self.height, count)
        t = self._prev_t + self._rng.integers(1, dt_ns + 1, count)
        p = self._rng.integers(0, 2, count).astype(np.uint8)
        return x, y, t, p
